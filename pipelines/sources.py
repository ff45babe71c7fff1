"""Open a recipe's gridded sources lazily, as one record per day.

Every source becomes a :class:`GriddedSource`: canonical names, units and
orientation (``ocean.io.open_source`` does that part), dask chunks of one
record and one level, a ``time`` axis of days at midnight, and for each
record the file it came from, so that errors found later (during the
write) can name the file.

* reanalysis (GLORYS, HYCOM) and daily L4 SST: one record per day; a
  producer's noon time stamp is floored to the day.
* forcing (ERA5): any number of records per day (hourly as delivered),
  averaged to daily means; days with fewer than ``min_records_per_day``
  records count as missing.
* monthly sources (ERSST): each day takes its month's value (``step``) or
  the linear interpolation between mid-month values (``linear``).
* bathymetry: static ``deptho`` (m, positive down, NaN on land).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from ocean.errors import DataError
from ocean.io import open_source, resolve_paths
from pipelines.recipe import SourceSpec

__all__ = ["GriddedSource", "open_gridded", "open_bathymetry", "DAY"]

log = logging.getLogger(__name__)

DAY = np.timedelta64(1, "D")
# Producer spellings of the time and depth dimensions: one record and one
# level per dask chunk, whatever the producer calls them.
_CHUNKS = {"time": 1, "valid_time": 1, "depth": 1, "deptht": 1, "lev": 1, "z": 1, "z_t": 1}


@dataclass(frozen=True)
class GriddedSource:
    """A source's records on its own grid, one per day (or month), file by file.

    The files stay separate datasets (``parts``): selecting a few days
    touches only their files, so a build of many years never holds one
    graph over every file, and an append of one day reads one file.
    """

    spec: SourceSpec
    parts: tuple[xr.Dataset, ...]
    times: np.ndarray  # datetime64[D] of every record, increasing
    where: tuple[tuple[int, int], ...]  # (part, index in part) of every record
    files: tuple[str, ...]  # the file of every record

    @property
    def name(self) -> str:
        return self.spec.name

    def available(self, days: np.ndarray) -> np.ndarray:
        """Boolean per day: does this source provide it?"""
        days = np.asarray(days, dtype="datetime64[D]")
        if self.spec.frequency == "monthly":
            return np.array([self._month_weights(d) is not None for d in days], dtype=bool)
        return np.isin(days, self.times)

    def select(self, days: np.ndarray) -> xr.Dataset:
        """The records for ``days`` (each must be available), ``time`` = days."""
        days = np.asarray(days, dtype="datetime64[D]")
        if self.spec.frequency == "monthly":
            return self._interpolate_months(days)
        pieces = [self._record(int(np.searchsorted(self.times, d))) for d in days]
        out = pieces[0] if len(pieces) == 1 else xr.concat(
            pieces, dim="time", data_vars="minimal", coords="minimal", compat="override", join="exact")
        return out.assign_coords(time=days.astype("datetime64[ns]"))

    def _record(self, k: int) -> xr.Dataset:
        part, i = self.where[k]
        return self.parts[part].isel(time=slice(i, i + 1))  # a slice: a view, not a copy of the chunk

    def _interpolate_months(self, days: np.ndarray) -> xr.Dataset:
        pieces = []
        for d in days:
            (i, wi), (j, wj) = self._month_weights(d)
            rec = self._record(i) * wi + self._record(j).assign_coords(time=self._record(i).time) * wj \
                if wj else self._record(i)
            pieces.append(rec.drop_vars("time"))
        out = xr.concat(pieces, dim="time")
        for name in out.data_vars:
            out[name].attrs = self.parts[0][name].attrs
        return out.assign_coords(time=days.astype("datetime64[ns]")).astype(np.float32)

    def file_of(self, day) -> str:
        """The file that provides ``day`` (for error messages)."""
        d = np.datetime64(day, "D")
        if self.spec.frequency == "monthly":
            w = self._month_weights(d)
            return self.files[w[0][0]] if w else self.files[0]
        hit = np.nonzero(self.times == d)[0]
        return self.files[int(hit[0])] if hit.size else ", ".join(sorted(set(self.files))[:3])

    def _month_weights(self, day: np.datetime64):
        t = self.times
        if self.spec.time_interpolation == "step":
            month = day.astype("datetime64[M]")
            hit = np.nonzero(t.astype("datetime64[M]") == month)[0]
            return ((int(hit[0]), 1.0), (int(hit[0]), 0.0)) if hit.size else None
        mid = _mid_month(t)
        x = (day - np.datetime64("1970-01-01")).astype(float) + 0.5
        j = int(np.searchsorted(mid, x))
        if j < mid.size and mid[j] == x:
            return (j, 1.0), (j, 0.0)
        if j == 0 or j == mid.size:
            return None
        w = (x - mid[j - 1]) / (mid[j] - mid[j - 1])
        return (j - 1, 1.0 - w), (j, w)


def _mid_month(t: np.ndarray) -> np.ndarray:
    """Days since 1970 of the middle of each record's month."""
    start = t.astype("datetime64[M]").astype("datetime64[D]")
    end = (t.astype("datetime64[M]") + 1).astype("datetime64[D]")
    epoch = np.datetime64("1970-01-01")
    return ((start - epoch).astype(float) + (end - epoch).astype(float)) / 2.0


def _open_file(path: Path, spec: SourceSpec) -> xr.Dataset:
    chunks = {k: v for k, v in _CHUNKS.items() if spec.kind != "forcing" or k not in ("time", "valid_time")}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The specified chunks separate the stored chunks")
        ds = open_source(path, spec.product, spec.variables, chunks=chunks, check=False)
    if "time" not in ds.dims:
        raise DataError("no time dimension", file=path, found=sorted(map(str, ds.dims)),
                        expected="time (or valid_time)", hint="Static fields belong to a bathymetry source")
    return ds.chunk({"latitude": -1, "longitude": -1})


