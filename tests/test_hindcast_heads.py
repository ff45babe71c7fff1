"""``ocean hindcast --heads``: the heads inside the hindcast's forecasts, scored against a truth
(``heads_metrics.nc``) and the waves head against a real NDBC buoy (``buoys.nc``); reuse and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from downstream_fixtures import backbone
from forecast_fixtures import DAYS, GRID, LEVELS, ROOT
from ocean.cli import main

NDBC = ROOT.parent / "shared" / "data" / "waves" / "ndbc_46097_2019_stdmet.txt"  # 2019-02-16 .. 2019-04-02
POSITION = "46097=44.64,-124.30"


def _truth(path: Path, grid=GRID, days=DAYS) -> Path:
    from downstream.fields import synthetic_truth

    return synthetic_truth(path, "waves", grid=grid, levels=LEVELS, start=str(days[0].date()), end=str(days[-1].date()))


def _cube(path: Path, days) -> Path:
    """The tiny backbone's cube (forecast_fixtures.synthetic_cube) on other days: those of the buoy file."""
    from ocean.cube import write_cube
    from ocean.normalize import compute_statistics
    from ocean.synthetic import SyntheticOcean

    so = SyntheticOcean(GRID, levels=LEVELS, seed=0)
    ds = so.physics(days).merge(so.forcing(days))
    ds["mask"] = so.static()["mask"].astype(np.int8)
    return write_cube(ds, path, statistics=compute_statistics(ds.drop_vars("mask")))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("hch")
    model, cube = backbone(base)
    # the truth reaches back to the buoy's days: there it is the head's analysis at the initial dates
    # (the tiny head's harmonic climatology, fitted on 12 January days, is no start for March)
    truth = _truth(base / "waves.zarr", days=pd.date_range("2019-03-01", DAYS[-1], freq="D"))
    args = ["train", "head", "waves", "--config", str(ROOT / "configs" / "train" / "waves_tiny.yaml"),
            "--set", f"backbone={model}", "--set", f"data.cube={cube}", "--set", f"data.truth={truth}",
            "--set", f"output_dir={base / 'w' / 'run'}", "--set", f"export={base / 'w' / 'head'}"]
    assert main(args) == 0
    return {"model": model, "cube": cube, "truth": truth, "head": base / "w" / "head", "base": base}


def _hindcast(s, out, *extra, cube=None, start="2020-01-01", end="2020-01-03"):
    return main(["hindcast", "--model", str(s["model"]), "--cube", str(cube or s["cube"]), "--start", start,
                 "--end", end, "--every", "2D", "--leads", "3", "--out", str(out), "--no-derived",
                 "--regions", "global", *extra])


@pytest.fixture(scope="module")
def hindcast_dir(setup):
    out = setup["base"] / "hc"
    assert _hindcast(setup, out, "--heads", f"waves={setup['head']}", "--head-truth",
                     f"waves={setup['truth']}") == 0
    return out


def test_heads_metrics_against_a_truth(hindcast_dir):
    m = xr.open_dataset(hindcast_dir / "heads_metrics.nc")
    assert list(m.system.values) == ["model", "persistence", "climatology"]
    assert {"rmse", "bias"} <= set(m.metric.values)
    assert m.VHM0.dims == ("system", "metric", "lead_time") and m.sizes["lead_time"] == 3
    assert "VMDR" not in m  # a direction: scored against buoys only
    rmse = m.VHM0.sel(metric="rmse")
    assert np.isfinite(rmse).all() and (rmse > 0).all()
    assert m.VHM0.attrs["head"] == "waves" and m.VHM0.attrs["units"] == "m"
    with xr.open_zarr(hindcast_dir / "forecasts" / "forecast_2020-01-03.zarr", group="waves") as g:
        assert g.sizes["lead_time"] == 3
    report = (hindcast_dir / "report.md").read_text()
    assert "## Heads: RMSE against their truth" in report and "| waves | VHM0 (m) | 1 |" in report


