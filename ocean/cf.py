"""CF conventions: stamp attributes from the catalogue, and list problems.

``apply_cf`` is used by every writer (training cube, forecasts, metrics), so
the attributes come from one place (``ocean.variables``). ``problems``
returns human-readable findings; ``ocean info`` and ``ocean data validate``
print them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ocean import variables as V

__all__ = ["apply_cf", "problems", "CONVENTIONS"]

CONVENTIONS = "CF-1.10"

_COORD_ATTRS = {
    "latitude": {"standard_name": "latitude", "long_name": "Latitude", "units": "degrees_north", "axis": "Y"},
    "longitude": {"standard_name": "longitude", "long_name": "Longitude", "units": "degrees_east", "axis": "X"},
    "depth": {"standard_name": "depth", "long_name": "Depth", "units": "m", "positive": "down", "axis": "Z"},
    "time": {"standard_name": "time", "long_name": "Time", "axis": "T"},
    "init_time": {"standard_name": "forecast_reference_time", "long_name": "Forecast initialisation time"},
    "lead_time": {"standard_name": "forecast_period", "long_name": "Forecast lead time"},
    "valid_time": {"standard_name": "time", "long_name": "Valid time"},
}


def apply_cf(ds: xr.Dataset, title: str | None = None, **global_attrs) -> xr.Dataset:
    """Return ``ds`` with catalogue attributes on known variables and coordinates."""
    ds = ds.copy()
    for name in ds.data_vars:
        if name in V.CATALOGUE:
            attrs = dict(ds[name].attrs)
            attrs.update(V.get(name).cf_attrs())
            ds[name].attrs = attrs
    for name, attrs in _COORD_ATTRS.items():
        if name in ds.coords:
            merged = dict(ds[name].attrs)
            merged.update(attrs)
            if np.issubdtype(ds[name].dtype, np.datetime64) or np.issubdtype(ds[name].dtype, np.timedelta64):
                merged.pop("units", None)  # set by the encoder
            ds[name].attrs = merged
    ds.attrs["Conventions"] = CONVENTIONS
    if title:
        ds.attrs["title"] = title
    ds.attrs.update({k: v for k, v in global_attrs.items() if v is not None})
    return ds


def problems(ds: xr.Dataset) -> list[str]:
    """CF and canonical-form problems found in ``ds`` (empty when none)."""
    found: list[str] = []
    if "Conventions" not in ds.attrs:
        found.append("global attribute 'Conventions' is missing (expected e.g. 'CF-1.10')")
    for name, da in ds.data_vars.items():
        found += _variable_problems(str(name), da)
    found += _coordinate_problems(ds)
    return found


def _variable_problems(name: str, da: xr.DataArray) -> list[str]:
    out = []
    units = da.attrs.get("units")
    if units is None and np.issubdtype(da.dtype, np.number):
        out.append(f"{name}: no 'units' attribute")
    if "standard_name" not in da.attrs and "long_name" not in da.attrs:
        out.append(f"{name}: neither 'standard_name' nor 'long_name'")
    if name in V.CATALOGUE:
        var = V.get(name)
        if units is not None and V.canonical_units(str(units)) != V.canonical_units(var.units):
            out.append(f"{name}: units {units!r}, canonical is {var.units!r}")
        sn = da.attrs.get("standard_name")
        if sn is not None and sn != var.standard_name:
            out.append(f"{name}: standard_name {sn!r}, catalogue says {var.standard_name!r}")
    return out


def _coordinate_problems(ds: xr.Dataset) -> list[str]:
    out = []
    for axis, units in (("latitude", "degrees_north"), ("longitude", "degrees_east")):
        if axis not in ds.coords:
            out.append(f"no '{axis}' coordinate")
            continue
        if ds[axis].attrs.get("units") != units:
            out.append(f"{axis}: units {ds[axis].attrs.get('units')!r}, expected {units!r}")
    if "latitude" in ds.coords and ds["latitude"].ndim == 1 and ds["latitude"].size > 1:
        lat = ds["latitude"].values
        if lat[0] > lat[-1]:
            out.append("latitude is descending (canonical is ascending)")
    if "longitude" in ds.coords and ds["longitude"].ndim == 1 and ds["longitude"].size > 1:
        lon = ds["longitude"].values
        if np.any(np.diff(lon) <= 0):
            out.append("longitude is not monotonic increasing")
        elif lon.min() < -180 or (lon.max() >= 180 and lon.min() >= 0 and lon.max() - lon.min() > 180):
            out.append(f"longitude runs {lon.min():g}..{lon.max():g} (canonical is -180..180)")
    if "depth" in ds.coords:
        d = ds["depth"]
        if d.attrs.get("positive") != "down":
            out.append("depth: attribute positive='down' is missing")
        if d.attrs.get("units") not in ("m", "meters", "metre", "metres", "meter"):
            out.append(f"depth: units {d.attrs.get('units')!r}, expected 'm'")
    if "time" in ds.coords and ds["time"].ndim == 1:
        out += _time_problems(ds["time"])
    return out


def _time_problems(time: xr.DataArray) -> list[str]:
    if not np.issubdtype(time.dtype, np.datetime64):
        return [f"time is not decoded as dates (dtype {time.dtype}; check its 'units' attribute)"]
    t = pd.DatetimeIndex(time.values)
    out = []
    if t.has_duplicates:
        out.append(f"time has duplicated values, e.g. {t[t.duplicated()][0]}")
    if not t.is_monotonic_increasing:
        out.append("time is not increasing")
    return out
