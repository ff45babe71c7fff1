"""From a recipe's opened sources and a day plan to the lazy cube dataset.

Nothing here computes: the result is a dask-backed ``xarray.Dataset``
whose graph reads, regrids (horizontally, then vertically), masks and
checks one day and one level per task when it is written.

The ocean mask (``mask``, per level) is, for a new cube, the bathymetry's
ocean (a target cell is ocean at a level when at least ``coverage`` of
its area has its sea floor at or below that level) intersected with the
cells where every gridded ocean variable has a value on the first day
written; it is made monotonic in depth. Later days must then have a value
in every ocean cell (checked in the write). An append reuses the cube's
mask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dask.array
import numpy as np
import xarray as xr

from ocean import variables as V
from pipelines.checks import check_source, finalise
from pipelines.plan import CUBE, DayPlan, groups_of
from pipelines.recipe import Recipe
from pipelines.regrid import make_regridder, regrid
from pipelines.sources import GriddedSource, open_bathymetry, open_gridded
from pipelines.swath import SwathSource, open_swath
from pipelines.vertical import ocean_fraction, pick_levels, regrid_depth, remap_vertical, vertical_plan

__all__ = ["Inputs", "open_inputs", "assemble", "rule_of"]

log = logging.getLogger(__name__)

_MASK_ATTRS = {"long_name": "ocean mask (1 = ocean)", "units": "1", "flag_values": "0, 1",
               "flag_meanings": "land ocean"}


@dataclass(frozen=True)
class Inputs:
    """A recipe's sources, opened lazily."""

    gridded: tuple[GriddedSource, ...]
    swaths: tuple[SwathSource, ...]
    bathymetry: xr.DataArray | None = None
    bathymetry_file: str | None = None

    @property
    def providers(self):
        return self.gridded + self.swaths

    def provider(self, name: str):
        return next(p for p in self.providers if p.name == name)


def open_inputs(recipe: Recipe) -> Inputs:
    gridded, swaths, bathy, label = [], [], None, None
    for spec in recipe.sources:
        if spec.kind == "bathymetry":
            bathy, label = open_bathymetry(spec)
        elif spec.kind == "swath":
            swaths.append(open_swath(spec))
        else:
            gridded.append(open_gridded(spec))
    return Inputs(tuple(gridded), tuple(swaths), bathy, label)


def rule_of(kind: str, variable: str) -> str:
    """The NaN rule of a cube variable coming from a source of ``kind``."""
    if kind == "forcing":
        return "forcing"
    if kind == "swath":
        return "count" if variable.endswith("_count") else "observation"
    return "ocean"


def assemble(recipe: Recipe, inputs: Inputs, plan: DayPlan, cube: xr.Dataset | None = None,
             cube_label: str = "cube", static: tuple | None = None) -> xr.Dataset:
    """The lazy dataset for ``plan``'s days on the recipe's grid and levels.

    With ``cube`` (an append), the mask and ``deptho`` come from the cube
    and persisted days are copied from its last day. ``static`` is a
    ``(mask, deptho)`` pair already computed (later batches of a build).
    """
    out_days = np.asarray(plan.days, dtype="datetime64[ns]")
    raw, rules, files = {}, {}, {}
    for variables, members in groups_of(inputs.providers).items():
        choice = plan.choice(variables)
        pieces = [_piece(recipe, m, choice, out_days, inputs.bathymetry is not None) for m in members]
        if CUBE in choice.sources:
            pieces.append(_cube_piece(cube, members[0], choice, out_days))
        pieces = [p for p in pieces if p is not None]
        merged = pieces[0] if len(pieces) == 1 else xr.concat(pieces, dim="time", join="exact").sortby("time")
        labels = tuple(cube_label if s == CUBE else inputs.provider(s).file_of(d)
                       for s, d in zip(choice.sources, choice.days))
        for name in merged.data_vars:
            raw[name] = merged[name]
            rules[name] = rule_of(members[0].spec.kind, str(name))
            files[name] = labels
    mask, deptho = static if static is not None else _static(recipe, inputs, raw, rules, cube)
    data = {name: finalise(raw[name].rename(name), mask, rules[name], plan.days, files[name])
            for name in _ordered(raw)}
    ds = xr.Dataset(data)
    ds["mask"] = mask.astype(np.int8).assign_attrs(_MASK_ATTRS)
    if deptho is not None:
        ds["deptho"] = deptho.where(mask.isel(depth=0, drop=True)).astype(np.float32).assign_attrs(
            V.get("deptho").cf_attrs())
    ds["time"].attrs = {"standard_name": "time", "axis": "T"}
    return ds


