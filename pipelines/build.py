"""``ocean data build``: from a recipe to a training cube (``ocean/cube.py``'s contract).

The graph stays lazy until the write. The cube is written into a
temporary store next to the destination, a batch of days at a time: each
batch's graph is assembled from its own days' files only and computed at
once (each task writes one variable's shard of one day), so memory and
graph size are bounded by a batch, whatever the length of the record,
and the progress bar advances per batch. The first batch also computes
the ocean mask (it needs the first day); later batches are given it. Statistics
are then computed from the written cube, and only when everything has
succeeded is the temporary store renamed into place: a failure (bad
input found in the write, an interrupt) leaves any existing cube as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import dask
import numpy as np
import xarray as xr
import zarr

from ocean import variables as V
from ocean.cube import prepare_cube, write_statistics
from ocean.errors import DataError
from ocean.lock import store_lock
from ocean.store import atomic_path, disk_errors, quiet_zarr
from pipelines.assemble import Inputs, assemble, open_inputs
from pipelines.compute import fast_zarr, progress_bar, scheduler
from pipelines.gaps import compact_gaps
from pipelines.plan import DayPlan, plan_days
from pipelines.recipe import Recipe
from pipelines.statistics import cube_statistics

__all__ = ["BuildReport", "build_cube", "batch_days", "prepare_build", "write_plan", "cube_attrs", "shard_chunks"]

log = logging.getLogger(__name__)

_STATIC = ("mask", "deptho")


@dataclass(frozen=True)
class BuildReport:
    path: Path
    days: int
    variables: tuple[str, ...]
    gaps: tuple[dict, ...]
    statistics_period: tuple[str, str]
    seconds: float
    timings: tuple[tuple[str, float], ...] = ()  # (phase, seconds): open, write, statistics
    cpu: tuple[tuple[str, float], ...] = ()  # (phase, CPU seconds of this process): all the work when synchronous

    def summary(self) -> str:
        gaps = f", {len(self.gaps)} missing days recorded" if self.gaps else ""
        return (f"{self.path}: {self.days} days, variables {', '.join(self.variables)}{gaps}; statistics over "
                f"{self.statistics_period[0]}..{self.statistics_period[1]} ({self.seconds:.1f} s)")


def prepare_build(recipe: Recipe) -> tuple[Inputs, DayPlan, xr.Dataset]:
    """Open the sources, plan the days and assemble the lazy cube (computes nothing)."""
    inputs = open_inputs(recipe)
    plan = plan_days(recipe.dates, inputs.providers, recipe.missing)
    return inputs, plan, assemble(recipe, inputs, plan)


def build_cube(recipe: Recipe, out, *, overwrite: bool = False, wait: float = 0.0,
               batch: int | None = None) -> BuildReport:
    """Build the cube of ``recipe`` at ``out`` (atomically; ``overwrite`` replaces one).

    ``batch`` is the number of days per write batch (default: the recipe's
    ``compute.batch_days``, else :func:`batch_days`). Holds the cube's lock
    (``.OUT.lock`` beside its real path, as appends do) while it works.
    """
    out = Path(out)
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise ValueError(f"batch must be a positive number of days, found {batch!r}")
    with disk_errors(out), store_lock(out, wait=wait) as real:  # one lock per real path; debris removed
        return _build(recipe, real, overwrite, batch or recipe.compute.batch_days)


#: Bounds of the default write batch: the cube's bytes per batch, and days.
BATCH_BYTES = 512 * 2**20
BATCH_MAX_DAYS = 128


def batch_days(recipe: Recipe, workers: int) -> int:
    """Days per write batch when the recipe does not say.

    As many days as make :data:`BATCH_BYTES` of cube (float32), at most
    :data:`BATCH_MAX_DAYS` (the progress bar advances per batch), and at
    least two per worker. A batch costs a fixed ~0.1-1 s to assemble and
    schedule, so small grids want long batches (4 degrees: 1.1 MB a day);
    memory follows the tasks in flight, not the batch.
    """
    n3 = sum(1 for v in recipe.variables if v in V.CATALOGUE and V.get(v).is_3d)
    per_day = 4 * recipe.grid.nlat * recipe.grid.nlon * (n3 * len(recipe.levels) + len(recipe.variables) - n3)
    return max(2 * workers, min(BATCH_MAX_DAYS, BATCH_BYTES // max(per_day, 1)))


def _build(recipe: Recipe, out: Path, overwrite: bool, batch: int | None) -> BuildReport:
    start, cpu0 = time.perf_counter(), time.process_time()
    if out.exists() and not overwrite:
        raise DataError("the cube exists", file=out,
                        hint="Use `ocean data append` to add days, or --force to rebuild it")
    inputs = open_inputs(recipe)
    plan = plan_days(recipe.dates, inputs.providers, recipe.missing)
    attrs = cube_attrs(recipe, inputs, plan)
    log.info("building %s: %d days on %s, %d levels", out, len(plan.days), recipe.grid.describe(),
             len(recipe.levels))
    opened, cpu1 = time.perf_counter(), time.process_time()
    with scheduler(recipe.compute) as workers, atomic_path(out, overwrite=overwrite) as tmp, quiet_zarr():
        write_plan(recipe, inputs, plan, tmp, attrs, batch=batch or batch_days(recipe, workers),
                   progress=recipe.compute.progress)
        wrote, cpu2 = time.perf_counter(), time.process_time()
        stats = cube_statistics(tmp, recipe.statistics, plan.filled)
        write_statistics(tmp, stats)
        done, cpu3 = time.perf_counter(), time.process_time()
    timings = (("open", opened - start), ("write", wrote - opened), ("statistics", done - wrote))
    cpu = (("open", cpu1 - cpu0), ("write", cpu2 - cpu1), ("statistics", cpu3 - cpu2))
    log.info("timings: %s; CPU of this process: %s", ", ".join(f"{k} {v:.1f} s" for k, v in timings),
             ", ".join(f"{k} {v:.1f} s" for k, v in cpu))
    period = (stats.attrs.get("period_start", ""), stats.attrs.get("period_end", ""))
    return BuildReport(out, len(plan.days), recipe.variables, plan.gaps, period, time.perf_counter() - start,
                       timings, cpu)


def shard_chunks(ds: xr.Dataset) -> xr.Dataset:
    """Dask chunks equal to the cube's shards: one day, all levels (one task writes one shard)."""
    out = ds.copy()
    for name, var in ds.data_vars.items():
        if "time" in var.dims:
            out[name] = var.chunk({d: (1 if d == "time" else -1) for d in var.dims})
    return out


