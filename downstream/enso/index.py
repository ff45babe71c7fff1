"""Niño3.4 of forecasts, with :mod:`ocean.indices` (the project's one index code).

The index is NOAA CPC's: cos-latitude weighted mean SST anomaly over
5S-5N, 170W-120W (:func:`ocean.indices.box_mean`), then a centred 3-month
running mean. For a forecast, month ``0`` is the last observed month and
months ``1..N`` the predicted ones, so lead 1 averages the last observed
month and the first two predicted ones; the last lead has no following
month and is the mean of the last two (documented in docs/enso.md). The
result equals :func:`ocean.indices.nino34` applied to the observed month
followed by the predicted fields (tested).

Anomalies are against the model's monthly climatology by default; a base
period may replace it, given SST covering that period (the WMO 30-year
norm for reanalysis, e.g. 1991-2020).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ocean.indices import NINO34, box_mean

__all__ = ["forecast_nino34", "box_climatology", "running_mean"]


def running_mean(series: xr.DataArray, dim: str, window: int = 3, min_periods: int | None = None) -> xr.DataArray:
    """Centred running mean along ``dim`` (the index's 3-month smoothing)."""
    return series.rolling({dim: window}, center=True, min_periods=min_periods or window).mean()


def box_climatology(climatology_sst: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> xr.DataArray:
    """Nino3.4 box mean of a monthly SST climatology ``(12, lat, lon)`` -> ``(month,)`` 1..12."""
    da = xr.DataArray(climatology_sst, dims=("month", "latitude", "longitude"),
                      coords={"month": np.arange(1, 13), "latitude": lat, "longitude": lon})
    return box_mean(da, NINO34)


def forecast_nino34(sst_anomaly: xr.DataArray, window: int = 3) -> xr.DataArray:
    """Nino3.4 by lead month from SST anomalies ``(..., lead_time, latitude, longitude)``.

    ``lead_time`` runs 0..N with 0 the last observed month; returns leads
    1..N. The last lead is the mean of the last two months.
    """
    series = box_mean(sst_anomaly, NINO34)
    index = running_mean(series, "lead_time", window, min_periods=window - 1).sel(
        lead_time=sst_anomaly["lead_time"].values[1:])
    index.name = "nino34"
    index.attrs = {"long_name": "Nino 3.4 index (3-month running mean of SST anomalies, 5S-5N 170W-120W)",
                   "units": "degrees_C", "standard_name": "sea_surface_temperature_anomaly"}
    return index
