"""The wave head: readers (real WAVEWATCH III and NDBC samples, CMEMS / ERA5 layouts), buoy scores,
the head's contract, `ocean train head waves` and `ocean forecast --heads waves`."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from downstream_fixtures import backbone
from forecast_fixtures import DAYS, GRID, LEVELS, ROOT
from ocean.cli import main
from ocean.errors import DataError

WAVES = ROOT.parent / "shared" / "data" / "waves"
WW3, NDBC = WAVES / "ww3_spectra_2014.nc", WAVES / "ndbc_46097_2019_stdmet.txt"
CONFIG = ROOT / "configs" / "train" / "waves_tiny.yaml"
real_data = pytest.mark.skipif(not WAVES.is_dir(), reason="../shared/data/waves (real samples) is absent")


def truth_cube(path: Path, product: str = "waves") -> Path:
    from downstream.fields import synthetic_truth

    return synthetic_truth(path, product, grid=GRID, levels=LEVELS, start=str(DAYS[0].date()),
                           end=str(DAYS[-1].date()))


def train_args(head: str, model: Path, cube: Path, truth: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "head", head, "--config", str(ROOT / "configs" / "train" / f"{head}_tiny.yaml"),
            "--set", f"backbone={model}", "--set", f"data.cube={cube}", "--set", f"data.truth={truth}",
            "--set", f"output_dir={out / 'run'}", "--set", f"export={out / 'head'}", *extra]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("waves")
    model, cube = backbone(base)
    truth = truth_cube(base / "waves.zarr")
    assert main(train_args("waves", model, cube, truth, base / "w")) == 0
    return {"model": model, "cube": cube, "truth": truth, "head": base / "w" / "head", "base": base}


# -- readers -----------------------------------------------------------------------------------------------

def _spectrum_file(path: Path, units: str = "m2 s rad-1") -> Path:
    freq = np.array([0.1, 0.2], dtype=np.float32)
    dirs = np.array([0.0, 90.0, 180.0, 270.0], dtype=np.float32)
    efth = np.zeros((1, 1, 2, 4), dtype=np.float32)
    efth[..., 1] = 1.0  # all energy going to the east (90 degrees) -> coming from the west (270)
    ds = xr.Dataset({"efth": (("time", "station", "frequency", "direction"), efth, {"units": units}),
                     "latitude": (("time", "station"), [[10.0]]), "longitude": (("time", "station"), [[-30.0]])},
                    coords={"time": [np.datetime64("2020-01-01")], "station": [1],
                            "frequency": ("frequency", freq, {"units": "s-1"}),
                            "direction": ("direction", dirs, {"standard_name": "sea_surface_wave_to_direction"})})
    ds.to_netcdf(path)
    return path


def test_spectral_integration_by_hand(tmp_path):
    from downstream.waves.readers import read_ww3_spectra

    ds = read_ww3_spectra(_spectrum_file(tmp_path / "s.nc"))
    dtheta = 2 * np.pi / 4  # one of four directional bins holds the energy
    m0 = dtheta * 0.1 * (1 + 1) / 2  # trapezoid over f = 0.1, 0.2
    m2 = dtheta * 0.1 * (0.01 + 0.04) / 2
    assert float(ds.VHM0[0, 0]) == pytest.approx(4 * np.sqrt(m0), rel=1e-5)
    assert float(ds.VTM02[0, 0]) == pytest.approx(np.sqrt(m0 / m2), rel=1e-5)
    assert float(ds.VMDR[0, 0]) == pytest.approx(270.0)  # the file's "going to" 90 is "coming from" 270
    assert float(ds.latitude[0]) == 10.0 and float(ds.longitude[0]) == -30.0


@real_data
def test_ww3_real_sample_hs_is_four_root_m0():
    from downstream.waves.readers import read_ww3_spectra

    ds = read_ww3_spectra(WW3)
    raw = xr.open_dataset(WW3)
    assert ds.sizes == {"station": 2, "time": 9}
    e = raw.efth.isel(time=3, station=1).values.astype(float)  # (frequency, direction), m2 s rad-1
    m0 = np.trapezoid(e.sum(axis=1) * 2 * np.pi / raw.sizes["direction"], raw.frequency.values)
    assert float(ds.VHM0.isel(station=1, time=3)) == pytest.approx(4 * np.sqrt(m0), rel=1e-4)
    assert np.isfinite(ds.VHM0).all() and 0.05 < float(ds.VHM0.min()) and float(ds.VHM0.max()) < 20
    assert ((ds.VTPK >= 1 / raw.frequency.max()) & (ds.VTPK <= 1 / raw.frequency.min() + 1e-3)).all()
    assert ((ds.VMDR >= 0) & (ds.VMDR < 360)).all()


@real_data
@pytest.mark.parametrize("units", ["m2 s", "W m-2", ""])
def test_a_spectrum_with_the_wrong_units_is_refused(tmp_path, units):
    from downstream.waves.readers import read_ww3_spectra

    raw = xr.open_dataset(WW3).load()
    raw.efth.attrs["units"] = units
    raw.to_netcdf(tmp_path / "bad.nc")
    with pytest.raises(DataError) as err:
        read_ww3_spectra(tmp_path / "bad.nc")
    msg = str(err.value)
    assert "units" in msg and "expected m2 s rad-1" in msg and f"found {units!r}" in msg
    assert "not a frequency spectrum" in msg  # the hint


@real_data
def test_ndbc_real_sample_missing_values_and_sentinels():
    from downstream.waves.readers import read_ndbc_stdmet

    ds = read_ndbc_stdmet(NDBC, latitude=44.64, longitude=-124.30)
    rows = [ln.split() for ln in NDBC.read_text().splitlines()[2:] if ln.strip()]
    valid = sum(r[8] not in ("MM", "99.00", "99.0") for r in rows)
    assert int(np.isfinite(ds.VHM0).sum()) == valid > 0
    assert ds.station.values.tolist() == ["46097"] and ds.sizes["time"] == len(rows)
    assert (np.diff(ds.time.values) > np.timedelta64(0)).all()
    for v in ("VHM0", "VTPK", "VTM02", "VMDR", "WSPD"):
        x = ds[v].values
        assert not np.isin(x[np.isfinite(x)], [99.0, 999.0, 9999.0]).any()
    assert float(ds.VHM0.max()) < 20 and float(ds.latitude[0]) == 44.64


def test_a_buoy_file_without_valid_rows_is_refused(tmp_path):
    from downstream.waves.readers import read_ndbc_stdmet

    head = ("#YY  MM DD hh mm WDIR WSPD GST  WVHT   DPD   APD MWD   PRES  ATMP  WTMP  DEWP  VIS PTDY  TIDE\n"
            "#yr  mo dy hr mn degT m/s  m/s     m   sec   sec degT   hPa  degC  degC  degC  nmi  hPa    ft\n")
    rows = ("2019 04 02 13 50 120  2.0   MM    MM    MM    MM  MM 1007.7  10.7  11.1    MM   MM   MM    MM\n"
            "2019 04 02 14 50 120  2.0  3.0 99.00 99.00 99.00 999 1007.7  10.7  11.1    MM   MM   MM    MM\n")
    (tmp_path / "41001.txt").write_text(head + rows)
    with pytest.raises(DataError, match="no valid wave height.*found 2 rows, all WVHT missing.*expected"):
        read_ndbc_stdmet(tmp_path / "41001.txt")
    (tmp_path / "junk.txt").write_text("hello\n")
    with pytest.raises(DataError, match="not an NDBC standard meteorological file"):
        read_ndbc_stdmet(tmp_path / "junk.txt")


def test_cmems_and_era5_wave_fields(tmp_path):
    from downstream.waves.readers import open_wave_fields
    from ocean.synthetic import SyntheticOcean

    SyntheticOcean(GRID, seed=0).write(tmp_path / "syn", "2020-01-01", 2, products=("waves",))
    cmems = open_wave_fields(sorted((tmp_path / "syn" / "waves").glob("*.nc")))
    assert cmems.attrs["source"] == "cmems_wave" and cmems.sizes["time"] == 2
    assert {"VHM0", "VTM02", "VMDR"} <= set(cmems.data_vars) and np.all(np.diff(cmems.latitude) > 0)
    lat, lon = np.array([10.0, 0.0, -10.0]), np.array([0.0, 90.0, 180.0, 270.0])
    rng = np.random.default_rng(0)
    dims = ("valid_time", "latitude", "longitude")
    f = lambda lo, hi: (dims, rng.uniform(lo, hi, (2, 3, 4)).astype(np.float32))  # noqa: E731
    era5 = xr.Dataset({"swh": f(0.5, 4), "mp2": f(4, 8), "mwp": f(8, 12), "pp1d": f(8, 14), "mwd": f(0, 359)},
                      coords={"valid_time": pd.date_range("2020-01-01", periods=2), "latitude": lat,
                              "longitude": lon})
    for v, u in (("swh", "m"), ("mp2", "s"), ("mwp", "s"), ("pp1d", "s"), ("mwd", "Degree true")):
        era5[v].attrs["units"] = u
    era5.to_netcdf(tmp_path / "era5.nc")
    ds = open_wave_fields(tmp_path / "era5.nc")
    assert ds.attrs["source"] == "era5_wave" and list(ds.latitude) == [-10.0, 0.0, 10.0]
    assert list(ds.longitude) == [-180.0, -90.0, 0.0, 90.0]
    # VTM02 is ERA5's mp2 (Tm02), not mwp; the point (10N, 90E) keeps its value
    assert float(ds.VTM02.isel(time=0).sel(latitude=10, longitude=90)) == pytest.approx(
        float(era5.mp2.isel(valid_time=0).sel(latitude=10, longitude=90)))
    with pytest.raises(DataError, match="not a wave product"):
        xr.Dataset({"sst": (("latitude", "longitude"), np.zeros((3, 4)))},
                   coords={"latitude": lat, "longitude": lon}).to_netcdf(tmp_path / "sst.nc")
        open_wave_fields(tmp_path / "sst.nc")


# -- verification -------------------------------------------------------------------------------------------

def _forecast(values: np.ndarray) -> xr.Dataset:
    """A waves group: 1 init, 2 leads, a 2 x 3 grid; ``values (lead, lat, lon)``."""
    init = np.datetime64("2019-04-10", "ns")
    lead = np.array([1, 2], dtype="timedelta64[D]").astype("timedelta64[ns]")
    return xr.Dataset({"VHM0": (("init_time", "lead_time", "latitude", "longitude"), values[None])},
                      coords={"init_time": [init], "lead_time": lead, "latitude": [40.0, 44.0],
                              "longitude": [-128.0, -124.0, -120.0],
                              "valid_time": (("init_time", "lead_time"), (init + lead)[None])})


def _buoy(times, hs, lat=44.6, lon=-124.3) -> xr.Dataset:
    return xr.Dataset({"VHM0": (("station", "time"), np.asarray(hs, np.float32)[None])},
                      coords={"station": ["46097"], "time": pd.DatetimeIndex(times).values,
                              "latitude": ("station", [lat]), "longitude": ("station", [lon])})


def test_score_buoys_by_hand():
    from downstream.waves.verify import score_buoys

    values = np.full((2, 2, 3), 9.0)
    values[:, 1, 1] = [2.0, 3.0]  # the cell nearest to the buoy (44N, 124W)
    values[:, 1, 2] = np.nan  # land
    obs_times = ["2019-04-11 01:00", "2019-04-11 13:00", "2019-04-12 06:00", "2019-04-13 00:00"]
    scores = score_buoys(_forecast(values), [_buoy(obs_times, [1.0, 2.0, 4.0, 7.0])])
    # lead 1 (04-11): obs mean 1.5, f 2 -> d 0.5; lead 2 (04-12): obs 4 (the 04-13 value is another day), f 3 -> -1
    assert scores.VHM0_bias.values.tolist() == pytest.approx([0.5, -1.0])
    assert scores.VHM0_rmse.values.tolist() == pytest.approx([0.5, 1.0])
    assert scores.VHM0_si.values.tolist() == pytest.approx([0.5 / 1.5, 1.0 / 4.0])
    assert scores.VHM0_n.values.tolist() == [1, 1] and "46097" in scores.attrs["stations"]


def test_score_buoys_refuses_when_nothing_matches():
    from downstream.waves.verify import score_buoys

    values = np.ones((2, 2, 3))
    with pytest.raises(DataError, match="no forecast matched a buoy observation"):
        score_buoys(_forecast(values), _buoy(["2018-01-01"], [1.0]))  # another year
    with pytest.raises(DataError, match="a buoy has no position"):
        score_buoys(_forecast(values), _buoy(["2019-04-11"], [1.0], lat=np.nan))


# -- the head ------------------------------------------------------------------------------------------------

def _inputs(bb, b=2):
    g = torch.Generator().manual_seed(0)
    h, w = bb.grid.shape
    state = bb.forecaster.denormalise_state(torch.randn(b, len(bb.channels), h, w, generator=g))
    forcing = torch.randn(b, len(bb.metadata.forcing_variables), h, w, generator=g)
    return bb.normalise_state(state), forcing


def test_contract_shapes_positive_and_gradients_only_in_the_head(setup):
    from downstream.checkpoint import load_head
    from downstream.frozen import FrozenBackbone

    bb = FrozenBackbone.load(setup["model"])
    head, meta = load_head(setup["head"], bb, "waves")
    assert meta.channels == ("VHM0", "VTM02", "VMDR_sin", "VMDR_cos")
    head.train()
    state, forcing = _inputs(bb)
    previous = torch.randn(2, 4, *bb.grid.shape) * head.out_mask
    batch = {"forcing": head.forcing_view(forcing), "previous": previous, "doy": torch.zeros(2, 2)}
    out = head(head.select_features(bb.features(state, forcing)), batch)
    assert out.shape == (2, 4, *bb.grid.shape) and torch.isfinite(out).all()
    loss, metrics = head.loss(out, {**batch, "target": torch.randn_like(out), "valid": torch.ones_like(out)})
    loss.backward()
    assert {"persistence_loss", "skill"} <= set(metrics)
    trainable = [(n, p) for n, p in head.named_parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for _, p in trainable)
    assert all(not p.requires_grad and p.grad is None for p in bb.parameters())
    fields = head.to_fields(out.detach())
    ocean = head.out_mask[0].numpy() > 0
    assert (fields["VHM0"][:, ocean] > 0).all() and np.isnan(fields["VHM0"][:, ~ocean]).all()
    assert ((fields["VMDR"][:, ocean] >= 0) & (fields["VMDR"][:, ocean] < 360)).all()


def test_untrained_head_is_persistence_and_ice_is_masked(setup):
    from downstream.frozen import FrozenBackbone
    from downstream.waves.config import WavesConfig
    from downstream.waves.model import make_net

    bb = FrozenBackbone.load(setup["model"])
    net = make_net(WavesConfig(ice_sst=-1.0), bb).eval()
    state, forcing = _inputs(bb, b=1)
    previous = torch.randn(1, 4, *bb.grid.shape)
    out = net(net.select_features(bb.features(state, forcing)), {"forcing": net.forcing_view(forcing),
                                                                  "previous": previous})
    assert torch.allclose(out, previous * net.out_mask)
    phys = torch.zeros(1, len(bb.channels), *bb.grid.shape)
    phys[:, net.sst_index, :2] = -1.9  # the two southernmost rows are frozen
    ice = net.extra_mask(phys)
    assert ice[0, :2].all() and not ice[0, 2:].any()
    assert np.isnan(net.to_fields(out, ice)["VHM0"][0, :2]).all()


def test_train_and_forecast_with_the_waves_head(setup, tmp_path):
    from ocean.checkpoint import read_metadata
    from ocean.forecast_store import forecast_path

    meta = read_metadata(setup["head"])
    p = meta.extra["parameters"]
    assert meta.kind == "head/waves" and 0 < p["trainable_share"] < 1
    assert meta.provenance["backbone_sha256"] == read_metadata(setup["model"]).weights_sha256
    rc = main(["forecast", "--model", str(setup["model"]), "--init", "2020-01-05", "--out", str(tmp_path),
               "--leads", "3", "--heads", f"waves={setup['head']}", "--no-quicklooks"])
    assert rc == 0
    store = forecast_path(tmp_path, "2020-01-05")
    ds, phys = xr.open_zarr(store, group="waves"), xr.open_zarr(store)
    assert set(ds.data_vars) == {"VHM0", "VTM02", "VMDR"}
    assert ds.VHM0.dims == ("init_time", "lead_time", "latitude", "longitude") and ds.sizes["lead_time"] == 3
    assert np.array_equal(ds.valid_time, phys.valid_time) and ds.attrs["initial_state"].startswith("analysis")
    ocean = xr.open_zarr(setup["truth"]).mask.isel(depth=0).values.astype(bool)
    hs = ds.VHM0.isel(init_time=0).values
    assert (np.isfinite(hs) == ocean[None]).all() and (hs[:, ocean] > 0).all()


def test_without_an_analysis_the_head_starts_from_its_climatology(setup, tmp_path):
    from ocean.forecast_store import forecast_path

    truth = setup["truth"]
    moved = truth.with_name("moved.zarr")
    shutil.move(truth, moved)
    try:
        assert main(["forecast", "--model", str(setup["model"]), "--init", "2020-01-05", "--out", str(tmp_path),
                     "--leads", "2", "--heads", f"waves={setup['head']}", "--no-quicklooks"]) == 0
    finally:
        shutil.move(moved, truth)
    ds = xr.open_zarr(forecast_path(tmp_path, "2020-01-05"), group="waves")
    assert ds.attrs["initial_state"] == "climatology" and np.isfinite(ds.VHM0).any()


def test_truth_on_another_grid_is_refused_and_nothing_is_written(setup, tmp_path, caplog):
    from downstream.fields import synthetic_truth
    from ocean.grid import Grid

    other = synthetic_truth(tmp_path / "other.zarr", "waves", grid=Grid.global_(30.0, name="coarse"),
                            levels=LEVELS, start=str(DAYS[0].date()), end=str(DAYS[-1].date()))
    rc = main(train_args("waves", setup["model"], setup["cube"], other, tmp_path / "out"))
    assert rc == 3 and "the truth is not on the backbone's grid" in caplog.text
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["waves_demo", "waves_tiny", "biochem_demo", "biochem_tiny"])
def test_shipped_configs_parse(name):
    from downstream.config import load_head_config
    from downstream.registry import get_head

    head = name.split("_")[0]
    cfg = load_head_config(ROOT / "configs" / "train" / f"{name}.yaml", get_head(head).config_type)
    assert cfg.name == name and cfg.head.net.afno_blocks == 2 and cfg.peft.method == "none"
