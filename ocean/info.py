"""Describe a dataset on disk: what ``ocean info PATH`` prints.

``describe`` returns a plain dict so a notebook can use it; ``format_description``
renders it as text. It first says what the thing *is*:

* ``training_cube``: a store written by ``ocean data build`` (``cube_format``);
* ``forecast``: a forecast store (``init_time, lead_time``) or a folder of them;
* ``hindcast_metrics``: ``metrics.nc`` and its siblings written by ``ocean hindcast``
  (dims ``metric``, ``lead_time``);
* ``producer``: a file of a known producer (``ocean.variables.LEXICONS``),
  with the source it was recognised as;
* ``argo_profiles``, ``ndbc_stdmet``, ``ww3_spectra``: observation and wave files
  the heads and the hindcast read;
* ``unknown``: anything else readable.

Then dims, variables, time, grid and levels, the **CF problems** (``ocean.cf.problems``,
cf_xarray's criteria) and, apart from them, **notes on how it differs from our
canonical form** (``ocean.cf.canonical_notes``: kelvin, descending latitude,
0..360 longitudes), which ``ocean.io.open_source`` converts on reading.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ocean import cf
from ocean import variables as V
from ocean.errors import DataError
from ocean.grid import Grid
from ocean.io import detect_source, open_raw, open_source

__all__ = ["describe", "format_description"]

_KINDS = {
    "training_cube": "training cube (written by `ocean data build`)",
    "forecast": "forecast store (written by `ocean forecast`)",
    "forecast_root": "folder of forecast stores (read with ocean.forecast_store.open_forecasts)",
    "hindcast_metrics": "hindcast scores (written by `ocean hindcast`)",
    "producer": "producer file",
    "argo_profiles": "Argo profiles (read by ocean.argo.read_argo; `ocean hindcast --argo`)",
    "ndbc_stdmet": "NDBC buoy standard meteorological record (text; `ocean hindcast --buoys`)",
    "ww3_spectra": "WAVEWATCH III spectral point output (read by downstream.waves.readers.read_ww3_spectra)",
    "unknown": "not a known producer format",
}


def describe(path: "str | Path") -> dict:
    """Facts about the NetCDF file, Zarr store or folder of forecasts at ``path``."""
    path = Path(path)
    if not path.exists():
        raise DataError("no such file or store", file=path)
    if path.is_file() and _is_ndbc(path):
        return _describe_ndbc(path)
    if path.is_dir() and not (path / "zarr.json").exists() and not (path / ".zgroup").exists():
        return _describe_forecast_root(path)
    raw = open_raw(path, chunks={})
    info: dict = {"path": str(path), "format": "zarr" if path.is_dir() else "netcdf",
                  "dims": {str(k): int(v) for k, v in raw.sizes.items()}, "variables": _variables(raw),
                  "source": None}
    kind = _kind(raw)
    ds, lexicon = raw, None
    if kind == "unknown":
        try:
            lexicon = detect_source(raw, path)
            ds = open_source(path, lexicon.name, check=False)
            kind, info["source"] = "producer", lexicon.name
        except DataError as exc:
            info["source_error"] = _short(exc)
    elif kind == "forecast":
        ds = xr.open_zarr(path, consolidated=None, chunks={})  # lead_time decoded as durations
    info["kind"] = kind
    info["description"] = _description(kind, raw, lexicon)
    info["time"] = _time_summary(ds)
    info["grid"] = _grid_summary(ds)
    info["levels"] = [round(float(d), 4) for d in ds["depth"].values] if "depth" in ds.coords else None
    info.update(_extras(kind, ds))
    info["cf_problems"] = cf.problems(raw)
    ours_or_producer = kind in ("training_cube", "forecast", "producer")
    info["canonical_notes"] = cf.canonical_notes(raw, lexicon) if ours_or_producer else []
    return info


def _kind(raw: xr.Dataset) -> str:
    from ocean.cube import CUBE_FORMAT

    if raw.attrs.get("cube_format") == CUBE_FORMAT:
        return "training_cube"
    if "init_time" in raw.dims and "lead_time" in raw.dims:
        return "forecast"
    if str(raw.attrs.get("title", "")).startswith("ocean-forecast hindcast") or (
            "metric" in raw.dims and "lead_time" in raw.dims):
        return "hindcast_metrics"
    if "PLATFORM_NUMBER" in raw.variables and "Argo" in str(raw.attrs.get("Conventions", "")):
        return "argo_profiles"
    if "efth" in raw.data_vars and {"frequency", "direction"} <= set(raw.dims):
        return "ww3_spectra"
    return "unknown"


def _description(kind: str, raw: xr.Dataset, lexicon: "V.Lexicon | None") -> str:
    if kind == "producer" and lexicon is not None:
        return f"{lexicon.description} (source {lexicon.name!r})"
    if kind == "argo_profiles":
        return f"{_KINDS[kind]}: {raw.sizes.get('N_PROF', '?')} profiles"
    title = raw.attrs.get("title")
    return _KINDS[kind] + (f": {title}" if title and kind in ("hindcast_metrics",) else "")


def _variables(raw: xr.Dataset) -> dict:
    return {str(name): {"dims": list(map(str, da.dims)), "dtype": str(da.dtype), "units": da.attrs.get("units"),
                        "standard_name": da.attrs.get("standard_name"), "long_name": da.attrs.get("long_name")}
            for name, da in raw.data_vars.items()}


def _short(exc: Exception, limit: int = 300) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + " ..."


def _extras(kind: str, raw: xr.Dataset) -> dict:
    """What matters about our own stores beyond dims and variables."""
    if kind == "forecast":
        inits = pd.DatetimeIndex(np.atleast_1d(raw["init_time"].values))
        leads = pd.TimedeltaIndex(np.atleast_1d(raw["lead_time"].values))
        return {"init_times": [str(t.date()) for t in inits],
                "lead_days": [int(leads[0].days), int(leads[-1].days)] if leads.size else []}
    if kind == "training_cube":
        return {"recipe_name": _recipe_name(raw), "gaps": raw.attrs.get("gaps")}
    if kind == "hindcast_metrics":
        return {k: [str(v) for v in raw[k].values] for k in ("system", "metric", "region") if k in raw.coords}
    return {}


def _recipe_name(raw: xr.Dataset) -> str | None:
    import json

    try:
        return json.loads(raw.attrs.get("recipe", "{}")).get("name")
    except (ValueError, AttributeError):
        return None


def _describe_forecast_root(path: Path) -> dict:
    from ocean.forecast_store import list_forecasts, open_forecasts

    if not list_forecasts(path):
        raise DataError("a folder that is neither a Zarr store nor a folder of forecasts", file=path,
                        expected="a NetCDF file, a Zarr store, or a folder of forecast_YYYY-MM-DD.zarr stores")
    ds = open_forecasts(path)
    info = {"path": str(path), "format": "folder", "kind": "forecast_root", "source": None,
            "description": f"{_KINDS['forecast_root']}: {len(list_forecasts(path))} stores",
            "dims": {str(k): int(v) for k, v in ds.sizes.items()}, "variables": _variables(ds),
            "time": None, "grid": _grid_summary(ds),
            "levels": [round(float(d), 4) for d in ds["depth"].values] if "depth" in ds.coords else None}
    info.update(_extras("forecast", ds))
    info["cf_problems"] = cf.problems(ds)
    info["canonical_notes"] = cf.canonical_notes(ds)
    return info


def _is_ndbc(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(64)
    return head.startswith(b"#YY") or head.startswith(b"YY")


def _describe_ndbc(path: Path) -> dict:
    with open(path) as f:
        names, units = f.readline().lstrip("#").split(), f.readline().lstrip("#").split()
    table = pd.read_csv(path, sep=r"\s+", comment="#", header=None, names=names, dtype=str)
    t = pd.to_datetime(table[names[:5]].set_axis(["year", "month", "day", "hour", "minute"], axis=1),
                       errors="coerce").dropna().sort_values()
    common = pd.Series(np.diff(t.values)).value_counts().index[:2] if t.size > 1 else []
    steps = [f"mostly {pd.Timedelta(s)}" for s in common[:1]]
    return {"path": str(path), "format": "text", "kind": "ndbc_stdmet", "source": None,
            "description": _KINDS["ndbc_stdmet"], "dims": {"record": int(len(table))},
            "variables": {n: {"dims": ["record"], "dtype": "text", "units": u, "standard_name": None,
                              "long_name": None} for n, u in zip(names[5:], units[5:])},
            "time": {"start": str(t.min()), "end": str(t.max()), "count": int(t.size), "steps": steps},
            "grid": None, "levels": None, "cf_problems": [], "canonical_notes": [],
            "notes": ["a text record, not NetCDF: CF does not apply; 'MM' and 99/999 mark missing values"]}


def _time_summary(ds: xr.Dataset) -> dict | None:
    if "time" not in ds.coords or not np.issubdtype(ds["time"].dtype, np.datetime64):
        return None
    t = pd.DatetimeIndex(np.atleast_1d(ds["time"].values))
    steps = sorted({str(pd.Timedelta(s)) for s in np.diff(t.values)}) if t.size > 1 else []
    if len(steps) > 4:
        steps = steps[:2] + ["..."] + steps[-1:]
    return {"start": str(t[0]), "end": str(t[-1]), "count": int(t.size), "steps": steps}


def _grid_summary(ds: xr.Dataset) -> str | None:
    if "latitude" not in ds.coords or "longitude" not in ds.coords or ds["latitude"].ndim != 1:
        return None
    lat = np.asarray(ds["latitude"].values, dtype=np.float64)
    lon = np.asarray(ds["longitude"].values, dtype=np.float64)
    extent = f"lat {lat.min():g}..{lat.max():g}, lon {lon.min():g}..{lon.max():g}"
    try:
        g = Grid.from_coords(np.sort(lat), lon)
    except ValueError as exc:
        return f"{lat.size}x{lon.size}, irregular ({exc}); {extent}"
    res = f"1/{round(1 / g.res)}" if abs(1 / g.res - round(1 / g.res)) < 1e-6 and g.res < 1 else f"{g.res:g}"
    return f"{g.nlat}x{g.nlon} at {res} deg ({extent}{', periodic' if g.is_periodic else ''})"


def format_description(info: dict) -> str:
    lines = [f"{info['path']} ({info['format']})"]
    lines.append(f"  what:      {info.get('description') or info.get('kind')}")
    if info.get("source_error"):
        lines.append(f"             (no producer recognised: {info['source_error']})")
    lines.append("  dims:      " + ", ".join(f"{k}={v}" for k, v in info["dims"].items()))
    t = info.get("time")
    if t:
        lines.append(f"  time:      {t['start']} .. {t['end']} ({t['count']} steps; step {', '.join(t['steps']) or '-'})")
    if info.get("init_times"):
        it, lead = info["init_times"], info.get("lead_days") or []
        lines.append(f"  inits:     {it[0]} .. {it[-1]} ({len(it)}); lead days {'..'.join(map(str, lead)) or '-'}")
    for key in ("system", "metric", "region"):
        if info.get(key):
            lines.append(f"  {key + ':':<10} {', '.join(info[key])}")
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
    notes = info.get("canonical_notes") or []
    if notes:
        lines.append(f"  differs from the canonical form ({len(notes)}; not CF problems, converted on reading):")
        lines += [f"    - {n}" for n in notes]
    lines += [f"  note: {n}" for n in info.get("notes", [])]
    return "\n".join(lines)
