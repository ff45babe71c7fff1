"""ENSO data: layout checks, climatology, windows, Niño3.4 of forecasts and the head's monthly assembly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from downstream.enso.assemble import bulk_wind_stress, monthly_inputs
from downstream.enso.data import Climatology, EnsoData, Layout, to_array, window_starts
from downstream.enso.evaluate import lag_autocorrelation, observed_index
from downstream.enso.index import box_climatology, forecast_nino34
from downstream.enso.outlook import enso_outlook
from ocean.errors import DataError, ModelMismatchError
from ocean.indices import NINO34, box_mean, nino34
from test_enso_support import make_tiny_forecaster, tiny_fields, tiny_layout


def test_to_array_channel_order_and_land_stress():
    layout = tiny_layout()
    ds = tiny_fields()
    arr = to_array(ds, layout)
    assert arr.shape == (72, 5, 11, 60) and layout.channels == ("thetao@5", "thetao@60", "thetao@150", "tauuo", "tauvo")
    np.testing.assert_array_equal(arr[:, 1], ds["thetao"].isel(depth=1).values)
    land = np.isnan(arr[0, 0])
    assert land.any() and np.isnan(arr[:, 3:, land]).all()  # stress dropped over land
    assert np.isfinite(arr[:, 3:, ~land]).all()


def test_layout_mismatch_names_both_sides():
    other = Layout.from_spec("tropical_pacific@4", [5, 60, 120])
    with pytest.raises(ModelMismatchError, match=r"expects levels \[5.0, 60.0, 120.0\].*has \[5.0, 60.0, 150.0\]"):
        to_array(tiny_fields(), other, "the test data")
    with pytest.raises(ModelMismatchError, match="expects grid tropical_pacific_2deg"):
        to_array(tiny_fields(), Layout.from_spec("tropical_pacific@2", [5, 60, 150]))


def test_climatology_anomalies_and_statistics():
    layout, ds = tiny_layout(), tiny_fields()
    data = EnsoData(ds, layout, climatology_period=("2000-01-01", "2005-12-31"))
    raw = to_array(ds, layout)
    jan = raw[::12].mean(axis=0)
    np.testing.assert_allclose(data.climatology.values[0], jan, rtol=1e-5, equal_nan=True)
    anom = data.values.numpy()  # normalised, land 0
    assert abs(anom[:, 0][:, data.mask[0]].mean()) < 0.05
    assert 0.5 < anom[:, 0][:, data.mask[0]].std() < 2.0
    assert data.statistics.channels == layout.channels
    assert np.isclose(data.nino34_weights().sum(), 1.0)
    with pytest.raises(DataError, match="does not cover every calendar month"):
        Climatology.fit(raw, pd.DatetimeIndex(ds.time.values), ("2000-01-01", "2000-06-30"))


def test_window_starts_stay_inside_the_period():
    t = pd.date_range("2000-01-01", periods=48, freq="MS")
    s = window_starts(t, ("2000-01-01", "2002-12-31"), 32)
    assert s.tolist() == [0, 1, 2, 3, 4]
    assert window_starts(t, ("2000-01-01", "2001-06-30"), 32).size == 0


def test_forecast_nino34_equals_ocean_indices_on_the_same_fields():
    fc = make_tiny_forecaster()
    fields = tiny_fields()
    ds = enso_outlook("2003-05", fc, fields, members=1)
    g = fc.layout.grid
    clim = box_climatology(fc.climatology.values[:, 0], g.lat, g.lon)
    # the observed month before init, then the predicted fields, as one monthly SST series
    last = fields["thetao"].sel(time="2003-04-01").isel(depth=0)
    pred = ds["thetao"].isel(depth=0).drop_vars(["valid_time", "init_time", "depth"]).rename(lead_time="time")
    sst = xr.concat([last.drop_vars(["time", "depth"]).expand_dims(time=[0]), pred.assign_coords(time=pred.time)],
                    dim="time")
    sst = sst.assign_coords(time=pd.date_range("2003-04-01", periods=sst.sizes["time"], freq="MS"))
    ref = nino34(sst, climatology=clim)
    got = ds["nino34"].values
    np.testing.assert_allclose(got[:-1], ref.values[1:-1], atol=1e-5)
    anomalies = box_mean(sst, NINO34).values - clim.sel(month=sst.time.dt.month).values
    assert got[-1] == pytest.approx(anomalies[-2:].mean(), abs=1e-5)  # the last lead: a 2-month mean


def test_observed_index_is_ocean_indices_nino34():
    fc = make_tiny_forecaster()
    fields = tiny_fields()
    g = fc.layout.grid
    clim = box_climatology(fc.climatology.values[:, 0], g.lat, g.lon)
    ours = observed_index(fields, clim)
    ref = nino34(fields["thetao"], climatology=clim)
    np.testing.assert_allclose(ours.values, ref.values, atol=1e-6, equal_nan=True)
    r = lag_autocorrelation(ours, np.array([0, 1, 3]))
    assert r[0] == pytest.approx(1.0) and r[1] > r[2] > 0.3


def test_forecast_nino34_by_lead_by_hand():
    lat, lon = np.array([-1.0, 1.0]), np.array([-150.0, -140.0])
    vals = np.arange(4.0)[:, None, None] * np.ones((4, 2, 2))
    da = xr.DataArray(vals, dims=("lead_time", "latitude", "longitude"),
                      coords={"lead_time": np.arange(4), "latitude": lat, "longitude": lon})
    np.testing.assert_allclose(forecast_nino34(da).values, [1.0, 2.0, 2.5])  # last lead: mean of 2 and 3


@pytest.fixture(scope="module")
def daily():
    from ocean.synthetic import SyntheticOcean

    so = SyntheticOcean("tropical_pacific@4", levels="aigoms15", seed=0)
    dates = pd.date_range("2020-01-01", "2020-02-29", freq="D")
    phys = so.physics(dates)[["thetao"]]
    forcing = so.forcing(dates)[["u10", "v10"]]
    return xr.merge([phys, forcing])


def test_monthly_inputs_from_analyses_and_forecasts(daily):
    layout = tiny_layout()  # same 4-degree grid, enso levels
    analysis = daily.sel(time=slice("2020-01-01", "2020-01-31"))
    fc = daily.sel(time=slice("2020-01-25", "2020-02-29"))  # overlaps the analysis by a week
    forecast = fc.rename(time="lead_time").assign_coords(
        lead_time=np.arange(fc.sizes["time"]) + 1, valid_time=("lead_time", fc.time.values))
    forecast = forecast.expand_dims(init_time=[np.datetime64("2020-01-24")])
    out = monthly_inputs([analysis, forecast.assign(thetao=forecast.thetao + 100.0)], layout)
    assert list(pd.DatetimeIndex(out.time.values).strftime("%Y-%m")) == ["2020-01", "2020-02"]
    # January comes from the analysis only (the forecast's +100 K would show)
    jan = daily["thetao"].sel(time=slice("2020-01-01", "2020-01-31")).mean("time")
    want = jan.interp(depth=60.0)
    np.testing.assert_allclose(out["thetao"].sel(time="2020-01-01", depth=60.0).values, want.values, atol=1e-4)
    assert float(out["thetao"].sel(time="2020-02-01").isel(depth=0).mean()) > 100
    tx, _ = bulk_wind_stress(daily["u10"], daily["v10"])
    np.testing.assert_allclose(out["tauuo"].sel(time="2020-01-01").values,
                               tx.sel(time=slice("2020-01-01", "2020-01-31")).mean("time").values, rtol=1e-4)
    arr = to_array(out, layout)  # ready for the model
    assert arr.shape == (2, 5, 11, 60)


def test_monthly_inputs_refuse_incomplete_months_and_missing_winds(daily):
    layout = tiny_layout()
    with pytest.raises(DataError, match="no complete month"):
        monthly_inputs(daily.sel(time=slice("2020-01-05", "2020-01-31")), layout)
    with pytest.raises(DataError, match="fields are missing"):
        monthly_inputs(daily[["thetao"]], layout)
    coarse = monthly_inputs(daily.sel(time=slice("2020-01-05", "2020-01-31")), layout, min_days=20)
    assert coarse.sizes["time"] == 1
    fine = monthly_inputs(daily.sel(time=slice("2020-01-01", "2020-01-31")),
                          Layout.from_spec("tropical_pacific@2", [5, 60, 150]))  # bilinear from coarser
    assert fine["thetao"].shape == (1, 3, 20, 119)
    src = daily["thetao"].sel(time=slice("2020-01-01", "2020-01-31")).mean("time").interp(depth=60.0)
    got = fine["thetao"].sel(depth=60.0).values
    assert np.nanmin(got) >= float(src.min()) - 1e-3 and np.nanmax(got) <= float(src.max()) + 1e-3
