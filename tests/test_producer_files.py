"""Files as the producers ship them: one day per file with a scalar ``time``, WOA's
undecodable ``months since`` times, truncated downloads (real samples in ../shared/data)."""

import numpy as np
import pytest
import xarray as xr

from ocean.cli import main
from ocean.cube import open_cube
from ocean.errors import DataError
from ocean.info import describe
from ocean.io import open_source
from pipelines.append import append_day
from pipelines.build import build_cube
from pipelines.recipe import parse_recipe
from pipelines.validate import validate_cube

pytestmark = pytest.mark.real_data

NA = "{region: {name: north_atlantic, lon_min: -14.5, lon_max: -0.5, lat_min: 55.5, lat_max: 64.5}, resolution: 0.25}"


def _one_day_files(shared_data, tmp_path):
    """The GLORYS sample split as Copernicus Marine daily subsets are: ``time`` a 0-d coordinate."""
    files = []
    with xr.open_dataset(shared_data / "glorys" / "GLORYS_NA_2012.nc", decode_times=True) as src:
        for i in range(src.sizes["time"]):
            day = src.isel(time=i)
            assert "time" not in day.dims and day["time"].ndim == 0
            path = tmp_path / f"glorys_{str(day.time.values)[:10]}.nc"
            day.to_netcdf(path)
            files.append(path)
    with xr.open_dataset(files[0]) as raw:  # as written: no time dimension, a scalar time coordinate
        assert "time" not in raw.dims and "time" in raw.coords
    return files


def test_a_scalar_time_is_one_day_not_static_fields(shared_data, tmp_path):
    files = _one_day_files(shared_data, tmp_path)
    whole = open_source(shared_data / "glorys" / "GLORYS_NA_2012.nc")
    one = open_source(files[1])
    assert list(one.thetao.dims) == ["time", "depth", "latitude", "longitude"]
    assert list(one.zos.dims) == ["time", "latitude", "longitude"] and one.sizes["time"] == 1
    assert str(one.time.values[0])[:10] == "2012-12-31"
    xr.testing.assert_allclose(one.thetao, whole.thetao.isel(time=[1]))
    both = open_source(files, expect_frequency=None)
    assert both.sizes["time"] == 2
    xr.testing.assert_allclose(both.so, whole.so)
    info = describe(files[1])  # ocean info: a GLORYS day, not static fields; the scalar time is a note, not a CF problem
    assert info["source"] == "glorys" and info["time"]["count"] == 1 and info["time"]["start"].startswith("2012-12-31")
    assert any("scalar coordinate" in n for n in info["canonical_notes"]) and info["cf_problems"] == []


def test_one_day_files_build_a_cube(shared_data, tmp_path):
    import yaml

    files = _one_day_files(shared_data, tmp_path)
    text = f"""
        name: na_daily_files
        grid: {NA}
        levels: aigoms15
        dates: [2012-01-01]
        missing: {{policy: skip}}
        compute: {{scheduler: synchronous, progress: false}}
        sources:
          - {{name: glorys, kind: reanalysis, product: glorys, files: "{tmp_path}/glorys_*.nc"}}
          - {{name: etopo, kind: bathymetry, files: bathymetry/etopo5_coarsened_and_shifted.nc}}
        """
    recipe = parse_recipe(yaml.safe_load(text), base=shared_data, label="one-day-files recipe")
    cube = build_cube(recipe, tmp_path / "daily.zarr").path
    assert append_day(recipe, cube, "2012-12-31").status == "appended"
    ds = open_cube(cube)
    assert [str(t)[:10] for t in ds.time.values] == ["2012-01-01", "2012-12-31"]
    winter, summer = (float(ds.thetao.isel(time=i, depth=0).mean()) for i in (0, 1))
    assert winter != summer and np.isfinite(winter) and np.isfinite(summer)
    src = open_source(files[0]).thetao.isel(time=0, depth=0)
    assert abs(float(ds.thetao.isel(time=0, depth=1).mean()) - float(src.mean())) < 0.5
    assert validate_cube(cube) == []


def _woa_like(shared_data, tmp_path):
    """The ERSST sample with WOA's time convention: ``months since 1955-01-01``."""
    import shutil

    import netCDF4

    path = tmp_path / "woa_like_t00_01.nc"
    shutil.copy(shared_data / "sst" / "ersstv5_2010_2020.nc", path)
    path.chmod(0o644)
    with netCDF4.Dataset(path, "a") as d:
        d["time"].units = "months since 1955-01-01 00:00:00"
        d["time"][:] = np.arange(d.dimensions["time"].size) + 0.5
    return path


def test_undecodable_time_is_named_not_called_truncated(shared_data, tmp_path, capsys):
    path = _woa_like(shared_data, tmp_path)
    with pytest.raises(DataError) as e:
        open_source(path)
    msg = str(e.value)
    assert "woa_like_t00_01.nc" in msg and "months since 1955-01-01" in msg and "time" in msg
    assert "undecodable time units" in msg and "truncated" not in msg and "fetch it again" not in msg
    assert main(["info", str(path)]) == 3
    err = capsys.readouterr().err
    assert "woa_like_t00_01.nc" in err and "months since 1955-01-01" in err and "truncated" not in err


def test_a_really_truncated_real_file_is_still_called_truncated(shared_data, tmp_path):
    data = (shared_data / "glorys" / "GLORYS_NA_2012.nc").read_bytes()
    cut = tmp_path / "GLORYS_cut.nc"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(DataError, match=r"GLORYS_cut\.nc.*truncated.*fetch it again"):
        open_source(cut)


def test_a_cube_of_forcing_only_is_not_a_valid_training_cube(shared_data, tmp_path, capsys):
    import yaml

    text = f"""
        name: na_forcing_only
        grid: {NA}
        dates: [2012-01-01]
        compute: {{scheduler: synchronous, progress: false}}
        sources:
          - {{name: era5, kind: forcing, product: era5, files: era5/ERA5_NA_2012.nc, variables: [u10, v10]}}
          - {{name: etopo, kind: bathymetry, files: bathymetry/etopo5_coarsened_and_shifted.nc}}
        """
    recipe = parse_recipe(yaml.safe_load(text), base=shared_data, label="forcing-only recipe")
    cube = build_cube(recipe, tmp_path / "forcing.zarr").path
    found = validate_cube(cube)
    assert any("no ocean variables" in p and "u10" in p and "thetao" in p for p in found), found
    assert main(["data", "validate", str(cube)]) == 3
    out = capsys.readouterr().out
    assert "valid training cube" not in out and "no ocean variables" in out