def test_a_perfect_truth_scores_zero(hindcast_dir):
    from ocean.workflows.hindcast import score_head

    with xr.open_zarr(hindcast_dir / "forecasts" / "forecast_2020-01-01.zarr", group="waves") as g:
        f = g[["VHM0", "VTM02"]].isel(init_time=0).load()
    days = np.concatenate([[f.init_time.values], f.valid_time.values])
    values = {v: (("time", "latitude", "longitude"), np.concatenate([f[v].values[:1], f[v].values]))
              for v in ("VHM0", "VTM02")}
    truth = xr.Dataset(values, coords={"time": days, "latitude": f.latitude.values, "longitude": f.longitude.values})
    m = score_head(hindcast_dir / "forecasts", "waves", truth, ["2020-01-01"], 3)
    np.testing.assert_allclose(m.VHM0.sel(system="model", metric=["rmse", "bias"]).values, 0.0, atol=1e-6)
    np.testing.assert_allclose(m.VTM02.sel(system="model", metric="rmse").values, 0.0, atol=1e-6)
    assert float(m.VHM0.sel(system="persistence", metric="rmse").isel(lead_time=0)) == pytest.approx(0, abs=1e-6)
    assert (m.VHM0.sel(system="persistence", metric="rmse").isel(lead_time=slice(1, None)) > 0).all()


def test_forecasts_without_the_head_are_refused(setup, tmp_path, caplog):
    out = tmp_path / "hc"
    assert _hindcast(setup, out, start="2020-01-01", end="2020-01-01") == 0
    assert _hindcast(setup, out, "--heads", f"waves={setup['head']}", start="2020-01-01", end="2020-01-01") == 3
    assert "made differently" in caplog.text and "no 'waves' head group" in caplog.text and "--force" in caplog.text
    assert _hindcast(setup, out, "--heads", f"waves={setup['head']}", "--force",
                     start="2020-01-01", end="2020-01-01") == 0


@pytest.mark.skipif(not NDBC.exists(), reason=f"real NDBC sample not found at {NDBC}")
def test_the_waves_head_against_a_real_buoy(setup, tmp_path):
    cube = _cube(tmp_path / "cube2019.zarr", pd.date_range("2019-03-01", periods=12, freq="D"))
    out = tmp_path / "hc"
    rc = _hindcast(setup, out, "--heads", f"waves={setup['head']}", "--buoys", str(NDBC), "--buoy-position",
                   POSITION, "--buoy-max-km", "3000", cube=cube, start="2019-03-01", end="2019-03-05")
    assert rc == 0
    b = xr.open_dataset(out / "buoys.nc")
    assert {"VHM0_bias", "VHM0_rmse", "VHM0_si", "VHM0_n"} <= set(b.data_vars) and b.sizes["lead_time"] == 3
    assert int(b.VHM0_n.sum()) > 0 and np.isfinite(b.VHM0_rmse).any() and "46097" in b.attrs["stations"]
    assert not (out / "heads_metrics.nc").exists()  # no truth given
    assert "## Waves head against buoys" in (out / "report.md").read_text()


@pytest.mark.parametrize("case, message", [
    ("unknown_head", "unknown head"),
    ("truth_not_in_heads", "is not in --heads"),
    ("truth_lacks_fields", "truth lacks its fields"),
    ("truth_other_grid", "not on the backbone's grid"),
    ("truth_bad_spec", "expects NAME=STORE"),
    ("buoy_outside", "no buoy in the hindcast's domain"),
    ("buoy_no_position", "no position for buoy 46097"),
    ("buoys_without_waves", "add --heads waves"),
])
def test_bad_input_exits_3_and_writes_nothing(setup, tmp_path, caplog, case, message):
    from ocean.grid import Grid

    head = f"waves={setup['head']}"
    if case.startswith("buoy") and not NDBC.exists():
        pytest.skip("real NDBC sample absent")
    coarse = _truth(tmp_path / "coarse.zarr", grid=Grid.global_(30.0, name="c")) if case == "truth_other_grid" else ""
    extra = {
        "unknown_head": ["--heads", "tides"],
        "truth_not_in_heads": ["--head-truth", f"waves={setup['truth']}"],
        "truth_lacks_fields": ["--heads", head, "--head-truth", f"waves={setup['cube']}"],
        "truth_other_grid": ["--heads", head, "--head-truth", f"waves={coarse}"],
        "truth_bad_spec": ["--heads", head, "--head-truth", str(setup["truth"])],
        "buoy_outside": ["--heads", head, "--buoys", str(NDBC), "--buoy-position", POSITION],
        "buoy_no_position": ["--heads", head, "--buoys", str(NDBC)],
        "buoys_without_waves": ["--buoys", str(NDBC), "--buoy-position", POSITION],
    }[case]
    out = tmp_path / "hc"
    assert _hindcast(setup, out, *extra) == 3
    assert message in caplog.text
    assert not out.exists()
