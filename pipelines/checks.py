"""Checks that run inside the write, on each block, and fail naming the record.

The pipeline never reads its input twice: instead of a validation pass
before the write, each output block (one variable, one day, on the
target grid) is checked as it is written (:func:`finalise`): infinite
values, values outside the catalogue's physical range (wrong units), NaN
in an ocean cell of the mask (a damaged file, or one that does not cover
the grid), NaN anywhere in a forcing field. Regridding is a weighted
average, so an infinite source value stays infinite and shifted units
stay out of range; checking the target grid costs a ninth of checking a
1/12 degree source. A failure raises :class:`ocean.errors.DataError`
naming the file, the variable, the date (and level), what was found and
what was expected; the build then removes its temporary store, so an
existing cube is untouched. :class:`SourceCheck` does the same on raw
source blocks, for callers of :func:`pipelines.regrid.regrid`.
"""

from __future__ import annotations

from dataclasses import dataclass

import dask.array as da
import numpy as np
import xarray as xr

from ocean import variables as V
from ocean.errors import DataError

__all__ = ["SourceCheck", "check_values", "check_source", "finalise", "RULES"]

#: How NaN is judged in an output variable: ``ocean`` (NaN exactly on land),
#: ``forcing`` (no NaN anywhere), ``observation`` (NaN allowed in the ocean,
#: forced over land), ``count`` (like observation, for observation counts).
RULES = ("ocean", "forcing", "observation", "count")


@dataclass(frozen=True)
class SourceCheck:
    """Called on each raw source block: ``check(block, first_time_index)``."""

    variable: str
    files: tuple[str, ...]  # per record of the (selected) source
    dates: tuple[str, ...]

    def __call__(self, block: np.ndarray, t0: int | None) -> None:
        i = t0 or 0
        where = dict(file=self.files[i] if self.files else None, variable=self.variable)
        check_values(block, self.variable, self.dates[i] if self.dates else "?", where)


def check_values(block: np.ndarray, variable: str, when: str, where: dict) -> None:
    """Refuse infinite values and values outside ``variable``'s physical range."""
    flat = block.ravel()
    b_min, b_max = float(np.fmin.reduce(flat)), float(np.fmax.reduce(flat))  # NaN-skipping, no copy
    if np.isinf(b_min) or np.isinf(b_max):
        raise DataError(f"infinite values on {when}", **where, found=f"{int(np.isinf(block).sum())} inf cells",
                        expected="finite values in ocean cells and NaN over land",
                        hint="Fetch the file again or drop the date")
    if variable not in V.CATALOGUE or np.isnan(b_min):
        return
    lo, hi = V.get(variable).valid_range
    if b_min < lo or b_max > hi:
        raise DataError(f"values outside the physical range on {when}", **where,
                        found=f"min {b_min:.6g}, max {b_max:.6g} ({int(np.sum((block < lo) | (block > hi)))} cells)",
                        expected=f"[{lo:g}, {hi:g}] {V.get(variable).units}",
                        hint="Check the units attribute and the scale_factor/add_offset")
    if variable == "so" and b_min < SALINITY_FLOOR and float(np.nanmedian(flat)) < SALINITY_FLOOR:
        raise DataError(f"salinity looks like kg/kg on {when}", **where,
                        found=f"median {float(np.nanmedian(flat)):.6g} (ocean values)",
                        expected="psu / g kg-1 (median of sea water above 1)",
                        hint="Multiply by 1000 or fix the units attribute (kg kg-1 -> 1e-3)")


#: Salinity whose median is below this (psu) is in kg/kg: no sea is that fresh on average.
SALINITY_FLOOR = 1.0


def check_source(var: xr.DataArray, files, dates) -> xr.DataArray:
    """``var`` (``time, [depth], latitude, longitude`` on its source grid) checked block by block as it is
    read, before any averaging: values in range, salinity in psu, and no NaN inside an ocean column
    (a level without a value above one with a value: the vertical remap would bridge it). Lazy."""
    arr = var.data
    depths = tuple(float(d) for d in var["depth"].values) if "depth" in var.dims else ()
    labels = _Labels(str(var.name), "ocean", tuple(dates), tuple(files), depths)
    if not depths or len(arr.chunks[1]) == 1:  # whole columns per block: the check sees them
        out = da.map_blocks(_source_block, arr, labels=labels, dtype=arr.dtype, meta=np.array((), arr.dtype))
    else:  # a level per block: beside it, how many levels at or below it have a value
        below = da.flip(da.cumsum(da.flip(~da.isnan(arr), 1).astype(np.int16), axis=1), 1).rechunk(arr.chunks)
        out = da.map_blocks(_source_block, arr, below, labels=labels, dtype=arr.dtype,
                            meta=np.array((), arr.dtype))
    return xr.DataArray(out, dims=var.dims, coords=var.coords, attrs=var.attrs, name=var.name)


