import numpy as np
import pytest
import xarray as xr

from conftest import make_tiny_ocean
from ocean.errors import DataError
from ocean.grid import Grid, Region
from ocean.indices import nino34
from ocean.levels import Levels
from ocean.metrics import (acc, climatology_at, daily_climatology, persistence, region_masks, score)


def _forecast_from(ref, inits, leads, noise=0.0, seed=0):
    lead = (np.arange(1, leads + 1) * np.timedelta64(1, "D")).astype("timedelta64[ns]")
    valid = xr.DataArray(inits[:, None] + lead[None, :], dims=("init_time", "lead_time"))
    rng = np.random.default_rng(seed)
    fc = xr.Dataset({v: ref[v].sel(time=valid).drop_vars("time") + noise * rng.standard_normal(ref[v].sel(time=valid).shape)
                     for v in ref.data_vars})
    fc = fc.assign_coords(init_time=inits, lead_time=lead)
    return fc.assign_coords(valid_time=fc.init_time + fc.lead_time)


@pytest.fixture
def ref():
    return make_tiny_ocean(Grid.global_(22.5), Levels((0.5, 10.0, 100.0)), days=12)


def test_perfect_forecast_rmse_0_bias_0_acc_1(ref):
    fc = _forecast_from(ref, ref.time.values[:6], 4)
    clim = climatology_at(daily_climatology(ref, window=31), fc.valid_time)
    s = score(fc, ref, clim, regions=["global", "tropics"])
    assert s.thetao.dims == ("metric", "region", "lead_time", "depth") and s.zos.dims == ("metric", "region", "lead_time")
    np.testing.assert_allclose(s.sel(metric=["rmse", "bias"]).to_array().values, 0.0, atol=1e-12)
    np.testing.assert_allclose(s.sel(metric="acc").to_array().values, 1.0, rtol=1e-6)


def test_rmse_and_bias_by_hand_with_area_weights():
    # Two ocean cells at latitudes 0 and 60 (weights 1 and 0.5), one land cell.
    lat, lon = np.array([0.0, 60.0]), np.array([0.0, 10.0])
    t = np.array(["2020-01-01", "2020-01-02"], "datetime64[ns]")
    ref = xr.Dataset({"zos": (("time", "latitude", "longitude"), np.array([[[0.0, np.nan], [0.0, 0.0]]] * 2))},
                     coords={"time": t, "latitude": lat, "longitude": lon})
    err = np.array([[[[2.0, np.nan], [1.0, -1.0]]]])  # (init, lead, lat, lon)
    fc = xr.Dataset({"zos": (("init_time", "lead_time", "latitude", "longitude"), err)},
                    coords={"init_time": t[:1], "lead_time": [np.timedelta64(1, "D").astype("timedelta64[ns]")],
                            "latitude": lat, "longitude": lon})
    fc = fc.assign_coords(valid_time=fc.init_time + fc.lead_time)
    s = score(fc, ref)
    # Weighted MSE = (1*4 + 0.5*1 + 0.5*1) / (1 + 0.5 + 0.5) = 2.5; bias = (2 + 0.5 - 0.5) / 2 = 1.
    assert float(s.zos.sel(metric="rmse", region="global").squeeze()) == pytest.approx(np.sqrt(2.5))
    assert float(s.zos.sel(metric="bias", region="global").squeeze()) == pytest.approx(1.0)


def test_acc_by_hand():
    w = xr.DataArray(np.ones(3), dims="x")
    f, r, c = (xr.DataArray(np.array(v, float), dims="x") for v in ([1, 2, 3], [1, 2, 5], [0, 0, 0]))
    expected = (1 + 4 + 15) / np.sqrt((1 + 4 + 9) * (1 + 4 + 25))
    assert float(acc(f, r, c, w, dim=["x"])) == pytest.approx(expected)


def test_persistence_of_a_constant_field_scores_zero(ref):
    const = ref.copy()
    for v in const.data_vars:
        const[v] = const[v].isel(time=0).broadcast_like(const[v])
    fc = _forecast_from(const, const.time.values[:4], 3)
    s = score(persistence(fc, const), const)
    np.testing.assert_allclose(s.sel(metric="rmse").to_array().values, 0.0, atol=1e-12)


def test_noise_increases_rmse_and_land_is_ignored(ref):
    fc = _forecast_from(ref, ref.time.values[:6], 2, noise=0.5)
    s = score(fc, ref)
    r = s.zos.sel(metric="rmse", region="global").values
    assert np.all((r > 0.4) & (r < 0.6))


def test_different_grids_or_levels_are_refused(ref):
    fc = _forecast_from(ref, ref.time.values[:3], 2)
    with pytest.raises(DataError, match="different depth"):
        score(fc, ref.assign_coords(depth=[0.5, 10.0, 200.0]))
    with pytest.raises(DataError, match="different latitude"):
        score(fc, ref.assign_coords(latitude=ref.latitude + 1))


def test_valid_times_outside_reference_and_empty_region(ref):
    fc = _forecast_from(ref, ref.time.values[:3], 2)
    with pytest.raises(DataError, match="valid times outside the reference"):
        score(fc, ref.isel(time=slice(0, 3)))
    with pytest.raises(DataError, match="region contains no grid points"):
        region_masks(ref, [Region("speck", 1.0, 1.1, 1.0, 1.1)])


def test_nino34_on_real_ersst_peaks_in_december_2015(shared_data):
    from ocean.io import open_source

    sst = open_source(shared_data / "sst" / "ersstv5_2010_2020.nc", "ersst").sst
    index = nino34(sst, base_period=("2010-01-01", "2019-12-31")).compute()
    peak = index.idxmax("time").values
    assert float(index.max()) == pytest.approx(2.6, abs=0.1)
    assert str(peak)[:7] == "2015-12"
