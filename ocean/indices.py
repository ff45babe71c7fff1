"""Climate indices computed from any SST dataset: Niño3.4.

Niño3.4 (NOAA CPC's ONI definition): SST anomalies against a monthly
climatology over a base period, averaged over 5°S–5°N, 170°W–120°W with
cos-latitude weights, then a centred 3-month running mean. Works on monthly
or daily input (daily is averaged to months first), on any grid and
longitude convention, including ``lead_time``-indexed forecasts.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import xarray as xr

from ocean.errors import DataError
from ocean.grid import REGIONS, Region

__all__ = ["box_mean", "monthly_anomalies", "nino34"]

log = logging.getLogger(__name__)

NINO34: Region = REGIONS["nino34"]


def box_mean(da: xr.DataArray, region: Region) -> xr.DataArray:
    """cos-latitude weighted mean over ``region`` (NaN skipped)."""
    inside = xr.DataArray(region.contains(da["latitude"].values[:, None], da["longitude"].values[None, :]),
                          dims=("latitude", "longitude"),
                          coords={"latitude": da["latitude"], "longitude": da["longitude"]})
    if not bool(inside.any()):
        raise DataError(f"the {region.name} box contains no grid points", variable=str(da.name),
                        found=f"latitude {float(da.latitude.min()):g}..{float(da.latitude.max()):g}, "
                              f"longitude {float(da.longitude.min()):g}..{float(da.longitude.max()):g}",
                        expected=f"coverage of {region.lat_min}..{region.lat_max}N, {region.lon_min}..{region.lon_max}E")
    w = np.cos(np.deg2rad(da["latitude"])) * inside
    return da.where(inside).weighted(w.fillna(0)).mean(("latitude", "longitude"), skipna=True)


def monthly_anomalies(series: xr.DataArray, base_period: tuple[str, str], time: str = "time") -> xr.DataArray:
    """Monthly means minus the calendar-month climatology of ``base_period``.

    The result's ``attrs`` say which period was really used (``base_period``,
    first day of the first month to last day of the last month found) and
    which was asked for (``base_period_requested``); a warning is logged when
    the data do not cover the requested period.
    """
    monthly = series.resample({time: "MS"}).mean() if _sub_monthly(series[time].values) else series
    base = monthly.sel({time: slice(*base_period)})
    if base.sizes[time] < 12:
        raise DataError("the base period holds less than a year of data", variable=time,
                        found=f"{base.sizes[time]} months in {base_period}",
                        expected="at least 12 months (30 years is the WMO norm)")
    used = _covered(base[time].values)
    if pd.Timestamp(base_period[0]) < pd.Timestamp(used[0]) or pd.Timestamp(base_period[1]) > pd.Timestamp(used[1]):
        log.warning("anomaly base period: requested %s/%s, the data cover only %s/%s (%d months); the "
                    "climatology is computed over what is there", base_period[0], base_period[1], used[0], used[1],
                    base.sizes[time])
    clim = base.groupby(f"{time}.month").mean()
    out = (monthly.groupby(f"{time}.month") - clim).drop_vars("month")
    out.attrs = {"base_period": f"{used[0]}/{used[1]}", "base_years": f"{used[0][:4]}-{used[1][:4]}",
                 "base_months": int(base.sizes[time]),
                 "base_period_requested": f"{base_period[0]}/{base_period[1]}"}
    return out


def _covered(t: np.ndarray) -> tuple[str, str]:
    """First day of the first month and last day of the last month of monthly times ``t``."""
    first = pd.Timestamp(t[0]).to_period("M").start_time
    last = pd.Timestamp(t[-1]).to_period("M").end_time
    return f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"


def _sub_monthly(t: np.ndarray) -> bool:
    return t.size > 1 and np.median(np.diff(t)) < np.timedelta64(27, "D")


def nino34(sst: xr.DataArray, base_period: tuple[str, str] = ("1991-01-01", "2020-12-31"),
           running: int = 3, climatology: xr.DataArray | None = None) -> xr.DataArray:
    """Niño3.4 index (°C): 3-month running mean of box-mean SST anomalies.

    ``sst`` has dims ``time, latitude, longitude`` (others pass through);
    ``climatology`` (``month`` 1..12), when given, replaces the base-period
    climatology (e.g. the training cube's, for forecasts). ``attrs`` record
    the base period really used (see :func:`monthly_anomalies`).
    """
    if "depth" in sst.dims:
        sst = sst.isel(depth=0, drop=True)
    series = box_mean(sst, NINO34)
    if climatology is not None:
        monthly = series.resample(time="MS").mean() if _sub_monthly(series.time.values) else series
        anomalies = (monthly.groupby("time.month") - climatology).drop_vars("month")
        base = {"base_period": str(climatology.attrs.get("period", "the climatology given"))}
    else:
        anomalies = monthly_anomalies(series, base_period)
        base = dict(anomalies.attrs)
    index = anomalies.rolling(time=running, center=True, min_periods=running).mean() if running > 1 else anomalies
    index.name = "nino34"
    index.attrs = {"long_name": "Nino 3.4 index (3-month running mean of SST anomalies, 5S-5N 170W-120W)",
                   "units": "degrees_C", **base}
    return index
