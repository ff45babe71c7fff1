"""The ENSO model as a head: monthly inputs assembled from the backbone's daily fields.

:func:`monthly_inputs` takes daily canonical datasets, analyses first and
then forecasts (``time, depth, latitude, longitude``; a forecast store's
``init_time, lead_time`` with a ``valid_time`` coordinate is accepted and
turned into ``time``), holding ``thetao`` and the 10 m winds ``u10``,
``v10``, and returns the monthly ENSO fields on a
:class:`~downstream.enso.data.Layout`:

1. the datasets are combined day by day, the first one that has a day
   winning (analyses before forecasts);
2. daily wind stress from the bulk formula ``tau = rho_a C_d |U| U`` with
   ``rho_a = 1.2 kg m-3`` and a constant drag coefficient ``C_d = 1.3e-3``
   (Large & Pond's neutral value for 5-10 m/s winds; the synthetic ocean's
   monthly stresses use the same constants), computed from daily winds and
   then averaged, so the monthly mean keeps the wind variance's stress;
3. monthly means of complete months only (``min_days`` days present,
   default: every day of the month);
4. temperature interpolated linearly in depth onto the layout's levels,
   then everything regridded onto the layout's grid
   (:func:`downstream.enso.readers.regrid`: bin average from finer grids,
   bilinear from coarser ones).

It is a pure function of its inputs, so the downstream-head framework can
call it on the backbone's analyses and 30-day forecasts.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import xarray as xr

from downstream.enso.data import Layout
from downstream.enso.readers import interpolate_levels, regrid
from ocean import variables as V
from ocean.errors import DataError

__all__ = ["monthly_inputs", "bulk_wind_stress", "AIR_DENSITY", "DRAG_COEFFICIENT"]

log = logging.getLogger(__name__)

AIR_DENSITY = 1.2  # kg m-3
DRAG_COEFFICIENT = 1.3e-3  # dimensionless, neutral 10 m drag coefficient


def bulk_wind_stress(u10: xr.DataArray, v10: xr.DataArray, drag_coefficient: float = DRAG_COEFFICIENT,
                     air_density: float = AIR_DENSITY) -> tuple[xr.DataArray, xr.DataArray]:
    """``(tauuo, tauvo)`` in N m-2 from 10 m winds in m s-1: ``rho_a C_d |U| U``."""
    speed = np.sqrt(u10**2 + v10**2)
    k = air_density * drag_coefficient * speed
    return ((k * u10).rename("tauuo").assign_attrs(V.get("tauuo").cf_attrs()),
            (k * v10).rename("tauvo").assign_attrs(V.get("tauvo").cf_attrs()))


def _as_time_series(ds: xr.Dataset) -> xr.Dataset:
    if "time" in ds.dims:
        return ds
    if "lead_time" in ds.dims and "valid_time" in ds.coords:
        if "init_time" in ds.dims:
            if ds.sizes["init_time"] != 1:
                raise DataError("a forecast with several inits", variable="init_time",
                                found=f"{ds.sizes['init_time']} inits", expected="one init (select it first)")
            ds = ds.isel(init_time=0)
        valid = ds["valid_time"].values
        return ds.drop_vars([c for c in ("valid_time", "init_time") if c in ds.coords]).rename(
            {"lead_time": "time"}).assign_coords(time=valid)
    raise DataError("no time axis", found=sorted(map(str, ds.dims)),
                    expected="dims time, ... (analyses) or lead_time with a valid_time coordinate (forecasts)")


def _combine(datasets: Sequence[xr.Dataset]) -> xr.Dataset:
    parts = [_as_time_series(d)[[v for v in ("thetao", "u10", "v10") if v in d]] for d in datasets]
    out = parts[0]
    for p in parts[1:]:
        out = out.combine_first(p)  # the earlier dataset wins where both have a day
    missing = [v for v in ("thetao", "u10", "v10") if v not in out]
    if missing:
        raise DataError("fields are missing for the ENSO inputs", found=sorted(out.data_vars),
                        expected="thetao (time, depth, latitude, longitude), u10 and v10 (time, latitude, longitude)")
    return out.sortby("time")


def monthly_inputs(datasets: "xr.Dataset | Sequence[xr.Dataset]", layout: Layout, *, min_days: int | None = None,
                   drag_coefficient: float = DRAG_COEFFICIENT, air_density: float = AIR_DENSITY) -> xr.Dataset:
    """Monthly ``thetao``, ``tauuo``, ``tauvo`` on ``layout`` from daily canonical datasets (see module doc)."""
    if isinstance(datasets, xr.Dataset):
        datasets = [datasets]
    if not datasets:
        raise DataError("no datasets given", expected="daily analyses and/or forecasts")
    daily = _combine(datasets)
    tx, ty = bulk_wind_stress(daily["u10"], daily["v10"], drag_coefficient, air_density)
    daily = xr.Dataset({"thetao": daily["thetao"], "tauuo": tx, "tauvo": ty})
    counts = daily["thetao"].isel(depth=0).notnull().any(("latitude", "longitude")).resample(time="MS").sum()
    monthly = daily.resample(time="MS").mean(keep_attrs=True)
    need = monthly["time"].dt.days_in_month if min_days is None else min_days
    complete = (counts >= need).values
    if not complete.any():
        raise DataError("no complete month in the daily fields", variable="time",
                        found=f"{daily.sizes['time']} days {str(daily.time.values[0])[:10]}.."
                              f"{str(daily.time.values[-1])[:10]}",
                        expected="at least one month with every day (or min_days days) present")
    monthly = monthly.isel(time=np.flatnonzero(complete))
    log.info("ENSO inputs: %d complete months from %d days", monthly.sizes["time"], daily.sizes["time"])
    out = xr.Dataset({
        "thetao": regrid(interpolate_levels(monthly["thetao"], layout.levels), layout.grid),
        "tauuo": regrid(monthly["tauuo"], layout.grid),
        "tauvo": regrid(monthly["tauvo"], layout.grid),
    })
    for v in ("thetao", "tauuo", "tauvo"):
        out[v].attrs = V.get(v).cf_attrs()
    out.attrs = {"source": "monthly means of daily fields", "drag_coefficient": drag_coefficient,
                 "air_density": air_density}
    return out