def _source_block(block: np.ndarray, below: np.ndarray | None = None, labels: _Labels = None,
                  block_info=None) -> np.ndarray:
    loc = block_info[0]["array-location"] if block_info else [(0, 1)] * block.ndim
    t = loc[0][0]
    date = labels.dates[t] if t < len(labels.dates) else "?"
    where = dict(file=labels.files[t] if t < len(labels.files) else None, variable=labels.variable)
    check_values(block, labels.variable, f"{date} (source grid, before regridding)", where)
    if not labels.depths:
        return block
    if below is None:
        below = np.flip(np.cumsum(np.flip(~np.isnan(block), 1), axis=1), 1)
    hole = np.isnan(block) & (below > 0)  # no value here, a value deeper in the same column
    if hole.any():
        _, k, j, i = (int(a[0]) for a in np.nonzero(hole))
        raise DataError(f"NaN in ocean cells on {date} at {labels.depths[loc[1][0] + k]:g} m, inside the column "
                        "(values below it)", **where,
                        found=f"{int(hole.sum())} cells without a value above deeper values (first at "
                              f"source row {j}, column {i})",
                        expected="values from the surface down to the sea floor (NaN only below it)",
                        hint="The file is damaged at that level; fetch it again or drop the date (the "
                             "vertical remap would otherwise bridge the hole)")
    return block


@dataclass(frozen=True)
class _Labels:
    variable: str
    rule: str
    dates: tuple[str, ...]
    files: tuple[str, ...]
    depths: tuple[float, ...]


def finalise(var: xr.DataArray, mask: xr.DataArray | None, rule: str, dates, files) -> xr.DataArray:
    """Apply the land mask and the NaN rule to an output variable, lazily.

    ``var`` is ``(time, [depth], latitude, longitude)`` on the target grid;
    ``mask`` is the bool ``(depth, latitude, longitude)`` ocean mask (a 2-D
    variable uses its first level); ``dates``/``files`` label each time index.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}")
    depths = tuple(float(d) for d in var["depth"].values) if "depth" in var.dims else ()
    labels = _Labels(str(var.name), rule, tuple(dates), tuple(files), depths)
    arr = var.chunk({"time": 1}).data  # the levels stay as the source chunked them (one or all)
    if mask is None:
        m = da.ones(arr.shape[1:], dtype=bool, chunks=arr.chunks[1:])
    else:
        m = mask if "depth" in var.dims else mask.isel(depth=0, drop=True)
        m = m.transpose(*var.dims[1:]).data
        m = m.rechunk(arr.chunks[1:]) if isinstance(m, da.Array) else da.from_array(m, chunks=arr.chunks[1:])
    out = da.map_blocks(_finalise_block, arr, m, labels=labels, dtype=np.float32,
                        meta=np.array((), dtype=np.float32))
    return xr.DataArray(out, dims=var.dims, coords=var.coords, attrs=var.attrs, name=var.name)


def _finalise_block(block: np.ndarray, mask: np.ndarray, labels: _Labels, block_info=None) -> np.ndarray:
    """One record (one level, or all levels) of a variable: checked, then masked."""
    loc = block_info[0]["array-location"] if block_info else [(0, 1)] * block.ndim
    t = loc[0][0]
    date = labels.dates[t] if t < len(labels.dates) else "?"
    where = dict(file=labels.files[t] if t < len(labels.files) else None, variable=labels.variable)

    def level(bad: np.ndarray | None = None) -> str:  # the first level holding a ``bad`` cell
        if not labels.depths:
            return ""
        k = int(np.nonzero(bad.any(axis=(0, 2, 3)))[0][0]) if bad is not None and bad.shape[1] > 1 else 0
        return f" at {labels.depths[loc[1][0] + k]:g} m"

    mask = np.broadcast_to(mask.astype(bool), block.shape)
    nan = np.isnan(block)
    if labels.rule == "ocean" and (nan & mask).any():
        raise DataError(f"NaN in ocean cells on {date}{level(nan & mask)}", **where,
                        found=f"{int((nan & mask).sum())} ocean cells without a value",
                        expected="a value in every ocean cell of the cube's mask (NaN only over land)",
                        hint="The file has NaN where it had values before, or it does not cover the grid; "
                             "fix or drop the date (missing days follow the recipe's missing policy)")
    single = not labels.depths or block.shape[1] == 1
    try:
        check_values(block, labels.variable, date + (level() if single else ""), where)
    except DataError:
        if single:
            raise
        for k in range(block.shape[1]):  # name the first bad level
            check_values(block[:, k:k + 1], labels.variable, date + f" at {labels.depths[loc[1][0] + k]:g} m", where)
        raise
    if labels.rule == "forcing" and nan.any():
        raise DataError(f"NaN in a forcing field on {date}", **where,
                        found=f"{int(nan.sum())} cells without a value",
                        expected="forcing defined in every cell (land and sea)",
                        hint="Check that the file covers the grid and has no missing values")
    if labels.rule == "forcing":
        return block.astype(np.float32, copy=False)
    return np.where(mask, block, np.nan).astype(np.float32, copy=False)
