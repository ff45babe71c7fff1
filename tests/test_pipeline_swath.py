"""Swath (L2/L3 SST) and along-track (SLA) observations with pyresample."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ocean.cube import open_cube
from ocean.errors import DataError
from pipelines.build import build_cube
from pipelines.recipe import load_recipe
from pipelines.swath import target_area
from pipelines.validate import validate_cube
from test_pipeline_support import TARGET

RECIPE = """\
name: swath
grid: {{lat0: -90, lon0: -180, nlat: 8, nlon: 16, res: 22.5, name: tiny}}
levels: [0.5]
dates: {{start: 2020-01-01, end: 2020-01-02}}
compute: {{scheduler: synchronous, progress: false}}
sources:
  - {{name: l2p, kind: swath, product: ostia, variables: [sst], files: swath/*.nc,
      names: {{sst: sea_surface_temperature}}, resampler: {resampler}, radius_km: 2000, sigma_km: 1000}}
  - {{name: track, kind: swath, product: altimetry, variables: [sla], files: track/*.nc}}
"""


def _swath_file(path, day, lats, lons, kelvin):
    """An L2P-like granule: 2-D lat/lon, one time per scan line, SST in kelvin."""
    scan = pd.Timestamp(day) + pd.to_timedelta(np.arange(lats.shape[0]), unit="min")
    ds = xr.Dataset({"sea_surface_temperature": (("nj", "ni"), np.asarray(kelvin, "f4"), {"units": "K"})},
                    coords={"lat": (("nj", "ni"), lats), "lon": (("nj", "ni"), lons), "time": ("nj", scan)})
    ds.to_netcdf(path)


def _track_file(path, times, lats, lons, sla):
    ds = xr.Dataset({"sla": ("time", np.asarray(sla, "f4"), {"units": "m"})},
                    coords={"time": pd.DatetimeIndex(times), "latitude": ("time", lats), "longitude": ("time", lons)})
    ds.to_netcdf(path)


@pytest.fixture
def swaths(tmp_path):
    (tmp_path / "swath").mkdir()
    (tmp_path / "track").mkdir()
    lats = np.array([[1.0, 1.0, 30.0], [2.0, 50.0, 30.0]])
    lons = np.array([[1.0, 2.0, -170.0], [3.0, 100.0, 190.0]])  # 190 E is -170
    kelvin = np.array([[283.15, 285.15, 290.15], [np.nan, 275.15, 292.15]])
    _swath_file(tmp_path / "swath" / "g1.nc", "2020-01-01", lats, lons, kelvin)
    _swath_file(tmp_path / "swath" / "g2.nc", "2020-01-02", lats, lons, kelvin + 1.0)
    _track_file(tmp_path / "track" / "t.nc", ["2020-01-01T03:00", "2020-01-01T04:00", "2020-01-02T05:00"],
                np.array([-30.0, -31.0, -30.0]), np.array([-100.0, -101.0, -100.0]), [0.1, 0.3, -0.2])
    return tmp_path


def _build(root, resampler="bucket"):
    recipe = root / "swath.yaml"
    recipe.write_text(RECIPE.format(resampler=resampler))
    return open_cube(build_cube(load_recipe(recipe), root / "cube.zarr").path)


def test_bucket_average_and_observation_count(swaths):
    ds = _build(swaths)
    lat_i = lambda lat: int(np.searchsorted(TARGET.lat_bounds, lat) - 1)  # noqa: E731
    lon_i = lambda lon: int(np.searchsorted(TARGET.lon_bounds, (lon + 180) % 360 - 180) - 1)  # noqa: E731
    day1 = ds.isel(time=0)
    # (1,1) 10 C and (1,2) 12 C share a cell; (2,3) is NaN and not counted.
    assert float(day1.sst[lat_i(1), lon_i(1)]) == pytest.approx(11.0, abs=1e-4)
    assert float(day1.sst_count[lat_i(1), lon_i(1)]) == 2
    # -170 and 190 are the same meridian.
    assert float(day1.sst[lat_i(30), lon_i(-170)]) == pytest.approx(18.0, abs=1e-4)
    assert float(day1.sst_count[lat_i(30), lon_i(-170)]) == 2
    assert float(ds.isel(time=1).sst[lat_i(1), lon_i(1)]) == pytest.approx(12.0, abs=1e-4)
    # Along-track SLA: two observations on day 1, one on day 2, in the same cell.
    assert float(day1.sla[lat_i(-30), lon_i(-100)]) == pytest.approx(0.2, abs=1e-6)
    assert float(day1.sla_count[lat_i(-30), lon_i(-100)]) == 2
    assert float(ds.isel(time=1).sla_count[lat_i(-30), lon_i(-100)]) == 1
    assert int(day1.sst_count.sum()) == 5 and np.isnan(day1.sst.values).sum() == TARGET.nlat * TARGET.nlon - 3
    assert ds.sst.attrs["units"] == "degrees_C" and ds.sst_count.attrs["units"] == "1"
    assert validate_cube(swaths / "cube.zarr") == []


def test_gaussian_resampling_option(swaths):
    ds = _build(swaths, "gaussian")
    first = ds.sst.isel(time=0)
    assert np.isfinite(first.values).sum() >= 4
    lat_i, lon_i = 4, 8  # the cell holding (1, 1), (1, 2), (2, 3)
    assert 9.5 < float(first[lat_i, lon_i]) < 12.5  # a weighted mean of 10 and 12
    assert float(ds.sst_count.isel(time=0)[lat_i, lon_i]) == 2  # counts stay bucket counts


def test_target_area_cells_are_the_grid_cells():
    area = target_area(TARGET)
    lons, lats = area.get_lonlats()
    np.testing.assert_allclose(lats[::-1, 0], TARGET.lat, atol=1e-9)
    np.testing.assert_allclose((lons[0] + 180) % 360 - 180, TARGET.lon_wrapped, atol=1e-9)


def test_an_empty_swath_file_is_refused(swaths):
    ds = xr.Dataset({"sea_surface_temperature": (("nj", "ni"), np.zeros((0, 3), "f4"), {"units": "K"})},
                    coords={"lat": (("nj", "ni"), np.zeros((0, 3))), "lon": (("nj", "ni"), np.zeros((0, 3))),
                            "time": ("nj", pd.DatetimeIndex([]))})
    ds.to_netcdf(swaths / "swath" / "empty.nc")
    with pytest.raises(DataError, match="empty swath file") as err:
        _build(swaths)
    assert "empty.nc" in str(err.value) and "sea_surface_temperature" in str(err.value)
    assert "expected at least one observation" in str(err.value)
