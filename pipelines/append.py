"""``ocean data append``: add one day to a cube, idempotently and crash-safely.

Rerunning the same date changes nothing (the day is found and the command
returns). A date after the cube's last day plus one leaves a *gap*: it
is refused unless the recipe's missing policy allows it (``persist``
fills the gap with the cube's last day, ``skip`` leaves it out); either
way the gap is recorded in the cube's ``gaps`` attribute.

The new day is computed and checked completely in memory before the cube
is touched. Then (see :func:`commit_days`):

1. the day's chunks are written: with one shard per day these are new
   files beyond the arrays' current shape, which readers of the current
   metadata never look at (every file is written to a temporary name and
   renamed, so none is ever half-written);
2. each array's ``zarr.json`` is rewritten with the longer shape;
3. the root ``zarr.json``, which holds the consolidated metadata that
   :func:`ocean.cube.open_cube` reads, is replaced (temporary file +
   ``os.replace``): this is the commit.

A crash before step 3 leaves the cube readable without the new day (an
array's own ``zarr.json`` may be ahead of the consolidated metadata: the
next append puts it back before starting); after step 3 the day is
complete.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import xarray as xr
import zarr
from zarr.core.array import AsyncArray
from zarr.storage import LocalStore, StorePath

from ocean.cube import cube_grid, cube_levels, open_cube
from ocean.damage import refuse_damaged
from ocean.errors import DataError
from ocean.io import resolve_paths
from ocean.lock import lock_file_of, store_lock
from ocean.store import disk_errors
from pipelines.assemble import assemble, open_inputs
from pipelines.compute import scheduler
from pipelines.gaps import compact_gaps
from pipelines.plan import CUBE, Choice, DayPlan, plan_days
from pipelines.recipe import Recipe, parse_date

__all__ = ["AppendReport", "append_day", "lock_path", "commit_days", "repair_metadata", "time_arrays", "read_json"]

log = logging.getLogger(__name__)

Stage = Callable[[str], None]


@dataclass(frozen=True)
class AppendReport:
    path: Path
    date: str
    status: str  # "appended" or "present"
    days_written: tuple[str, ...] = ()
    gaps: tuple[dict, ...] = ()

    def summary(self) -> str:
        if self.status == "present":
            return f"{self.path}: {self.date} is already in the cube; nothing to do"
        gap = f" ({len(self.gaps)} gap days recorded)" if self.gaps else ""
        return f"{self.path}: appended {', '.join(self.days_written)}{gap}"


def append_day(recipe: Recipe, cube_path, date, *, on_stage: Stage | None = None,
               wait: float = 0.0) -> AppendReport:
    """Append ``date`` to the cube at ``cube_path`` following ``recipe``.

    Holds ``.CUBE.lock`` (beside the cube's real path) while it works: a second append or
    build of the same cube waits ``wait`` seconds, then fails (exit 4).
    ``on_stage(name)`` is called after each step of the commit (tests use
    it to interrupt the process at every point).
    """
    path = Path(cube_path)
    day = np.datetime64(_date(date), "D")
    with disk_errors(path), store_lock(path, wait=wait) as real:  # one lock per real path; debris removed
        return _append(recipe, real, day, on_stage)


def lock_path(cube: Path) -> Path:
    """The lock file of a cube (beside its real path, so the store's bytes never change)."""
    return lock_file_of(cube)


def _append(recipe: Recipe, path: Path, day: np.datetime64, on_stage: Stage | None) -> AppendReport:
    repair_metadata(path)
    cube = open_cube(path)
    times = cube["time"].values.astype("datetime64[D]")
    if day in times:
        log.info("%s is already in %s", day, path)
        return AppendReport(path, str(day), "present")
    refuse_damaged(path, quick=True)  # the last days' chunks decode: never extend a damaged cube
    _check_compatible(recipe, cube, path)
    last = times[-1]
    if day < last:
        raise DataError("the date is before the cube's last day and not in it", file=path, variable="time",
                        found=str(day), expected=f"a date after {last} (or one already in the cube)",
                        hint="A skipped day cannot be inserted; rebuild the cube to fill it")
    inputs = open_inputs(_near(recipe, day))
    plan = _plan(recipe, inputs, day, last, path)
    ds = assemble(recipe, inputs, plan, cube=cube, cube_label=str(path))
    names = [v for v in ds.data_vars if "time" in ds[v].dims]
    with scheduler(recipe.compute):
        values = ds[names].compute()  # every check runs here, before the cube is touched
    gaps = compact_gaps(json.loads(cube.attrs.get("gaps", "[]")) + list(plan.gaps))
    commit_days(path, {v: values[v].values for v in names}, values["time"].values,
                {"gaps": json.dumps(gaps)}, on_stage=on_stage)
    return AppendReport(path, str(day), "appended", plan.days, plan.gaps)


def _date(value) -> dt.date:
    return parse_date(value, "--date")


def _near(recipe: Recipe, day: np.datetime64) -> Recipe:
    """Keep only the files whose names carry no date or a date within a day of ``day``."""
    near = {str(day + k).replace("-", "") for k in (-1, 0, 1)}
    pattern = re.compile(r"(?<!\d)((?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(?!\d)")
    specs = []
    for spec in recipe.sources:
        files = [str(p) for p in resolve_paths(list(spec.files))]
        kept = [f for f in files if not pattern.findall(Path(f).name)
                or set(pattern.findall(Path(f).name)) & near]
        specs.append(replace(spec, files=tuple(kept or files)))
    return replace(recipe, sources=tuple(specs))


def _plan(recipe: Recipe, inputs, day: np.datetime64, last: np.datetime64, path: Path) -> DayPlan:
    gap_days = [str(last + k) for k in range(1, int((day - last).astype(int)))]
    policy = recipe.missing
    if gap_days and policy.policy == "refuse":
        raise DataError("appending this date leaves a gap", file=path, variable="time",
                        found=f"{len(gap_days)} days missing between {last} and {day} ({gap_days[0]}..{gap_days[-1]})",
                        expected=f"the day after the cube's last day ({last + 1})",
                        hint="Append the missing days first, or allow gaps with missing.policy persist or skip")
    if policy.max_gap_days is not None and len(gap_days) > policy.max_gap_days:
        raise DataError("appending this date leaves a gap longer than the recipe allows", file=path,
                        variable="time", found=f"{len(gap_days)} days missing ({gap_days[0]}..{gap_days[-1]})",
                        expected=f"at most missing.max_gap_days={policy.max_gap_days}",
                        hint="Append the missing days first, or raise missing.max_gap_days")
    plan = plan_days([day], inputs.providers, policy, previous=str(last))
    if not gap_days:
        return plan
    records = [{"date": d, "policy": policy.policy, "missing": ["append gap"]}
               | ({"filled_from": {"cube": str(last)}} if policy.policy == "persist" else {}) for d in gap_days]
    if policy.policy == "skip":
        return replace(plan, gaps=tuple(records) + plan.gaps)
    choices = tuple((g, Choice((CUBE,) * len(gap_days) + c.sources, tuple(gap_days) + c.days))
                    for g, c in plan.choices)
    return DayPlan(tuple(gap_days) + plan.days, choices, tuple(records) + plan.gaps)


def _check_compatible(recipe: Recipe, cube: xr.Dataset, path: Path) -> None:
    grid, levels = cube_grid(cube), cube_levels(cube)
    if not grid.same_as(recipe.grid):
        raise DataError("the recipe's grid is not the cube's", file=path, found=recipe.grid.describe(),
                        expected=grid.describe(), hint="Append with the recipe the cube was built from")
    if levels is not None and not levels.same_as(recipe.levels):
        raise DataError("the recipe's levels are not the cube's", file=path, found=list(recipe.levels),
                        expected=list(levels), hint="Append with the recipe the cube was built from")
    have = sorted(v for v in cube.data_vars if "time" in cube[v].dims)
    want = sorted(recipe.variables)
    if have != want:
        raise DataError("the recipe's variables are not the cube's", file=path, found=want, expected=have,
                        hint="Append with the recipe the cube was built from")


# ---------------------------------------------------------------------------
# The commit
# ---------------------------------------------------------------------------


def time_arrays(meta: Mapping) -> list[str]:
    """Top-level arrays whose first dimension is time (from consolidated metadata)."""
    return [k for k, m in meta.items() if "/" not in k and m.get("node_type") == "array"
            and (m.get("dimension_names") or [None])[0] == "time"]


def commit_days(path, arrays: Mapping[str, np.ndarray], times: np.ndarray, attrs: Mapping,
                on_stage: Stage | None = None) -> None:
    """Append ``times`` (and each time-dependent array's values for them) to the store."""
    path = Path(path)
    stage = on_stage or (lambda name: None)
    root = read_json(path / "zarr.json")
    meta = root["consolidated_metadata"]["metadata"]
    names = time_arrays(meta)
    missing = sorted(set(names) - set(arrays) - {"time"})
    if missing:
        raise DataError("values missing for the cube's arrays", file=path, found=sorted(arrays), expected=names)
    n, k = meta["time"]["shape"][0], len(times)
    values = dict(arrays, time=_encode_time(times, meta["time"]))
    store = LocalStore(str(path))
    new_meta = {}
    with _undo_on_failure(path, {name: meta[name] for name in names}, n, k):
        for name in names:
            m = copy.deepcopy(meta[name])
            m["shape"][0] = n + k
            array = zarr.Array(AsyncArray(m, StorePath(store, name)))
            array[n:n + k] = np.asarray(values[name]).astype(array.dtype, copy=False)
            new_meta[name] = m
            stage(f"data:{name}")
    for name in names:
        _write_json(path / name / "zarr.json", new_meta[name])
        stage(f"meta:{name}")
    root = copy.deepcopy(root)
    root["consolidated_metadata"]["metadata"].update(new_meta)
    root["attributes"].update(attrs)
    _write_json(path / "zarr.json", root)
    stage("commit")


@contextlib.contextmanager
def _undo_on_failure(path: Path, meta: Mapping[str, Mapping], n: int, k: int):
    """Put the chunk files of days ``n..n+k-1`` back as they were if the data writes fail (a full disk):
    files that existed are kept as hard links (no space needed to restore them), new ones removed."""
    folders = []
    for name, m in meta.items():
        step = int(m["chunk_grid"]["configuration"]["chunk_shape"][0])
        folders += [path / name / "c" / str(i) for i in range(n // step, (n + k - 1) // step + 1)]
    kept = {}
    for folder in folders:
        for f in [folder] if folder.is_file() else (q for q in folder.rglob("*") if q.is_file()):
            backup = f.with_name(f".{f.name}.{os.getpid()}.keep")
            os.link(f, backup)
            kept[f] = backup
    try:
        yield
    except BaseException:
        for folder in folders:
            for f in ([folder] if folder.is_file() else [q for q in folder.rglob("*") if q.is_file()]):
                if f not in kept and f not in kept.values():
                    f.unlink(missing_ok=True)
        for f, backup in kept.items():
            os.replace(backup, f)
        for folder in folders:  # folders this append created
            if folder.is_dir() and not any(q.is_file() for q in folder.rglob("*")):
                shutil.rmtree(folder, ignore_errors=True)
        raise
    for backup in kept.values():
        backup.unlink(missing_ok=True)


def _encode_time(times: np.ndarray, meta: Mapping) -> np.ndarray:
    from xarray.coding.times import encode_cf_datetime

    attrs = meta.get("attributes", {})
    num, _, _ = encode_cf_datetime(np.asarray(times, dtype="datetime64[ns]"), attrs.get("units"),
                                   attrs.get("calendar"), dtype=np.dtype(meta["data_type"]))
    return np.asarray(num)


def repair_metadata(path) -> list[str]:
    """Put back arrays' ``zarr.json`` left ahead of the consolidated metadata by an
    interrupted append, and remove half-written temporary files. Returns what was fixed."""
    path = Path(path)
    root_file = path / "zarr.json"
    if not root_file.exists():
        return []
    for leftover in [*path.rglob("*.partial"), *path.rglob(".zarr.json.*.tmp"), *path.rglob(".*.keep")]:
        leftover.unlink(missing_ok=True)
    root = read_json(root_file)
    meta = (root.get("consolidated_metadata") or {}).get("metadata") or {}
    fixed = []
    for name in time_arrays(meta):
        own = path / name / "zarr.json"
        if own.exists() and read_json(own).get("shape") != meta[name]["shape"]:
            _write_json(own, meta[name])
            fixed.append(name)
    if fixed:
        log.warning("%s: an interrupted append had left %s ahead of the cube; put back", path, ", ".join(fixed))
    return fixed


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the store's metadata ({exc})", file=path,
                        hint="Is this a cube written by `ocean data build`?") from exc


def _write_json(path: Path, doc: Mapping) -> None:
    """Replace ``path`` atomically (temporary file in the same folder, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