def open_gridded(spec: SourceSpec) -> GriddedSource:
    """Open every file of ``spec`` (lazily), restricted to its start/end."""
    files = resolve_paths(list(spec.files))
    parts = [_open_file(p, spec) for p in files]
    if spec.kind == "forcing":
        parts, labels = _daily_means(parts, files, spec)
    else:
        parts = [p.assign_coords(time=p["time"].dt.floor("D")) for p in parts]
        labels = [str(f) for f, p in zip(files, parts) for _ in range(p.sizes["time"])]
    where = [(k, i) for k, p in enumerate(parts) for i in range(p.sizes["time"])]
    times = np.concatenate([p["time"].values for p in parts]).astype("datetime64[D]")
    order = np.argsort(times, kind="stable")
    times, labels_arr = times[order], np.asarray(labels, dtype=object)[order]
    where = [where[i] for i in order]
    _refuse_duplicates(times, labels_arr, spec.name)
    keep = within(times, spec)
    if not keep.any():
        raise DataError(f"source {spec.name!r} has no records between {spec.start} and {spec.end}",
                        file=file_label(files), hint="Check the source's start/end or its files")
    log.info("source %s: %d files, %d records %s..%s", spec.name, len(files), int(keep.sum()),
             times[keep][0], times[keep][-1])
    return GriddedSource(spec, tuple(parts), times[keep], tuple(w for w, k in zip(where, keep) if k),
                         tuple(labels_arr[keep].tolist()))


def within(days: np.ndarray, spec: SourceSpec) -> np.ndarray:
    """Which ``days`` fall inside the source's start/end."""
    keep = np.ones(days.shape, dtype=bool)
    if spec.start is not None:
        keep &= days >= np.datetime64(spec.start, "D")
    if spec.end is not None:
        keep &= days <= np.datetime64(spec.end, "D")
    return keep


def _refuse_duplicates(times: np.ndarray, labels: np.ndarray, name: str) -> None:
    t = pd.DatetimeIndex(times)
    if not t.has_duplicates:
        return
    dup = t[t.duplicated()][0]
    where = sorted(set(labels[np.nonzero(t == dup)[0]]))
    raise DataError(f"source {name!r} has duplicated dates", file=" and ".join(where), variable="time",
                    found=f"{dup.date()} {int((t == dup).sum())} times ({int(t.duplicated().sum())} "
                          "duplicated records in all)",
                    expected="each date once", hint="Remove the overlapping file or restrict start/end")


def _daily_means(parts: list[xr.Dataset], files, spec: SourceSpec) -> tuple[list[xr.Dataset], list[str]]:
    """Average sub-daily records (hourly ERA5) to one record per day, lazily.

    The files are joined (a day may span two files) and regrouped so that
    each dask chunk holds exactly one day; the mean of a chunk is then the
    day's mean (memory: one day of input). Days with fewer than
    ``min_records_per_day`` records count as missing.
    """
    labels = np.asarray([str(f) for f, p in zip(files, parts) for _ in range(p.sizes["time"])], dtype=object)
    ds = parts[0] if len(parts) == 1 else xr.concat(parts, dim="time", data_vars="minimal", coords="minimal",
                                                     compat="override", join="exact")
    t = pd.DatetimeIndex(ds["time"].values)
    _refuse_duplicates(t.values, labels, spec.name)
    order = np.argsort(t.values, kind="stable")
    ds, labels, t = ds.isel(time=order), labels[order], t[order]
    days, counts = np.unique(t.floor("D").values, return_counts=True)
    enough = counts >= spec.min_records_per_day
    if not enough.all():
        log.warning("source %s: %d days have fewer than %d records and count as missing (e.g. %s)",
                    spec.name, int((~enough).sum()), spec.min_records_per_day, str(days[~enough][0])[:10])
    out = {}
    for name, var in ds.data_vars.items():
        arr = var.data if isinstance(var.data, da.Array) else da.from_array(var.data)
        arr = arr.rechunk({0: tuple(int(c) for c in counts)})
        mean = arr.map_blocks(_block_mean, chunks=((1,) * len(days),) + arr.chunks[1:], dtype=np.float32)
        out[name] = xr.DataArray(mean, dims=var.dims, attrs=var.attrs)
    daily = xr.Dataset(out, coords={k: ds[k] for k in ds.coords if "time" not in ds[k].dims},
                       attrs=ds.attrs).assign_coords(time=days)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    keep = np.nonzero(enough)[0]
    return [daily.isel(time=keep)], list(labels[first][keep])


def _block_mean(block: np.ndarray) -> np.ndarray:
    return block.astype(np.float64).mean(axis=0, keepdims=True).astype(np.float32)


def open_bathymetry(spec: SourceSpec) -> tuple[xr.DataArray, str]:
    """Static sea-floor depth (m, positive down, NaN on land) and its file label."""
    files = resolve_paths(list(spec.files))
    ds = open_source(files, spec.product, ["deptho"], chunks={}, check=False)
    depth = ds["deptho"]
    for dim in [d for d in depth.dims if d not in ("latitude", "longitude")]:
        depth = depth.isel({dim: 0}, drop=True)
    label = str(files[0]) if len(files) == 1 else f"{files[0]} (+{len(files) - 1})"
    return depth.chunk({"latitude": -1, "longitude": -1}), label


def file_label(paths: "list[Path] | tuple[str, ...]") -> str:
    paths = [str(p) for p in paths]
    return paths[0] if len(paths) == 1 else f"{paths[0]} (+{len(paths) - 1} files)"
