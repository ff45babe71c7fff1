"""Forecasts in OceanBench's challenger layout, so that its evaluator can score them.

OceanBench (Mercator Ocean International; ``oceanbench`` on PyPI, code at
github.com/mercator-ocean/oceanbench, documentation page "Shape of the
challenger dataset") evaluates a *challenger dataset*:

* dims ``first_day_datetime`` (the first day of each forecast),
  ``lead_day_index`` (0-based: 0..9 for its 10-day forecasts), ``depth``
  (positive down, m), ``latitude``, ``longitude``;
* variables named, or carrying ``standard_name``, after CF:
  ``sea_surface_height_above_geoid`` (``zos``, no depth),
  ``sea_water_potential_temperature`` (``thetao``), ``sea_water_salinity``
  (``so``), ``eastward_sea_water_velocity`` (``uo``),
  ``northward_sea_water_velocity`` (``vo``) — the Copernicus Marine names,
  which are ours;
* the day that ``lead_day_index = k`` forecasts is ``first_day_datetime + k``
  days (its evaluator renames ``lead_day_index`` to ``time`` with exactly
  those values: ``oceanbench/core`` ``_assign_week_time``);
* one forecast per ``first_day_datetime``, concatenated along it (the
  official challengers: 52 weekly forecasts from the Wednesdays of 2024, each
  store's ``time`` renamed to ``lead_day_index``);
* grids of 1/12°, 1/4° or 1°; its 1° grids have nodes on whole degrees
  (``interpolate_1deg``: ``arange(floor(min), ceil(max), 1)``, linear).

Our forecast stores (``init_time, lead_time``; lead 1 is the day after init)
map onto it as ``first_day_datetime = init_time + 1 day`` and
``lead_day_index = lead days - 1``. :func:`to_challenger` builds the dataset
lazily; :func:`write_challenger` writes it atomically as Zarr (format 2, as
OceanBench's own stores, readable with zarr 2 and 3) or NetCDF.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ocean import variables as V
from ocean.errors import DataError

__all__ = ["to_challenger", "write_challenger", "CHALLENGER_VARIABLES", "LEAD_DAYS", "SUPPORTED_RESOLUTIONS"]

log = logging.getLogger(__name__)

CHALLENGER_VARIABLES = ("zos", "thetao", "so", "uo", "vo")
LEAD_DAYS = 10
SUPPORTED_RESOLUTIONS = (1 / 12, 0.25, 1.0)


def to_challenger(forecasts: xr.Dataset, lead_days: int = LEAD_DAYS, inits: Sequence | None = None,
                  resolution: float | None = None) -> xr.Dataset:
    """Our forecasts (``init_time, lead_time, [depth,] latitude, longitude``) in OceanBench's layout.

    ``lead_days`` first leads are kept (OceanBench scores 10); ``inits``
    selects init dates; ``resolution`` 1 interpolates linearly onto
    OceanBench's whole-degree 1° grid (periodic in longitude).
    """
    missing = [v for v in CHALLENGER_VARIABLES if v not in forecasts]
    if missing:
        raise DataError("the forecasts lack variables OceanBench scores", found=sorted(map(str, forecasts.data_vars)),
                        expected=list(CHALLENGER_VARIABLES))
    ds = forecasts[list(CHALLENGER_VARIABLES)]
    if inits is not None:
        want = pd.DatetimeIndex(inits).values
        absent = np.setdiff1d(want, ds["init_time"].values)
        if absent.size:
            raise DataError("no forecast for some inits", variable="init_time",
                            found=[str(a)[:10] for a in absent[:3]],
                            expected=f"inits among {str(ds.init_time.values[0])[:10]}..{str(ds.init_time.values[-1])[:10]}")
        ds = ds.sel(init_time=want)
    days = (ds["lead_time"].values / np.timedelta64(1, "D")).astype(int)
    need = np.arange(1, lead_days + 1)
    if not np.isin(need, days).all():
        raise DataError("the forecasts are shorter than the challenger's lead days", variable="lead_time",
                        found=f"lead days {days.min()}..{days.max()}", expected=f"1..{lead_days}",
                        hint="Give fewer --lead-days or forecasts with more --leads")
    ds = ds.sel(lead_time=need * np.timedelta64(1, "D")).drop_vars("valid_time", errors="ignore")
    first = ds["init_time"].values + np.timedelta64(1, "D")
    ds = ds.rename(init_time="first_day_datetime", lead_time="lead_day_index").assign_coords(
        first_day_datetime=("first_day_datetime", first.astype("datetime64[ns]"),
                            {"long_name": "first day of the forecast (init + 1 day)"}),
        lead_day_index=("lead_day_index", np.arange(lead_days),
                        {"long_name": "lead day index (0: the first day of the forecast)", "units": "1"}))
    if resolution is not None:
        ds = _to_whole_degrees(ds, float(resolution))
    else:
        _warn_resolution(ds)
    for v in CHALLENGER_VARIABLES:
        ds[v].attrs = V.get(v).cf_attrs()
    ds["depth"].attrs = {"standard_name": "depth", "long_name": "depth", "units": "m", "positive": "down", "axis": "Z"}
    ds.attrs = {"Conventions": "CF-1.8", "title": "ocean-forecast forecasts in OceanBench's challenger layout",
                "source": forecasts.attrs.get("source", "ocean-forecast"),
                "model_sha256": forecasts.attrs.get("model_sha256", ""),
                "layout": "first_day_datetime = init + 1 day; valid day = first_day_datetime + lead_day_index days"}
    return ds.transpose("first_day_datetime", "lead_day_index", "depth", "latitude", "longitude", missing_dims="ignore")


def _warn_resolution(ds: xr.Dataset) -> None:
    res = float(np.median(np.diff(ds["latitude"].values)))
    if not any(abs(res - r) < 1e-3 for r in SUPPORTED_RESOLUTIONS):
        log.warning("the forecasts are on a %.4g-degree grid; OceanBench scores 1/12, 1/4 or 1 degree challengers "
                    "(export with resolution=1 / --resolution 1)", res)


def _to_whole_degrees(ds: xr.Dataset, resolution: float) -> xr.Dataset:
    if abs(resolution - 1.0) > 1e-9:
        raise DataError("only the 1-degree regridding is built in", found=resolution, expected=1.0,
                        hint="Forecasts on OceanBench's 1/12 or 1/4 degree grids are exported as they are")
    lat, lon = ds["latitude"].values, ds["longitude"].values
    new_lat = np.arange(np.ceil(lat.min()), np.floor(lat.max()) + 1, 1.0)
    step = float(np.median(np.diff(lon)))
    periodic = abs(step * lon.size - 360.0) < 1e-6
    if periodic:  # wrap a column on each side so that interpolation crosses the seam
        ds = xr.concat([ds.isel(longitude=[-1]).assign_coords(longitude=[lon[-1] - 360.0]), ds,
                        ds.isel(longitude=[0]).assign_coords(longitude=[lon[0] + 360.0])], dim="longitude")
        new_lon = np.arange(-180.0, 180.0, 1.0)
    else:
        new_lon = np.arange(np.ceil(lon.min()), np.floor(lon.max()) + 1, 1.0)
    out = ds.interp(latitude=new_lat, longitude=new_lon, method="linear")
    return out.assign_coords(latitude=("latitude", new_lat, {"standard_name": "latitude", "units": "degrees_north"}),
                             longitude=("longitude", new_lon, {"standard_name": "longitude", "units": "degrees_east"}))


def write_challenger(ds: xr.Dataset, path: "str | os.PathLike", overwrite: bool = False) -> Path:
    """Write the challenger dataset atomically: ``.zarr`` (Zarr format 2, consolidated) or ``.nc``.

    Holds the output's lock (``ocean.lock.store_lock``), which also removes the temporaries of killed runs."""
    from ocean.lock import store_lock

    with store_lock(path):
        return _write_challenger(ds, Path(path), overwrite)


def _write_challenger(ds: xr.Dataset, path: Path, overwrite: bool) -> Path:
    from ocean.store import atomic_path, quiet_zarr, write_netcdf

    if path.exists() and not overwrite:
        raise DataError("the output exists", file=path, hint="Use --force to replace it")
    if path.suffix == ".nc":
        return write_netcdf(ds.load(), path)
    if path.suffix != ".zarr":
        raise DataError("unknown output format", file=path, expected="a path ending in .zarr or .nc")
    enc = {}
    for v in ds.data_vars:
        chunks = tuple(1 if d in ("first_day_datetime", "lead_day_index", "depth") else ds.sizes[d] for d in ds[v].dims)
        enc[v] = {"chunks": chunks}
    out = ds.chunk({d: 1 for d in ("first_day_datetime", "lead_day_index", "depth") if d in ds.dims})
    for v in out.variables:
        out[v].encoding = {}
    with atomic_path(path) as tmp, quiet_zarr():
        out.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True, encoding=enc)
    return path
