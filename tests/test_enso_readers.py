"""Reanalysis readers: small files in GODAS, ORAS5 and SODA layouts -> canonical ENSO fields.

No real samples exist here; the files are built with each producer's
variable and dimension names, units, fill values and conventions: GODAS
``pottmp`` in K on ``level`` with an equator-refined latitude and 0..360
longitudes, ``uflx``/``vflx`` positive upward; ORAS5 on a curvilinear
ORCA-like grid (2-D ``nav_lat``/``nav_lon``, seam at 73E, ``deptht``,
``time_counter``, fill 1e20); SODA on MOM's B-grid (``temp`` on
``xt/yt_ocean``, ``taux``/``tauy`` on ``xu/yu_ocean``, ``st_ocean``).
The temperature is ``300 K - 0.1 K/m z + 0.05 K/deg lat`` with a land block
at 280-300E, so regridded values are known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from downstream.enso.data import Layout, to_array
from downstream.enso.readers import bin_average, interpolate_levels, read_monthly
from ocean.errors import DataError
from ocean.grid import Grid
from ocean.levels import Levels

LAYOUT = Layout.from_spec("tropical_pacific@2", "enso7")
TIMES = pd.to_datetime(["2000-01-01", "2000-02-01"])


def _temperature_c(z, lat):
    return 300.0 - 273.15 - 0.1 * z + 0.05 * lat


def _land(lon):
    return ((np.asarray(lon) % 360) >= 280) & ((np.asarray(lon) % 360) <= 300)


def _write(ds, path, fill):
    enc = {v: {"_FillValue": np.float32(fill), "dtype": "float32"} for v in ds.data_vars}
    ds.to_netcdf(path, engine="netcdf4", encoding=enc)
    return path


@pytest.fixture(scope="module")
def godas(tmp_path_factory):
    d = tmp_path_factory.mktemp("godas")
    lat = np.concatenate([np.arange(-30.5, -10, 1.0), np.arange(-10, 10, 1 / 3), np.arange(10.5, 31, 1.0)])
    lon = np.arange(0.5, 360, 1.0)
    level = np.arange(5.0, 236.0, 10.0)
    time = {"units": "days since 1800-01-01 00:00:00", "calendar": "standard"}
    T = _temperature_c(level[None, :, None, None], lat[None, None, :, None]) + 273.15 + 0 * lon
    T = np.where(_land(lon), np.nan, T * np.ones((2, 1, 1, 1)))
    coords = {"time": ("time", TIMES), "level": ("level", level, {"units": "m", "long_name": "Depth"}),
              "lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})}
    pot = xr.Dataset({"pottmp": (("time", "level", "lat", "lon"), T.astype(np.float32),
                                 {"units": "K", "long_name": "monthly mean potential temperature",
                                  "missing_value": np.float32(-9.96921e36)})}, coords=coords)
    pot["time"].encoding.update(time)
    flux = {}
    for name, value in (("uflx", -0.05), ("vflx", 0.02)):
        f = np.where(_land(lon), np.nan, value * np.ones((2, lat.size, lon.size)))
        ds = xr.Dataset({name: (("time", "lat", "lon"), f.astype(np.float32),
                                {"units": "N/m^2", "long_name": f"monthly mean {name[0]} momentum flux"})},
                        coords={k: v for k, v in coords.items() if k != "level"})
        ds["time"].encoding.update(time)
        flux[name] = _write(ds, d / f"{name}.2000.nc", -9.96921e36)
    return _write(pot, d / "pottmp.2000.nc", -9.96921e36), flux["uflx"], flux["vflx"]


@pytest.fixture(scope="module")
def oras5(tmp_path_factory):
    d = tmp_path_factory.mktemp("oras5")
    x = np.arange(360)
    lon1 = (73.5 + x) % 360.0
    lon1 = np.where(lon1 > 180, lon1 - 360, lon1)  # ORCA: -180..180 with the seam near 73E
    lat1 = np.concatenate([np.arange(-30, -10, 1.0), np.arange(-10, 10, 1 / 3), np.arange(10, 31, 1.0)])
    nav_lon = lon1[None, :] + 0.2 * np.sin(np.deg2rad(lat1))[:, None]  # curvilinear: meridians bend
    nav_lat = lat1[:, None] + 0.1 * np.cos(np.deg2rad(lon1))[None, :]
    deptht = np.array([0.5, 1.5, 2.6, 3.8, 5.1, 6.4, 7.9, 9.6, 11.4, 13.5, 15.8, 18.5, 21.6, 25.2, 29.4, 34.4,
                       40.3, 47.4, 55.8, 65.8, 77.9, 92.3, 109.7, 130.7, 155.9, 186.1])
    files = {"votemper": [], "sozotaux": [], "sometauy": []}
    for t in TIMES:
        tc = ("time_counter", [t + pd.Timedelta(days=14)], {"standard_name": "time"})  # stamped mid-month
        base = {"nav_lat": (("y", "x"), nav_lat.astype(np.float32)), "nav_lon": (("y", "x"), nav_lon.astype(np.float32))}
        T = _temperature_c(deptht[:, None, None], nav_lat[None]) * np.ones((1, 1, 1, 1))
        T = np.where(_land(nav_lon)[None, None], np.nan, T)
        ds = xr.Dataset({"votemper": (("time_counter", "deptht", "y", "x"), T.astype(np.float32), {"units": "degC"}),
                         **base}, coords={"time_counter": tc, "deptht": ("deptht", deptht, {"units": "m"})})
        tag = f"{t:%Y%m}"
        files["votemper"].append(_write(ds, d / f"votemper_control_monthly_highres_3D_{tag}_CONS_v0.1.nc", 1e20))
        for name, value in (("sozotaux", 0.05), ("sometauy", -0.02)):
            f = np.where(_land(nav_lon), np.nan, value * np.ones((1, *nav_lat.shape)))
            ds = xr.Dataset({name: (("time_counter", "y", "x"), f.astype(np.float32), {"units": "N/m2"}), **base},
                            coords={"time_counter": tc})
            files[name].append(_write(ds, d / f"{name}_control_monthly_highres_2D_{tag}_CONS_v0.1.nc", 1e20))
    return files


@pytest.fixture(scope="module")
def soda(tmp_path_factory):
    d = tmp_path_factory.mktemp("soda")
    xt, yt = np.arange(0.25, 360, 0.5), np.arange(-24.75, 25, 0.5)
    st = np.array([5.03, 15.10, 25.22, 35.36, 45.53, 55.73, 65.98, 76.28, 86.66, 97.12, 107.72, 118.50, 129.50,
                   140.79, 152.48, 164.64])
    T = _temperature_c(st[None, :, None, None], yt[None, None, :, None]) * np.ones((2, 1, 1, xt.size))
    T = np.where(_land(xt), np.nan, T)
    tau = lambda v: np.where(_land(xt + 0.25), np.nan, v * np.ones((2, yt.size, xt.size))).astype(np.float32)  # noqa: E731
    ds = xr.Dataset({
        "temp": (("time", "st_ocean", "yt_ocean", "xt_ocean"), T.astype(np.float32), {"units": "degrees C"}),
        "taux": (("time", "yu_ocean", "xu_ocean"), tau(0.05), {"units": "N/m^2"}),
        "tauy": (("time", "yu_ocean", "xu_ocean"), tau(-0.02), {"units": "N/m^2"}),
    }, coords={"time": ("time", TIMES + pd.Timedelta(days=15)), "st_ocean": ("st_ocean", st, {"units": "meters"}),
               "xt_ocean": xt, "yt_ocean": yt, "xu_ocean": xt + 0.25, "yu_ocean": yt + 0.25})
    return _write(ds, d / "soda3.4.2_mn_ocean_reg_2000.nc", -1e20)


def _check_canonical(ds, taux, tauy):
    arr = to_array(ds, LAYOUT)  # the model's grid and levels, or refused
    assert arr.shape == (2, 9, 20, 119)
    assert list(pd.DatetimeIndex(ds.time.values)) == list(TIMES)
    lat = ds.latitude.values
    want = _temperature_c(ds.depth.values[:, None, None], lat[None, :, None])
    got = ds["thetao"].isel(time=0).values
    ocean = np.isfinite(got[0])
    land = _land(ds.longitude.values)[None, :] * np.ones_like(ocean)
    assert not ocean[land.astype(bool)].any() and ocean.mean() > 0.8
    np.testing.assert_allclose(got[:, ocean], np.broadcast_to(want, got.shape)[:, ocean], atol=0.03)
    assert np.nanmax(np.abs(ds["tauuo"].values - taux)) < 1e-6
    assert np.nanmax(np.abs(ds["tauvo"].values - tauy)) < 1e-6


def test_godas_layout(godas):
    pot, uflx, vflx = godas
    ds = read_monthly("godas", pot, LAYOUT, zonal_stress=uflx, meridional_stress=vflx)
    _check_canonical(ds, 0.05, -0.02)  # stress on the ocean = -(upward momentum flux)


def test_godas_files_also_open_with_open_source(godas):
    from ocean.io import open_source

    ds = open_source(godas[0], source="godas")
    assert float(ds["thetao"].isel(time=0, depth=0).sel(latitude=0, method="nearest").isel(longitude=0)) \
        == pytest.approx(_temperature_c(5.0, 0.0), abs=0.1)
    assert float(open_source(godas[1], source="godas")["tauuo"].isel(time=0).mean()) == pytest.approx(0.05)


def test_oras5_curvilinear_layout(oras5):
    ds = read_monthly("oras5", oras5["votemper"], LAYOUT, zonal_stress=oras5["sozotaux"],
                      meridional_stress=oras5["sometauy"])
    _check_canonical(ds, 0.05, -0.02)


def test_soda_bgrid_layout(soda):
    _check_canonical(read_monthly("soda", soda, LAYOUT), 0.05, -0.02)


def test_reader_errors_name_what_was_found(soda, godas):
    with pytest.raises(DataError, match="unknown reanalysis reader"):
        read_monthly("hadisst", soda, LAYOUT)
    with pytest.raises(DataError, match="no 'votemper'"):
        read_monthly("oras5", godas[0], LAYOUT)
    deep = Layout.from_spec("tropical_pacific@2", [5, 60, 500])
    with pytest.raises(DataError, match="does not reach the deepest level"):
        read_monthly("soda", soda, deep)


def test_bin_average_by_hand():
    grid = Grid(-2.0, 0.0, 2, 2, 2.0)  # cells (-2..0, 0..2), (-2..0, 2..4), (0..2, ...)
    lat = np.array([-1.0, -1.0, -1.5, 1.0, 1.0, 1.0])
    lon = np.array([0.5, 1.5, 2.5, 0.5, 2.5, 362.5])  # 362.5 wraps onto 2.5
    vals = np.array([[1.0, 3.0, 5.0, np.nan, 7.0, 9.0]])
    out = bin_average(vals, lat, lon, grid)
    assert out.shape == (1, 2, 2)
    assert out[0, 0, 0] == pytest.approx(2.0) and out[0, 0, 1] == pytest.approx(5.0)
    assert np.isnan(out[0, 1, 0])  # the only point is NaN: land
    assert out[0, 1, 1] == pytest.approx(8.0)


def test_interpolate_levels_linear_with_top_clamp_and_bottom_nan():
    da = xr.DataArray(np.array([[10.0, 20.0, 30.0, np.nan]]).T, dims=("depth", "x"),
                      coords={"depth": [10.0, 20.0, 40.0, 80.0]})
    out = interpolate_levels(da, Levels((5.0, 15.0, 30.0, 60.0)))
    np.testing.assert_allclose(out.values[:, 0], [10.0, 15.0, 25.0, np.nan])
