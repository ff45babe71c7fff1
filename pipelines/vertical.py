"""Vertical remapping onto the target levels, and masks per level from bathymetry.

Remapping is linear in depth between the two source levels that bracket a
target level, so a profile linear in depth is reproduced exactly. The rules
at the ends of a column:

* above the first source level (GLORYS's 0.49 m, or a coarser product's
  first level), the first level's value is taken: the surface mixed layer
  is well mixed;
* when the deeper bracketing source level is land (NaN: below that
  product's sea floor) the shallower value is kept only if
  ``extend_to_floor`` (a bathymetry is known) -- the cube's mask, made
  from that bathymetry, then removes every level below the sea floor, so
  nothing is ever extrapolated below it;
* below the deepest source level there is no value (NaN).

Only the source levels that some target level needs are read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ocean.levels import Levels
from pipelines.regrid import Regridder, regrid

__all__ = ["VerticalPlan", "vertical_plan", "remap_vertical", "ocean_fraction", "regrid_depth", "pick_levels"]


@dataclass(frozen=True)
class VerticalPlan:
    """For each target level: the upper and lower source level and the weight of the lower."""

    needed: tuple[int, ...]  # source levels read (indices into the source's depth axis)
    upper: tuple[int, ...]  # indices into ``needed``
    lower: tuple[int, ...]
    weight: tuple[float, ...]
    beyond: tuple[bool, ...]  # target level deeper than the deepest source level


def vertical_plan(source_depths, levels: Levels) -> VerticalPlan:
    d = np.asarray(source_depths, dtype=np.float64)
    z = levels.values
    upper, lower, weight, beyond = [], [], [], []
    for zk in z:
        if zk <= d[0] + 1e-6:
            i = j = 0
            w = 0.0
        elif zk >= d[-1] - 1e-6:
            i = j = d.size - 1
            w = 0.0
        else:
            j = int(np.searchsorted(d, zk))
            i = j - 1
            if abs(d[j] - zk) < 1e-6:
                i, w = j, 0.0
            else:
                w = float((zk - d[i]) / (d[j] - d[i]))
        upper.append(i)
        lower.append(j)
        weight.append(w)
        beyond.append(bool(zk > d[-1] + 1e-6))
    needed = tuple(sorted(set(upper) | set(lower)))
    index = {k: n for n, k in enumerate(needed)}
    return VerticalPlan(needed, tuple(index[i] for i in upper), tuple(index[j] for j in lower),
                        tuple(weight), tuple(beyond))


def pick_levels(da: xr.DataArray, indices) -> xr.DataArray:
    """``da.isel(depth=indices)`` without copying chunks.

    With one level per dask chunk, one-level slices are put side by side
    (this only rearranges chunks, where an index list would copy every
    selected chunk: 35 MB per 1/12 degree level). With whole columns per
    chunk (``sources.COLUMN_BYTES``), an index list is one take per chunk.
    """
    if _columns(da):
        return da.isel(depth=[int(i) for i in indices])
    return xr.concat([da.isel(depth=slice(int(i), int(i) + 1)) for i in indices], dim="depth")


def _columns(da: xr.DataArray) -> bool:
    """True when every depth level of a record is in one dask chunk."""
    chunks = da.chunks[da.get_axis_num("depth")] if da.chunks else None
    return chunks is None or len(chunks) == 1


def remap_vertical(da: xr.DataArray, plan: VerticalPlan, levels: Levels, extend_to_floor: bool) -> xr.DataArray:
    """Remap ``da`` (dims ``..., depth, latitude, longitude``, already holding only
    ``plan.needed`` levels) onto ``levels``; lazy, one task per target level, or one
    per record when the record's levels are in one chunk."""
    axis = da.dims.index("depth")
    rule = _Rule(np.asarray(plan.weight, dtype=np.float32),
                 (np.asarray(plan.weight) == 0) | extend_to_floor, np.asarray(plan.beyond), axis)
    if _columns(da):
        arr = da.data if hasattr(da.data, "map_blocks") else da.chunk().data
        picks = (np.asarray(plan.upper), np.asarray(plan.lower))
        chunks = arr.chunks[:axis] + ((len(levels),),) + arr.chunks[axis + 1:]
        out = arr.map_blocks(_combine_column, picks=picks, rule=rule, chunks=chunks, dtype=np.float32,
                             meta=np.array((), dtype=np.float32))
    else:
        up = pick_levels(da, plan.upper).chunk({"depth": 1}).data
        lo = pick_levels(da, plan.lower).chunk({"depth": 1}).data
        out = up.map_blocks(_combine, lo, rule=rule, dtype=np.float32, meta=np.array((), dtype=np.float32))
    coords = {k: v for k, v in da.coords.items() if "depth" not in v.dims}
    coords["depth"] = ("depth", levels.values, levels.coord_attrs())
    return xr.DataArray(out, dims=da.dims, coords=coords, attrs=da.attrs, name=da.name)


