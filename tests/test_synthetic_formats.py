"""Producer-format files written by the synthetic ocean, read back by ``ocean.io``, and the CLI."""

from __future__ import annotations

import json

import netCDF4
import numpy as np
import pytest

from ocean import __version__
from ocean.cli import main
from ocean.grid import Grid, Region
from ocean.io import open_source
from ocean.synthetic import SyntheticOcean, generate
from ocean.synthetic.formats import GLORYS_PACKING

LEVELS = [0.5, 50.0, 200.0]
ALL = "physics,forcing,static,bgc,waves,enso"


@pytest.fixture(scope="module")
def ocean10() -> SyntheticOcean:
    return SyntheticOcean("10deg", levels=LEVELS, seed=3)


@pytest.fixture(scope="module")
def written(ocean10, tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic") / "run"
    manifest = ocean10.write(out, "2020-01-31", 2, products=ALL, progress=False)
    return out, manifest


def _canonical(ocean: SyntheticOcean, kind: str, date: str):
    if kind == "physics":
        return ocean.physics([date])
    if kind == "bgc":
        return ocean.bgc([date])
    if kind == "waves":
        return ocean.waves([date])
    return ocean.forcing([date], hourly=True)


def _tolerance(name: str, path) -> float:
    """Half a packing step (GLORYS: the product's scale; ERA5: the file's own scale), or float32 rounding."""
    if name in GLORYS_PACKING:
        return GLORYS_PACKING[name][1] / 2 + 1e-6
    with netCDF4.Dataset(path) as nc:
        short = {"t2m": "t2m", "u10": "u10", "v10": "v10", "msl": "msl", "sp": "sp",
                 "tauuo": "metss", "tauvo": "mntss"}.get(name)
        if short and short in nc.variables and hasattr(nc[short], "scale_factor"):
            return float(nc[short].scale_factor) / 2 + 1e-3 * float(nc[short].scale_factor) + 1e-5
    return 1e-5


def test_layout_and_manifest(written):
    out, manifest = written
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert manifest["package_version"] == __version__ and manifest["seed"] == 3
    assert manifest["grid"] == Grid.global_(10).to_dict()
    assert manifest["levels"]["depths"] == LEVELS
    assert (manifest["start"], manifest["end"], manifest["days"]) == ("2020-01-31", "2020-02-01", 2)
    assert manifest["files"]["physics"] == ["glorys/glorys_20200131.nc", "glorys/glorys_20200201.nc"]
    assert manifest["files"]["forcing"] == ["era5/era5_20200131.nc", "era5/era5_20200201.nc"]
    assert manifest["files"]["static"] == ["static/GLO-MFC_001_030_mask_bathy.nc"]
    assert manifest["files"]["enso_thetao"] == ["enso/enso_thetao_2020.nc"]
    listed = {p for files in manifest["files"].values() for p in files}
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert listed == on_disk  # and no temporary files left behind


@pytest.mark.parametrize("kind", ["physics", "bgc", "waves", "forcing"])
def test_daily_files_round_trip_through_open_source(written, ocean10, kind):
    out, manifest = written
    for rel in manifest["files"][kind]:
        date = rel[-11:-3]
        date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
        ds = open_source(out / rel, source=manifest["sources"][kind]).load()
        ref = _canonical(ocean10, kind, date)
        assert list(ds["latitude"].values) == pytest.approx(list(ref["latitude"].values), abs=1e-4)
        assert list(ds["longitude"].values) == pytest.approx(list(ref["longitude"].values), abs=1e-4)
        np.testing.assert_array_equal(ds["time"].values, ref["time"].values)
        assert set(ds.data_vars) == set(ref.data_vars)
        for name in ref.data_vars:
            assert ds[name].dims == ref[name].dims
            a, b = ds[name].values, ref[name].values
            assert np.array_equal(np.isnan(a), np.isnan(b)), name
            np.testing.assert_allclose(a, b, rtol=3e-7, atol=_tolerance(name, out / rel), err_msg=f"{rel} {name}")


def test_static_file(written, ocean10):
    out, manifest = written
    path = out / manifest["files"]["static"][0]
    ds = open_source(path, source="glorys").load()
    ref = ocean10.static()
    np.testing.assert_allclose(ds["deptho"].values, ref["deptho"].values, rtol=1e-6)
    with netCDF4.Dataset(path) as nc:
        assert nc["mask"].dimensions == ("depth", "latitude", "longitude") and nc["mask"].dtype == np.int8
        np.testing.assert_array_equal(nc["mask"][:].astype(bool), ref["mask"].values)


def test_enso_files_round_trip(written, ocean10):
    out, manifest = written
    ref = ocean10.enso_monthly("2020-01-01", 2)
    thetao = open_source(out / manifest["files"]["enso_thetao"][0], source="glorys").load()
    stress = open_source(out / manifest["files"]["enso_stress"][0], source="era5").load()
    np.testing.assert_array_equal(thetao["time"].values, ref["time"].values)
    np.testing.assert_allclose(thetao["thetao"].values, ref["thetao"].values, atol=4e-4)
    for name in ("tauuo", "tauvo"):
        tol = _tolerance(name, out / manifest["files"]["enso_stress"][0])
        np.testing.assert_allclose(stress[name].values, ref[name].values, rtol=3e-7, atol=tol)
    assert list(thetao["depth"].values) == pytest.approx([5, 20, 40, 60, 90, 120, 150])


def test_era5_file_is_written_as_cds_delivers_it(written):
    out, manifest = written
    with netCDF4.Dataset(out / manifest["files"]["forcing"][0]) as nc:
        lat, lon = nc["latitude"][:], nc["longitude"][:]
        assert lat[0] > lat[-1] and np.all(np.diff(lat) < 0)  # descending
        assert lon.min() >= 0 and lon.max() < 360 and np.all(np.diff(lon) > 0)
        assert nc["t2m"].units == "K" and nc["t2m"].dtype == np.int16
        assert 180 < nc["t2m"][:].min() and nc["t2m"][:].max() < 330
        assert nc["time"].units.startswith("hours since 1900-01-01") and nc["time"].dtype == np.int32
        assert nc["time"].size == 24 and "valid_time" not in nc.variables
        assert nc["msl"].units == "Pa" and nc["u10"].units == "m s**-1"


def test_glorys_file_follows_cmems_conventions(written):
    out, manifest = written
    with netCDF4.Dataset(out / manifest["files"]["physics"][0]) as nc:
        assert nc["thetao"].dimensions == ("time", "depth", "latitude", "longitude")
        assert nc["thetao"].dtype == np.int16 and nc["thetao"]._FillValue == -32767
        assert nc["thetao"].units == "degrees_C" and nc["so"].units == "1e-3"
        assert nc["thetao"].standard_name == "sea_water_potential_temperature" and nc["thetao"].unit_long
        assert nc["depth"].positive == "down" and np.all(np.diff(nc["depth"][:]) > 0)
        assert np.all(np.diff(nc["latitude"][:]) > 0)
        assert nc["longitude"][:].min() >= -180 and nc["longitude"][:].max() < 180
        assert nc["time"].units == "hours since 1950-01-01"
        assert np.ma.is_masked(nc["thetao"][0, 0]) and nc["thetao"][0, 0].mask.any()  # land


def test_dateline_box_round_trips_with_continuous_longitude(tmp_path):
    box = Grid.box(Region("dateline", 160.0, -160.0, -10.0, 10.0), 4)
    so = SyntheticOcean(box, levels=[0.5, 100.0], seed=0)
    manifest = so.write(tmp_path / "out", "2021-07-01", 1, products="physics,forcing", progress=False)
    with netCDF4.Dataset(tmp_path / "out" / manifest["files"]["physics"][0]) as nc:
        assert nc["longitude"][:].max() < 180  # CMEMS order: two pieces
    with netCDF4.Dataset(tmp_path / "out" / manifest["files"]["forcing"][0]) as nc:
        assert np.all(np.diff(nc["longitude"][:]) > 0) and nc["longitude"][:].max() < 360
    for kind, ref in (("physics", so.physics(["2021-07-01"])), ("forcing", so.forcing(["2021-07-01"], hourly=True))):
        ds = open_source(tmp_path / "out" / manifest["files"][kind][0], source=manifest["sources"][kind]).load()
        np.testing.assert_allclose(ds["longitude"].values, box.lon, atol=1e-4)
        name = "thetao" if kind == "physics" else "t2m"
        np.testing.assert_allclose(ds[name].values, ref[name].values, atol=0.05)


def test_daily_forcing_option_writes_one_record(tmp_path, ocean10):
    m = generate(tmp_path / "d", grid="10deg", levels=LEVELS, start="2020-01-01", days=1, products="forcing",
                 seed=3, hourly_forcing=False, progress=False)
    ds = open_source(tmp_path / "d" / m["files"]["forcing"][0], source="era5").load()
    assert ds.sizes["time"] == 1 and m["forcing"]["hourly"] is False
    np.testing.assert_allclose(ds["t2m"].values, ocean10.forcing(["2020-01-01"])["t2m"].values, atol=0.01)


def test_cli_writes_the_layout(tmp_path):
    out = tmp_path / "cli"
    rc = main(["synthetic", "--grid", "10deg", "--start", "2020-01-01", "--days", "2", "--out", str(out),
               "--levels", "0.5,100", "--products", "physics,static,waves", "--seed", "1", "--no-progress"])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["glorys", "manifest.json", "static", "waves"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 1 and manifest["levels"]["depths"] == [0.5, 100.0]
    assert len(list((out / "glorys").glob("*.nc"))) == 2


@pytest.mark.parametrize("bad", [
    ["--products", "physics,sounds"],
    ["--days", "0"],
    ["--start", "1800-01-01"],
    ["--grid", "7deg"],
    ["--levels", "ten,twenty"],
])
def test_cli_bad_options_exit_3_and_write_nothing(tmp_path, bad):
    out = tmp_path / "never"
    assert main(["synthetic", "--grid", "10deg", "--days", "1", "--out", str(out), *bad]) == 3
    assert not out.exists()


def test_cli_impossible_date_is_a_usage_error(tmp_path, capsys):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exc:  # parsed at the argument parser: exit 2 with the expected format
        main(["synthetic", "--grid", "10deg", "--days", "1", "--out", str(out), "--start", "2020-02-30"])
    assert exc.value.code == 2 and "expected a date YYYY-MM-DD" in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_a_non_empty_folder_unless_forced(tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    args = ["synthetic", "--grid", "10deg", "--days", "2", "--levels", "0.5", "--products", "physics",
            "--out", str(out), "--no-progress"]
    assert main(args) == 3
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert main([*args, "--force"]) == 0
    # A forced re-run replaces the previous run's files (and keeps unrelated ones).
    assert main([*args[:4], "1", *args[5:], "--force"]) == 0
    assert sorted(p.name for p in (out / "glorys").iterdir()) == ["glorys_20200101.nc"]
    assert (out / "notes.txt").read_text() == "keep me"
