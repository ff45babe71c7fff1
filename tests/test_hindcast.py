"""``ocean hindcast`` end to end on a tiny cube and model; pooled scores, climatology, regions, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from conftest import SHARED_DATA, make_tiny_ocean
from forecast_fixtures import LEVELS, synthetic_cube, tiny_model
from ocean.cli import main
from ocean.errors import ConfigError, DataError
from ocean.forecast_store import forecast_path, list_forecasts
from ocean.grid import Grid, Region
from ocean.levels import Levels
from ocean.store import quiet_zarr
from ocean.metrics import (climatology_at, combine_scores, daily_climatology, fit_harmonic_climatology,
                           harmonic_climatology_at, partial_scores, region_masks, regions_from_config, score)

ARGO = SHARED_DATA / "argo" / "2902269_prof.nc"  # profiles on 2020-01-08 and 2020-01-18: inside the tiny cube


@pytest.fixture(scope="module")
def model_and_cube(tmp_path_factory):
    base = tmp_path_factory.mktemp("hc")
    cube = synthetic_cube(base / "cube.zarr")
    return tiny_model(cube, base), cube


@pytest.fixture(scope="module")
def regions_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "regions.yaml"
    path.write_text("regions:\n"
                    "  north_atlantic: {lon_min: -80, lon_max: 0, lat_min: 30, lat_max: 65}\n"
                    "  dateline: {lon_min: 150, lon_max: -150, lat_min: -30, lat_max: 30}\n")
    return path


def _hindcast(model, cube, out, *extra, start="2020-01-01", end="2020-01-05"):
    return main(["hindcast", "--model", str(model), "--cube", str(cube), "--start", start, "--end", end,
                 "--every", "2D", "--leads", "4", "--out", str(out), *extra])


@pytest.fixture(scope="module")
def hindcast_dir(model_and_cube, regions_file, tmp_path_factory):
    model, cube = model_and_cube
    out = tmp_path_factory.mktemp("run") / "hc"
    argo = ["--argo", str(ARGO)] if ARGO.exists() else []
    assert _hindcast(model, cube, out, "--regions-config", str(regions_file), *argo) == 0
    return out


def test_end_to_end_writes_metrics_pictures_and_report(hindcast_dir):
    names = sorted(p.name for p in hindcast_dir.iterdir())
    for f in ("metrics.nc", "scorecard.png", "lead_curves.png", "report.md", "forecasts", "climatology.nc"):
        assert f in names
    assert [p.name for p in list_forecasts(hindcast_dir / "forecasts")] == [
        "forecast_2020-01-01.zarr", "forecast_2020-01-03.zarr", "forecast_2020-01-05.zarr"]
    m = xr.open_dataset(hindcast_dir / "metrics.nc")
    assert m.thetao.dims == ("system", "metric", "region", "lead_time", "depth")
    assert m.zos.dims == ("system", "metric", "region", "lead_time")
    assert list(m.system.values) == ["model", "persistence", "climatology"]
    assert list(m.metric.values) == ["rmse", "bias", "acc"]
    # Defaults without the Nino3.4 box (no 22.5-degree cell centre in it), then the config's boxes.
    assert list(m.region.values) == ["global", "tropics", "kuroshio", "gulf_stream", "north_atlantic", "dateline"]
    assert {"mld", "ugos", "vgos"} <= set(m.data_vars)
    assert m.sizes["lead_time"] == 4 and list(m.depth.values) == list(LEVELS.depths)
    rmse = m.thetao.sel(metric="rmse")
    assert np.isfinite(rmse.sel(system=["model", "persistence"])).all()
    assert float(rmse.sel(system="persistence", region="global", depth=0.5).isel(lead_time=0)) > 0
    acc = m.thetao.sel(metric="acc", region="global", depth=0.5)
    assert np.isfinite(acc.sel(system="model")).all() and np.isnan(acc.sel(system="climatology")).all()
    report = (hindcast_dir / "report.md").read_text()
    assert "## RMSE, global" in report and "| thetao 0.5 m (degrees_C) | 1 |" in report
    assert "model vs persistence" in report and "north_atlantic" in report and "dateline" in report


def test_class4_against_a_real_argo_float(hindcast_dir):
    if not ARGO.exists():
        pytest.skip(f"real Argo sample not found at {ARGO}")
    c4 = xr.open_dataset(hindcast_dir / "class4.nc")
    assert list(c4.system.values) == ["model", "persistence"]
    assert int(c4.thetao_count.sel(system="model").sum()) > 0
    assert "Class-4 (Argo)" in (hindcast_dir / "report.md").read_text()


def test_rerun_reuses_forecasts_and_wires_enso(hindcast_dir, model_and_cube, regions_file, monkeypatch, capsys):
    import downstream.enso.evaluate as enso_eval

    model, cube = model_and_cube
    stamps = {p: (p / "zarr.json").stat().st_mtime_ns for p in list_forecasts(hindcast_dir / "forecasts")}
    fake = xr.Dataset({"acc": (("system", "lead_time"), [[0.9, 0.8], [0.7, 0.5], [0.7, 0.6]]),
                       "rmse": (("system", "lead_time"), [[0.3, 0.4], [0.5, 0.6], [0.4, 0.5]])},
                      coords={"system": ["model", "persistence", "damped_persistence"], "lead_time": [1, 2]},
                      attrs={"test_period": "2180-01-01/2249-12-31", "starts": 3})
    calls = []
    monkeypatch.setattr(enso_eval, "enso_hindcast", lambda **kw: calls.append(kw) or fake)
    before = xr.open_dataset(hindcast_dir / "metrics.nc").load()
    assert _hindcast(model, cube, hindcast_dir, "--regions-config", str(regions_file), "--enso") == 0
    assert "3 exists" in capsys.readouterr().out
    assert {p: (p / "zarr.json").stat().st_mtime_ns for p in stamps} == stamps
    xr.testing.assert_allclose(before.thetao, xr.open_dataset(hindcast_dir / "metrics.nc").thetao)
    assert calls and calls[0]["out_dir"] == hindcast_dir / "enso" and calls[0]["stride"] == 3
    assert "ENSO head" in (hindcast_dir / "report.md").read_text()


def test_forecasts_made_by_another_model_are_refused(hindcast_dir, model_and_cube, tmp_path, caplog):
    import shutil

    import zarr

    model, cube = model_and_cube
    out = tmp_path / "hc"
    shutil.copytree(hindcast_dir / "forecasts", out / "forecasts")
    store = forecast_path(out / "forecasts", "2020-01-03")
    with quiet_zarr():
        zarr.open_group(store, mode="r+").attrs["model_sha256"] = "0" * 64
        zarr.consolidate_metadata(str(store))
    assert _hindcast(model, cube, out) == 3
    assert "made differently" in caplog.text and "--force" in caplog.text
    assert not (out / "metrics.nc").exists()


@pytest.mark.parametrize("extra, start, end, message", [
    ((), "2019-12-20", "2020-01-03", "init dates outside the cube"),
    ((), "2020-01-01", "2020-01-11", "valid days of the hindcast outside the cube"),
    (("--regions", "global,speck"), "2020-01-01", "2020-01-03", "unknown region"),
    (("--baselines", "persistence,analogue"), "2020-01-01", "2020-01-03", "unknown baseline"),
])
def test_bad_input_exits_3_and_writes_nothing(model_and_cube, tmp_path, caplog, extra, start, end, message):
    model, cube = model_and_cube
    assert _hindcast(model, cube, tmp_path / "hc", *extra, start=start, end=end) == 3
    assert message in caplog.text
    assert not (tmp_path / "hc").exists()


def test_empty_region_exits_3(model_and_cube, tmp_path, caplog):
    model, cube = model_and_cube
    cfg = tmp_path / "r.yaml"
    cfg.write_text("regions:\n  - {name: speck, lon_min: 1, lon_max: 2, lat_min: 1, lat_max: 2}\n")
    rc = _hindcast(model, cube, tmp_path / "hc", "--regions-config", str(cfg), "--regions", "global,speck")
    assert rc == 3 and "region contains no grid points" in caplog.text and "speck" in caplog.text
    assert not (tmp_path / "hc").exists()


def test_model_or_forecasts_on_other_levels_than_the_cube(model_and_cube, hindcast_dir, tmp_path, caplog):
    from ocean.workflows.hindcast import score_hindcast

    model, _ = model_and_cube
    other = synthetic_cube(tmp_path / "other.zarr", levels=Levels((0.5, 20.0, 100.0)))
    assert _hindcast(model, other, tmp_path / "hc") == 3
    assert "levels" in caplog.text and "[0.5, 10.0, 100.0]" in caplog.text and "[0.5, 20.0, 100.0]" in caplog.text
    assert not (tmp_path / "hc").exists()
    with pytest.raises(DataError, match="different depth"):  # existing forecasts scored against another cube
        score_hindcast(hindcast_dir / "forecasts", other, ["2020-01-01"], 4, None, ["global"])


def test_forecast_with_the_cubes_own_forcing(model_and_cube, tmp_path, caplog):
    from backbone import Forecaster
    from ocean.cube import open_cube
    from ocean.workflows.forecast import ForecastRequest, _CubeSource

    model, cube = model_and_cube
    req = ForecastRequest(init="2020-01-05", model=model, cube=cube, out=tmp_path, leads=3, forcing_from_cube=True)
    tensor, label = _CubeSource(req, Forecaster.load(model)).forcing(3)
    expected = open_cube(cube)["u10"].sel(time=slice("2020-01-06", "2020-01-08")).values
    np.testing.assert_array_equal(tensor[0, :, 0].numpy(), expected)
    assert "the cube's own forcing" in label
    base = ["forecast", "--model", str(model), "--cube", str(cube), "--out", str(tmp_path), "--no-quicklooks"]
    assert main([*base, "--init", "2020-01-05", "--leads", "3", "--forcing-from-cube"]) == 0
    assert xr.open_zarr(forecast_path(tmp_path, "2020-01-05")).attrs["forcing"].startswith("the cube's own forcing")
    assert main([*base, "--init", "2020-01-10", "--leads", "5", "--forcing-from-cube"]) == 3
    assert "does not hold the forcing for every lead" in caplog.text and "2020-01-13" in caplog.text
    with pytest.raises(ConfigError, match="needs --cube and no --forcing"):
        ForecastRequest(init="2020-01-05", forcing_from_cube=True)


# -- library pieces on tiny arrays ----------------------------------------------------------------


def _forecast_like(ref: xr.Dataset, inits, leads: int, noise: float, seed: int = 0) -> xr.Dataset:
    lead = (np.arange(1, leads + 1) * np.timedelta64(1, "D")).astype("timedelta64[ns]")
    valid = xr.DataArray(inits[:, None] + lead[None, :], dims=("init_time", "lead_time"))
    rng = np.random.default_rng(seed)
    fc = xr.Dataset({v: ref[v].sel(time=valid).drop_vars("time") + noise * rng.standard_normal(ref[v].sel(time=valid).shape)
                     for v in ref.data_vars}).assign_coords(init_time=inits, lead_time=lead)
    return fc.assign_coords(valid_time=fc.init_time + fc.lead_time)


def test_scores_pooled_over_blocks_equal_score_on_the_whole_set():
    ref = make_tiny_ocean(Grid.global_(22.5), Levels((0.5, 10.0, 100.0)), days=10)
    fc = _forecast_like(ref, ref.time.values[:5], 3, noise=0.3)
    clim = climatology_at(daily_climatology(ref, window=5), fc.valid_time)
    whole = score(fc, ref, clim, regions=["global", "tropics"])
    masks = region_masks(fc, ["global", "tropics"])
    aligned = ref.sel(time=fc.valid_time).drop_vars("time")
    parts = [partial_scores(fc.isel(init_time=s), aligned.isel(init_time=s), clim.isel(init_time=s), masks)
             for s in (slice(0, 2), slice(2, 3), slice(3, 5))]
    pooled = combine_scores(parts)
    for v in whole.data_vars:
        np.testing.assert_allclose(pooled[v].transpose(*whole[v].dims).values, whole[v].values, rtol=1e-9)


def test_harmonic_climatology_recovers_an_annual_cycle_by_hand():
    time = pd.date_range("2001-01-01", "2002-12-31", freq="D")
    days = (time.values - np.datetime64("2000-01-01")) / np.timedelta64(1, "D")
    w = 2 * np.pi / 365.2425
    signal = 10 + 2 * np.cos(w * days) - 1.5 * np.sin(2 * w * days)
    data = np.stack([signal, np.where(days == days[40], np.nan, signal)], axis=1)  # point 1: one missing day
    ref = xr.Dataset({"zos": (("time", "x"), data)}, coords={"time": time, "x": [0, 1]})
    coefs = fit_harmonic_climatology(ref, harmonics=3, block_days=50)
    np.testing.assert_allclose(coefs.zos.isel(x=0).values, [10, 2, 0, 0, -1.5, 0, 0], atol=1e-9)
    assert np.isnan(coefs.zos.isel(x=1)).all()  # NaN on a day of the period: land
    valid = xr.DataArray(np.array(["2007-03-01", "2007-09-15"], "datetime64[ns]"), dims="t")
    at = harmonic_climatology_at(coefs, valid)
    d = (valid.values - np.datetime64("2000-01-01")) / np.timedelta64(1, "D")
    np.testing.assert_allclose(at.zos.isel(x=0).values, 10 + 2 * np.cos(w * d) - 1.5 * np.sin(2 * w * d), rtol=1e-6)
    short = fit_harmonic_climatology(ref.isel(time=slice(0, 30)))
    assert short.attrs["harmonics"] == 0
    np.testing.assert_allclose(short.zos.isel(x=0).values, [signal[:30].mean()])


def test_regions_config_styles_and_the_dateline(tmp_path):
    as_map = tmp_path / "map.yaml"
    as_map.write_text("regions:\n  dateline: {lon_min: 170, lon_max: -170, lat_min: -5, lat_max: 5}\n")
    as_list = tmp_path / "list.yaml"
    as_list.write_text("- {name: dateline, lon_min: 170, lon_max: -170, lat_min: -5, lat_max: 5}\n")
    (a,), (b,) = regions_from_config(as_map), regions_from_config(as_list)
    assert a == b == Region("dateline", 170, -170, -5, 5)
    inside = a.contains(np.zeros(4), np.array([175.0, -175.0, 180.0, 0.0]))
    assert inside.tolist() == [True, True, True, False]
    bad = tmp_path / "bad.yaml"
    bad.write_text("regions:\n  oops: {lon_min: 0, lat_min: 0}\n")
    with pytest.raises(ConfigError, match="oops"):
        regions_from_config(bad)
    wide = Region("dateline", 150, -150, -30, 30)  # cell centres of the 22.5-degree grid: +-168.75
    masks = region_masks(make_tiny_ocean(Grid.global_(22.5), Levels((0.5, 10.0, 100.0)), days=1), [wide])
    lon = masks.longitude.values[masks.sel(region="dateline").any("latitude").values]
    assert sorted(lon.tolist()) == [-168.75, 168.75]
    with pytest.raises(DataError, match="region contains no grid points"):
        region_masks(masks, [Region("speck", 1, 2, 1, 2)])