@dataclass(frozen=True)
class _Rule:
    weight: np.ndarray  # of the lower level, per target level
    keep_upper: np.ndarray  # keep the upper value when the lower is land
    beyond: np.ndarray  # deeper than the source: no value
    axis: int


def _combine(up: np.ndarray, lo: np.ndarray, rule: _Rule, block_info=None) -> np.ndarray:
    """One target level from its two bracketing source levels (numpy, in one pass)."""
    k = block_info[0]["chunk-location"][rule.axis] if block_info else 0
    if rule.beyond[k]:
        return np.full(up.shape, np.nan, dtype=np.float32)
    w = rule.weight[k]
    out = up if w == 0 else up * (1 - w) + lo * w
    if rule.keep_upper[k] and w != 0:
        out = np.where(np.isnan(lo), up, out)
    return out.astype(np.float32, copy=False)


def _combine_column(x: np.ndarray, picks: tuple[np.ndarray, np.ndarray], rule: _Rule) -> np.ndarray:
    """Every target level of a block holding all the needed source levels (numpy)."""
    axis = rule.axis
    up, lo = np.take(x, picks[0], axis=axis), np.take(x, picks[1], axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    w = rule.weight.reshape(shape)
    out = np.where(w == 0, up, up * (1 - w) + lo * w)
    keep = (rule.keep_upper & (rule.weight != 0)).reshape(shape)
    out = np.where(keep & np.isnan(lo), up, out)
    out = np.where(rule.beyond.reshape(shape), np.float32(np.nan), out)
    return out.astype(np.float32, copy=False)


def ocean_fraction(deptho: xr.DataArray, levels: Levels, regridder: Regridder) -> xr.DataArray:
    """Fraction of each target cell whose sea floor lies at or below each level.

    ``deptho`` is on the source grid (m, positive down, NaN on land); the
    result is ``(depth, latitude, longitude)`` on the target grid, lazy.
    """
    z = levels.values
    data = deptho.chunk({"latitude": -1, "longitude": -1}).data
    ind = data.map_blocks(_deeper_than, z, new_axis=0, chunks=((1,) * z.size,) + data.chunks, dtype=np.float32)
    ind = xr.DataArray(ind, dims=("depth", "latitude", "longitude"),
                       coords={"depth": ("depth", z, levels.coord_attrs()), "latitude": deptho["latitude"],
                               "longitude": deptho["longitude"]})
    frac = regrid(ind, regridder, skipna=False)
    return frac.clip(0.0, 1.0)


def _deeper_than(depth: np.ndarray, z: np.ndarray, block_info=None) -> np.ndarray:
    """1 where the sea floor is at or below level ``z`` (land, NaN, is 0), one level per output chunk."""
    k = block_info[None]["chunk-location"][0] if block_info else slice(None)
    with np.errstate(invalid="ignore"):  # NaN (land) compares False: no ocean
        return (depth[None] >= np.atleast_1d(z[k])[:, None, None]).astype(np.float32)


def regrid_depth(deptho: xr.DataArray, regridder: Regridder) -> xr.DataArray:
    """Mean sea-floor depth over the ocean part of each target cell (NaN on land)."""
    out = regrid(deptho.astype(np.float32), regridder, skipna=True)
    out.attrs = dict(deptho.attrs)
    return out
