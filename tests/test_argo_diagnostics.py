import netCDF4
import numpy as np
import pytest
import xarray as xr

from ocean.argo import class4, class4_summary, read_argo
from ocean.diagnostics import geostrophic_currents, mixed_layer_depth, potential_density
from ocean.errors import DataError


def _column(values, depth):
    return xr.DataArray(np.asarray(values, float)[:, None, None], dims=("depth", "latitude", "longitude"),
                        coords={"depth": depth, "latitude": [10.0], "longitude": [0.0]})


def test_mixed_layer_depth_by_hand():
    depth = np.array([0.5, 6, 10, 20, 30, 50, 70, 100.0])
    temp = np.where(depth <= 30, 20.0, 20.0 - 0.1 * (depth - 30))
    sal = np.full(depth.size, 35.0)
    sigma = potential_density(_column(temp, depth), _column(sal, depth)).squeeze().values
    expected = 30 + 0.03 / (sigma[5] - sigma[4]) * 20  # linear between 30 and 50 m
    mld = float(mixed_layer_depth(_column(temp, depth), _column(sal, depth)).squeeze())
    assert mld == pytest.approx(expected, rel=1e-9)


def test_fully_mixed_column_reports_its_bottom_and_land_is_nan():
    depth = np.array([0.5, 10, 50.0])
    both = xr.concat([_column([15, 15, 15], depth), _column([np.nan] * 3, depth)], dim="longitude")
    both = both.assign_coords(longitude=[0.0, 1.0])
    mld = mixed_layer_depth(both, both * 0 + 35).squeeze("latitude").values
    assert mld[0] == 50.0 and np.isnan(mld[1])


def test_geostrophic_currents_by_hand_and_equator_excluded():
    lat, lon = np.arange(-60, 61, 2.0), np.arange(-180, 180, 2.0)
    eta = xr.DataArray(0.1 * np.sin(np.deg2rad(lat))[:, None] * np.ones(lon.size), dims=("latitude", "longitude"),
                       coords={"latitude": lat, "longitude": lon})
    g = geostrophic_currents(eta)
    i = int(np.searchsorted(lat, 30))
    f = 2 * 7.2921e-5 * np.sin(np.deg2rad(30))
    expected = -(9.80665 / f) * 0.1 * np.cos(np.deg2rad(30)) / 6_371_000.0
    assert float(g.ugos[i, 0]) == pytest.approx(expected, rel=1e-3)
    assert float(abs(g.vgos).max()) == 0.0
    assert bool(g.ugos.sel(latitude=0).isnull().all())


def test_read_real_argo_respects_qc(shared_data):
    path = shared_data / "argo" / "2902269_prof.nc"
    prof = read_argo(path)
    with netCDF4.Dataset(path) as d:
        qc = np.ma.filled(d["TEMP_QC"][:], b" ")
        n_good_raw = int(np.isin(qc, (b"1", b"2", b"5", b"8")).sum())
    n_kept = int(prof.thetao.notnull().sum())
    assert 0 < n_kept <= n_good_raw
    assert float(prof.depth.max()) > 900 and float(prof.thetao.max()) < 35
    # Potential temperature is below in-situ temperature at depth (adiabatic heating removed).
    assert prof.attrs["qc_kept"] == "1,2,5,8"


def test_class4_matches_a_real_float_exactly_on_a_linear_field(shared_data):
    prof = read_argo(shared_data / "argo" / "2902269_prof.nc").isel(profile=slice(0, 5))
    t0 = prof.time.values.min().astype("datetime64[D]")
    t1 = prof.time.values.max().astype("datetime64[D]")
    inits = np.arange(t0 - 2, t1 + 1, np.timedelta64(1, "D")).astype("datetime64[ns]")
    lat, lon, z = np.arange(-89, 90, 2.0), np.arange(-179, 180, 2.0), np.array([0.5, 50, 200, 1000, 2000.0])
    field = (20 - 0.01 * z)[None, None, :, None, None] * np.ones((inits.size, 2, z.size, lat.size, lon.size), "f4")
    dims = ("init_time", "lead_time", "depth", "latitude", "longitude")
    fc = xr.Dataset({"thetao": (dims, field), "so": (dims, field * 0 + 35)},
                    coords={"init_time": inits, "lead_time": (np.arange(1, 3) * np.timedelta64(1, "D")).astype("timedelta64[ns]"),
                            "depth": z, "latitude": lat, "longitude": lon})
    m = class4(fc, prof)
    assert m.sizes["lead_time"] == 2 and m.sizes["obs"] > 100
    model = m.model_thetao.values
    expected = np.broadcast_to((20 - 0.01 * m.depth.values)[:, None], model.shape)
    inside = (m.depth.values >= 0.5) & (m.depth.values <= 2000)  # within the forecast levels
    assert np.isfinite(model[inside]).all() and np.isnan(model[~inside]).all()
    np.testing.assert_allclose(model[inside], expected[inside], atol=1e-4)
    summary = class4_summary(m)
    assert int(summary.thetao_count.sum()) > 0 and float(abs(summary.thetao_bias).max()) > 0


def test_argo_file_that_is_not_argo(tmp_path):
    xr.Dataset({"x": ("a", [1.0])}).to_netcdf(tmp_path / "x_prof.nc")
    with pytest.raises(DataError, match="not an Argo profile file"):
        read_argo(tmp_path / "x_prof.nc")
