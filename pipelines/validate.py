"""``ocean data validate``: is this store a sound training cube?

Checks, each reported as a sentence naming what was found and expected:

* every chunk decodes (``ocean.damage.scan_store``; ``--quick``: the last
  days only): each damaged chunk is reported by variable, day and file;
* it opens as a cube (``ocean.cube.open_cube``), holds at least one ocean
  field (a cube of forcing alone is not a training cube), and its metadata are
  consistent (no array left ahead of the consolidated metadata by an
  interrupted append);
* CF problems (``ocean.cf.problems``) and, in a cube, any difference from
  the canonical form (``ocean.cf.canonical_notes``: catalogue units,
  ascending latitude, -180..180 longitudes, depth in metres);
* values inside the catalogue's physical ranges, no infinities;
* NaN exactly over land for ocean variables (``mask``), nowhere in
  forcing, and only in the ocean for observation channels (``sst`` with an
  ``sst_count`` beside it);
* a daily, increasing time axis whose holes are all recorded in ``gaps``;
* statistics present, finite, for every variable, with their period.

The data are read once (one dask compute for all value checks).
"""

from __future__ import annotations

import json
from pathlib import Path

import dask
import numpy as np
import pandas as pd
import xarray as xr

from ocean import cf
from ocean import variables as V
from ocean.cube import STATISTICS_GROUP, open_cube
from ocean.damage import scan_store
from ocean.errors import DataError
from pipelines.append import read_json, time_arrays
from pipelines.gaps import expand_gaps
from pipelines.statistics import statistics_variables

__all__ = ["validate_cube", "QUICK_DAYS"]


#: Days read by ``validate --quick`` (and by an append's check of the cube it extends).
QUICK_DAYS = 2


def validate_cube(path, *, quick: bool = False) -> list[str]:
    """Problems found in the cube at ``path`` (empty when it is sound).

    Every chunk is read first (``quick``: the last :data:`QUICK_DAYS` days
    only); damaged chunks are reported one by one (variable, day, file) and
    the value checks, which would stop at the first, are then skipped.
    """
    path = Path(path)
    try:
        ds = open_cube(path)
    except DataError as exc:
        return [str(exc)]
    damaged = [str(d) for d in scan_store(path, quick=quick, days=QUICK_DAYS)]
    if damaged:
        return _metadata_problems(path) + damaged
    days = ds.isel(time=slice(-QUICK_DAYS, None)) if quick else ds
    found = _metadata_problems(path)
    found += _content_problems(days)
    found += [f"CF: {p}" for p in cf.problems(days)]
    found += [f"not canonical: {n}" for n in cf.canonical_notes(days)]
    found += _time_problems(ds)
    if "mask" not in ds:
        found.append("no 'mask' variable (expected int8 depth x latitude x longitude, 1 = ocean)")
    found += _value_problems(days)
    found += _statistics_problems(path, ds)
    return found


def _content_problems(ds: xr.Dataset) -> list[str]:
    """A training cube holds at least one ocean field (forcing and static fields alone forecast nothing)."""
    timed = [str(v) for v in ds.data_vars if "time" in ds[v].dims]
    ocean = [v for v in timed if v in V.CATALOGUE and V.get(v).group not in ("forcing", "static")]
    if ocean:
        return []
    wanted = ", ".join(V.PROGNOSTIC) + " (or an observed/derived ocean field: sst, chl, VHM0, ...)"
    return [f"no ocean variables: found {sorted(map(str, ds.data_vars)) or 'no variables'}"
            f"{' (forcing/static only)' if timed else ''}; expected at least one of {wanted}. "
            "Add an ocean source (kind: reanalysis, sst_l4, ...) to the recipe and rebuild"]


def _metadata_problems(path: Path) -> list[str]:
    root = read_json(path / "zarr.json")
    meta = (root.get("consolidated_metadata") or {}).get("metadata")
    if not meta:
        return ["no consolidated metadata in zarr.json (expected: written by `ocean data build`)"]
    out = []
    for name in time_arrays(meta):
        own = read_json(path / name / "zarr.json").get("shape")
        if own != meta[name]["shape"]:
            out.append(f"{name}/zarr.json has shape {own}, the consolidated metadata {meta[name]['shape']}: an "
                       "append was interrupted; rerun it (or any append) to put it back")
    return out