def _ordered(raw: dict) -> list[str]:
    """Catalogue order (prognostic, forcing, ...), then anything else."""
    names = [v for v in V.CATALOGUE if v in raw]
    return names + [v for v in raw if v not in names]


def _piece(recipe: Recipe, member, choice, out_days: np.ndarray, extend: bool) -> xr.Dataset | None:
    idx = [i for i, s in enumerate(choice.sources) if s == member.name]
    if not idx:
        return None
    src_days = np.asarray([choice.days[i] for i in idx], dtype="datetime64[D]")
    times = out_days[idx]
    if isinstance(member, SwathSource):
        return member.on_grid(src_days, recipe.grid).assign_coords(time=times)
    sel = member.select(src_days)
    labels = tuple(member.file_of(d) for d in src_days)
    method = member.spec.regrid if member.spec.regrid != "auto" else recipe.regrid.method
    rg = make_regridder(sel["latitude"].values, sel["longitude"].values, recipe.grid, method,
                        recipe.regrid.coverage, label=labels[0])
    out = {}
    for name in member.spec.variables:
        x = sel[name]
        vplan = vertical_plan(x["depth"].values, recipe.levels) if "depth" in x.dims else None
        if vplan is not None:
            x = pick_levels(x, vplan.needed)
        x = check_source(x, labels, [str(d) for d in src_days])  # before any averaging hides a bad cell
        y = regrid(x, rg)  # and again on the target grid, as they are written (checks.py)
        if vplan is not None:
            y = remap_vertical(y, vplan, recipe.levels, extend_to_floor=extend)
        out[name] = y.assign_coords(time=times)
    return xr.Dataset(out)


def _cube_piece(cube: xr.Dataset, member, choice, out_days: np.ndarray) -> xr.Dataset:
    """Persisted days of an append: the cube's last day, repeated."""
    idx = [i for i, s in enumerate(choice.sources) if s == CUBE]
    names = list(member.spec.variables)
    if member.spec.kind == "swath":
        names += [f"{v}_count" for v in names]
    last = cube[names].isel(time=[-1] * len(idx))
    return last.assign_coords(time=out_days[idx])


def _static(recipe: Recipe, inputs: Inputs, raw: dict, rules: dict, cube: xr.Dataset | None):
    """The ocean mask (bool, depth x lat x lon) and the sea-floor depth on the target grid."""
    levels = xr.DataArray(recipe.levels.values, dims="depth", attrs=recipe.levels.coord_attrs())
    if cube is not None:  # lazy reads of the store: the graph holds no copy of the mask
        mask = cube["mask"].astype(bool)
        deptho = cube["deptho"] if "deptho" in cube else None
        return mask.assign_coords(depth=levels), deptho
    grid = recipe.grid
    ones = dask.array.ones((len(recipe.levels),) + grid.shape, dtype=bool, chunks=(1,) + grid.shape)
    mask = xr.DataArray(ones, dims=("depth", "latitude", "longitude"),
                        coords={"depth": levels, **{k: (k, v[1], v[2]) for k, v in grid.coords().items()}})
    deptho = None
    if inputs.bathymetry is not None:
        b = inputs.bathymetry
        rg = make_regridder(b["latitude"].values, b["longitude"].values, grid, recipe.regrid.method,
                            recipe.regrid.coverage, label=inputs.bathymetry_file)
        mask = mask & (ocean_fraction(b, recipe.levels, rg).assign_coords(depth=levels) >= recipe.regrid.coverage)
        deptho = regrid_depth(b, rg)
    for name, da in raw.items():
        if rules[name] != "ocean":
            continue
        first = da.isel(time=0, drop=True).notnull()
        if "depth" in first.dims:
            first = first.assign_coords(depth=levels)
        mask = mask & first
    return mask.chunk({"depth": 1}).astype(np.int8).cumprod("depth").astype(bool), deptho
