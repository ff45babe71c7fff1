"""Readers on the real producers' samples in ../shared/data (skipped when absent)."""

import netCDF4
import numpy as np
import pytest

from ocean.grid import Grid
from ocean.io import open_source


def _raw(path, name):
    with netCDF4.Dataset(path) as d:
        d.set_auto_mask(True)
        return np.ma.filled(d[name][:].astype("f8"), np.nan)


def test_glorys_sample(shared_data):
    path = shared_data / "glorys" / "GLORYS_NA_2012.nc"
    ds = open_source(path)
    assert ds.attrs["source"] == "glorys"
    assert list(ds.thetao.dims) == ["time", "depth", "latitude", "longitude"]
    assert ds.depth.attrs["positive"] == "down" and ds.depth.values[0] == pytest.approx(6.2394, abs=1e-3)
    assert np.all(np.diff(ds.latitude) > 0) and ds.longitude.min() >= -180
    # Unpacked int16 values equal netCDF4's own decoding (scale_factor/add_offset).
    np.testing.assert_allclose(ds.thetao.values, _raw(path, "thetao"), rtol=1e-6, equal_nan=True)
    assert 30 < float(ds.so.mean()) < 36 and ds.so.attrs["units"] == "1e-3"
    # Land is NaN and fixed in time.
    land = ds.thetao.isnull()
    assert land.any() and bool((land.isel(time=0) == land.isel(time=1)).all())


def test_era5_sample_is_reoriented_and_converted(shared_data):
    path = shared_data / "era5" / "ERA5_NA_2012.nc"
    ds = open_source(path)
    raw_t2m = _raw(path, "t2m")  # kelvin, latitude descending
    assert ds.latitude.values[0] == 20.0 and ds.latitude.values[-1] == 80.0
    np.testing.assert_allclose(ds.t2m.values, raw_t2m[:, ::-1, :] - 273.15, atol=1e-4)
    assert ds.t2m.attrs["units"] == "degrees_C" and ds.msl.attrs["units"] == "Pa"
    assert 95000 < float(ds.msl.mean()) < 105000
    assert Grid.from_coords(ds.latitude, ds.longitude).res == 0.25


def test_ersst_sample_longitude_wrapped_and_sorted(shared_data):
    ds = open_source(shared_data / "sst" / "ersstv5_2010_2020.nc", "ersst")
    assert ds.sizes == {"time": 128, "latitude": 89, "longitude": 180}
    assert ds.longitude.values[0] == -180 and ds.longitude.values[-1] == 178
    assert ds.latitude.values[0] == -88
    assert ds.sst.isnull().any()  # land
    g = Grid.from_coords(ds.latitude, ds.longitude)
    assert g.is_periodic and g.res == 2
    # The raw file has 0..358; -180 in ours is 180 in theirs.
    raw = _raw(shared_data / "sst" / "ersstv5_2010_2020.nc", "sst")
    np.testing.assert_allclose(ds.sst.isel(time=0).sel(longitude=-180).values, raw[0, ::-1, 90], equal_nan=True)


def test_bathymetry_sample_gives_positive_depth_and_land_nan(shared_data):
    ds = open_source(shared_data / "bathymetry" / "etopo5_coarsened_and_shifted.nc")
    d = ds.deptho
    assert ds.attrs["source"] == "bathymetry" and d.attrs["units"] == "m"
    assert float(d.min()) > 0 and float(d.max()) > 5000
    assert 0.2 < float(d.isnull().mean()) < 0.4  # about 29% of Earth is land


def test_cesm_bgc_depth_in_metres_and_total_chlorophyll(shared_data):
    path = shared_data / "bgc" / "CESM_BGC_2012.nc"
    ds = open_source(path, "cesm_bgc")
    np.testing.assert_allclose(ds.depth.values, _raw(path, "z_t") / 100.0)
    total = _raw(path, "diatChl") + _raw(path, "spChl") + _raw(path, "diazChl")
    np.testing.assert_allclose(ds.chl.isel(depth=slice(0, 3)).values, total, rtol=1e-5, equal_nan=True)
    assert float(ds.chl.isel(depth=slice(3, None)).max()) == 0.0  # no phytoplankton below 150 m
    assert ds.no3.attrs["units"] == "mmol m-3" and float(ds.o2.min()) > 0