def write_plan(recipe: Recipe, inputs: Inputs, plan: DayPlan, tmp: Path, attrs: dict, *, batch: int,
               progress: bool) -> None:
    """Write the plan's days into the new store ``tmp``, ``batch`` days per compute.

    Each batch is assembled on its own (its graph holds only its days'
    files). The first batch also computes the static fields (the mask
    needs the first day); later batches are given them. Each dask chunk
    is one whole shard (a day of a variable), stored straight into the
    Zarr array (``dask.array.store``) by the task that computed it.
    """
    n = len(plan.days)
    first = min(batch, n)
    ds, enc = prepare_cube(assemble(recipe, inputs, plan.subset(0, first)), attrs, label=str(tmp))
    ds = shard_chunks(ds)
    _template(ds, plan.days).to_zarr(tmp, mode="w", zarr_format=3, consolidated=False, encoding=enc,
                                     compute=False)
    store = zarr.open_group(str(tmp), mode="r+", zarr_format=3)
    statics = [s for s in _STATIC if s in ds]
    with progress_bar(n, progress) as bar:
        results = dask.compute(*[ds[s].data for s in statics], _store(ds, store, 0))
        for name, values in zip(statics, results):
            store[name][...] = values
        bar.update(first)
        written = xr.open_zarr(tmp, consolidated=False)  # later batches read the statics back, lazily
        mask = written["mask"].astype(bool)
        deptho = written["deptho"] if "deptho" in statics else None
        for a in range(first, n, batch):
            b = min(a + batch, n)
            later = assemble(recipe, inputs, plan.subset(a, b), static=(mask, deptho))
            # ``later`` holds days a..b only: its rows go to the store's days a..b
            dask.compute(_store(shard_chunks(prepare_cube(later, attrs, label=str(tmp))[0]), store, a))
            bar.update(b - a)
    zarr.consolidate_metadata(str(tmp))


def _template(ds: xr.Dataset, days) -> xr.Dataset:
    """``ds`` stretched to every day, as never-computed zeros: the store's metadata."""
    import dask.array

    time = np.asarray(days, dtype="datetime64[ns]")
    out = {}
    for name, var in ds.data_vars.items():
        if "time" in var.dims:
            shape = (time.size,) + var.shape[1:]
            data = dask.array.zeros(shape, chunks=shape, dtype=var.dtype)  # one task a variable, never run
            out[name] = xr.Variable(var.dims, data, var.attrs)
        else:
            out[name] = var.variable
    coords = {k: v.variable for k, v in ds.coords.items() if k != "time"}
    coords["time"] = xr.Variable("time", time, ds["time"].attrs)
    return xr.Dataset(out, coords=coords, attrs=ds.attrs)


def _store(ds: xr.Dataset, group, offset: int):
    """A delayed write of ``ds``'s time-dependent variables into ``group``'s arrays from day ``offset``."""
    import dask.array

    names = [v for v in ds.data_vars if "time" in ds[v].dims]
    arrays = [ds[v].data.astype(group[v].dtype, copy=False) for v in names]
    regions = [(slice(offset, offset + a.shape[0]),) + (slice(None),) * (a.ndim - 1) for a in arrays]
    return dask.array.store(arrays, [_Shards(group[v]) for v in names], regions=regions, lock=False,
                            compute=False)


@dataclass(frozen=True)
class _Shards:
    """A Zarr array written with :data:`pipelines.compute.ZARR_CONFIG`, in whichever process the task runs."""

    array: object

    def __setitem__(self, key, value) -> None:
        with fast_zarr():
            self.array[key] = value


def cube_attrs(recipe: Recipe, inputs: Inputs, plan: DayPlan) -> dict:
    """Provenance: the recipe, the files read per source, the missing days."""
    sources = []
    for spec in recipe.sources:
        member = next((p for p in inputs.providers if p.name == spec.name), None)
        files = sorted(set(member.files)) if member is not None else [inputs.bathymetry_file]
        sources.append({"name": spec.name, "kind": spec.kind, "product": spec.product,
                        "variables": list(spec.variables), "files": len(files),
                        "first_file": str(files[0]), "last_file": str(files[-1])})
    return {
        "recipe": recipe.document, "recipe_name": recipe.name, "sources": json.dumps(sources),
        "gaps": json.dumps(compact_gaps(plan.gaps)), "grid_name": recipe.grid.name,
        "statistics_period": f"{recipe.statistics[0]}/{recipe.statistics[1]}",
        "missing_policy": recipe.missing.policy,
        "date_created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "source": "ocean-forecast pipelines (ocean data build)",
    }
