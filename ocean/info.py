"""Describe a dataset on disk: what ``ocean info PATH`` prints.

``describe`` returns a plain dict (variables, dims, time range and step,
grid, levels, recognised producer, CF problems) so a notebook can use it;
``format_description`` renders it as text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ocean import cf
from ocean.errors import DataError
from ocean.grid import Grid
from ocean.io import detect_source, open_raw, open_source

__all__ = ["describe", "format_description"]


def describe(path: "str | Path") -> dict:
    """Facts about the NetCDF file or Zarr store at ``path``."""
    path = Path(path)
    if not path.exists():
        raise DataError("no such file or store", file=path)
    raw = open_raw(path, chunks={})
    info: dict = {"path": str(path), "format": "zarr" if path.is_dir() else "netcdf",
                  "dims": {str(k): int(v) for k, v in raw.sizes.items()}, "variables": {}}
    for name, da in raw.data_vars.items():
        info["variables"][str(name)] = {
            "dims": list(map(str, da.dims)), "dtype": str(da.dtype),
            "units": da.attrs.get("units"), "standard_name": da.attrs.get("standard_name"),
            "long_name": da.attrs.get("long_name"),
        }
    ds, info["source"] = raw, None
    try:
        info["source"] = detect_source(raw, path).name
        ds = open_source(path, info["source"], check=False)
    except DataError as exc:
        info["source_error"] = str(exc)
    info["time"] = _time_summary(ds)
    info["grid"] = _grid_summary(ds)
    info["levels"] = [round(float(d), 4) for d in ds["depth"].values] if "depth" in ds.coords else None
    info["cf_problems"] = cf.problems(raw)
    return info


def _time_summary(ds: xr.Dataset) -> dict | None:
    if "time" not in ds.coords or not np.issubdtype(ds["time"].dtype, np.datetime64):
        return None
    t = pd.DatetimeIndex(np.atleast_1d(ds["time"].values))
    steps = sorted({str(pd.Timedelta(s)) for s in np.diff(t.values)}) if t.size > 1 else []
    return {"start": str(t[0]), "end": str(t[-1]), "count": int(t.size), "steps": steps}


def _grid_summary(ds: xr.Dataset) -> str | None:
    if "latitude" not in ds.coords or "longitude" not in ds.coords:
        return None
    lat, lon = ds["latitude"].values, ds["longitude"].values
    try:
        return Grid.from_coords(lat, lon).describe()
    except ValueError as exc:
        return f"irregular ({exc}); lat {lat.min():g}..{lat.max():g}, lon {lon.min():g}..{lon.max():g}"


def format_description(info: dict) -> str:
    lines = [f"{info['path']} ({info['format']})"]
    src = info.get("source")
    lines.append(f"  source:    {src or 'not a known producer format'}"
                 + (f"  [cannot be read canonically: {info['source_error']}]" if info.get("source_error") else ""))
    lines.append("  dims:      " + ", ".join(f"{k}={v}" for k, v in info["dims"].items()))
    t = info.get("time")
    if t:
        lines.append(f"  time:      {t['start']} .. {t['end']} ({t['count']} steps; step {', '.join(t['steps']) or '-'})")
    lines.append(f"  grid:      {info.get('grid') or '-'}")
    if info.get("levels"):
        lv = info["levels"]
        lines.append(f"  levels:    {len(lv)}: {', '.join(f'{d:g}' for d in lv)} m")
    lines.append("  variables:")
    for name, v in info["variables"].items():
        label = v.get("standard_name") or v.get("long_name") or ""
        lines.append(f"    {name:<12} {'(' + ', '.join(v['dims']) + ')':<40} {v.get('units') or '-':<12} {label}")
    probs = info.get("cf_problems") or []
    lines.append(f"  CF problems: {len(probs) or 'none'}")
    lines += [f"    - {p}" for p in probs]
    return "\n".join(lines)