def _time_problems(ds: xr.Dataset) -> list[str]:
    t = pd.DatetimeIndex(ds["time"].values)
    if t.size and (t != t.normalize()).any():
        return [f"time holds times of day (e.g. {t[t != t.normalize()][0]}); expected days at 00:00"]
    if not t.is_monotonic_increasing or t.has_duplicates:
        return ["time is not strictly increasing"]
    recorded = {g["date"] for g in expand_gaps(json.loads(ds.attrs.get("gaps", "[]")))
                if g["policy"] == "skip"}
    holes = []
    for a, b in zip(t[:-1], t[1:]):
        missing = pd.date_range(a + pd.Timedelta(days=1), b - pd.Timedelta(days=1), freq="D")
        holes += [str(d.date()) for d in missing if str(d.date()) not in recorded]
    if holes:
        return [f"time is not daily: {len(holes)} missing days not recorded in 'gaps' "
                f"(first {holes[0]}); expected one record per day or recorded gaps"]
    return []


def _rule(ds: xr.Dataset, name: str) -> str:
    if name.endswith("_count") or f"{name}_count" in ds:
        return "observation"
    if name in V.CATALOGUE and V.get(name).group == "forcing":
        return "forcing"
    return "ocean"


def _value_problems(ds: xr.Dataset) -> list[str]:
    mask = ds["mask"].astype(bool) if "mask" in ds else None
    checks = {}
    for name, var in ds.data_vars.items():
        if "time" not in var.dims:
            continue
        c = {"inf": np.isinf(var).sum(), "min": var.min(), "max": var.max()}
        nan = var.isnull()
        rule = _rule(ds, str(name))
        if rule == "forcing":
            c["nan"] = nan.sum()
        elif mask is not None:
            m = mask if "depth" in var.dims else mask.isel(depth=0, drop=True)
            c["land_value"] = (~nan & ~m).sum()
            if rule == "ocean":
                c["ocean_nan"] = (nan & m).sum()
        checks[str(name)] = c
    (computed,) = dask.compute(checks)
    out = []
    for name, c in computed.items():
        if int(c["inf"]):
            out.append(f"{name}: {int(c['inf'])} infinite values")
        if name in V.CATALOGUE and np.isfinite(float(c["min"])):
            lo, hi = V.get(name).valid_range
            if float(c["min"]) < lo or float(c["max"]) > hi:
                out.append(f"{name}: values {float(c['min']):.6g}..{float(c['max']):.6g} outside the "
                           f"physical range [{lo:g}, {hi:g}] {V.get(name).units}")
        if int(c.get("nan", 0)):
            out.append(f"{name}: {int(c['nan'])} NaN in a forcing field (expected values everywhere)")
        if int(c.get("ocean_nan", 0)):
            out.append(f"{name}: {int(c['ocean_nan'])} NaN in ocean cells (expected NaN only over land)")
        if int(c.get("land_value", 0)):
            out.append(f"{name}: {int(c['land_value'])} values over land (expected NaN where mask is 0)")
    return out


def _statistics_problems(path: Path, ds: xr.Dataset) -> list[str]:
    try:
        stats = xr.open_zarr(path, group=STATISTICS_GROUP, consolidated=None).load()
    except (FileNotFoundError, KeyError, OSError, ValueError):
        return ["no statistics group (expected float64 {var}_mean, {var}_std, {var}_tendency_std)"]
    out = []
    for key in ("period_start", "period_end"):
        if not stats.attrs.get(key):
            out.append(f"statistics: attribute {key!r} is missing (the period they were computed on)")
    tendencies = any(k.endswith("_tendency_std") for k in stats.data_vars)
    for v in statistics_variables(ds):
        wanted = [f"{v}_mean", f"{v}_std"] + ([f"{v}_tendency_std"] if tendencies else [])
        for key in wanted:
            if key not in stats:
                out.append(f"statistics: {key} is missing")
            elif stats[key].dtype != np.float64 or not np.all(np.isfinite(stats[key].values)):
                out.append(f"statistics: {key} is not finite float64 (found {stats[key].dtype})")
    return out
