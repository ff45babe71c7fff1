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
import operator
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from ocean.errors import DataError
from ocean import variables as V
from ocean.io import check_complete, open_source, resolve_paths
from pipelines.recipe import SourceSpec

__all__ = ["GriddedSource", "open_gridded", "open_bathymetry", "DAY"]

log = logging.getLogger(__name__)

DAY = np.timedelta64(1, "D")
# Producer spellings of the time and depth dimensions: one record per dask
# chunk, and one level per chunk when a record is large (see _open_file).
_CHUNKS = {"time": 1, "valid_time": 1, "depth": 1, "deptht": 1, "lev": 1, "z": 1, "z_t": 1,
           "latitude": -1, "longitude": -1, "lat": -1, "lon": -1}
_DEPTHS = ("depth", "deptht", "lev", "z", "z_t")
#: A record of one variable up to this size (all levels, float32) is one dask chunk: every task
#: then reads, regrids and remaps a whole column at once (at 4 degrees a level is 16 kB, and one
#: task per level would cost more in scheduling than in work; a file stored one variable per HDF5
#: chunk would also be decompressed once per level). Larger records (GLORYS 1/12 degree: 1.8 GB)
#: are read one level per chunk, which bounds a task's memory.
COLUMN_BYTES = 64 * 2**20
#: A file of column records holding at most this (float32) is read whole by one task of the write (once
#: in all); a larger one (a year of records in one file) is opened lazily and read a record per chunk.
FILE_BYTES = 256 * 2**20


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
        where = [self.where[int(k)] for k in np.searchsorted(self.times, days)]
        first = self.parts[0]
        out = {}
        for name, var in first.data_vars.items():
            axis = var.get_axis_num("time")
            blocks = [self.parts[p][name].data[(slice(None),) * axis + (slice(i, i + 1),)] for p, i in where]
            data = blocks[0] if len(blocks) == 1 else da.concatenate(blocks, axis=axis)  # views: no copy
            out[name] = xr.Variable(var.dims, data, var.attrs)
        coords = {k: c.variable for k, c in first.coords.items() if "time" not in c.dims}
        coords["time"] = xr.Variable("time", days.astype("datetime64[ns]"), first["time"].attrs)
        return xr.Dataset(out, coords=coords, attrs=first.attrs)

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


def _open_file(path: Path, spec: SourceSpec, columns: bool = False) -> xr.Dataset:
    """One file, lazily: a record per chunk (forcing: the whole file), a level per chunk
    unless ``columns`` (then all levels of a record in one chunk)."""
    chunks = {k: v for k, v in _CHUNKS.items() if spec.kind != "forcing" or k not in ("time", "valid_time")}
    if columns:
        chunks.update({d: -1 for d in _DEPTHS})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The specified chunks separate the stored chunks")
        ds = open_source(path, spec.product, spec.variables, chunks=chunks, check=False)
    if "time" not in ds.dims:
        raise DataError("no time dimension", file=path, found=sorted(map(str, ds.dims)),
                        expected="time (or valid_time)", hint="Static fields belong to a bathymetry source")
    whole = all(len(c) == 1 for d, c in ds.chunks.items() if d in ("latitude", "longitude"))
    return ds if whole else ds.chunk({"latitude": -1, "longitude": -1})


def open_gridded(spec: SourceSpec) -> GriddedSource:
    """Open every file of ``spec`` (lazily), restricted to its start/end.

    The first file is opened whole (lazily): it is the source's template
    (variables, grid, levels, attributes). When a record is one column per
    variable (:data:`COLUMN_BYTES`), the other files are only scanned for
    their time stamps (their time variable, see :func:`_record_times`) and
    each is read once, whole, by one task of the write (:func:`_read_file`),
    which refuses a file whose grid or variables differ from the template's.
    """
    files = resolve_paths(list(spec.files))
    first = _open_file(files[0], spec, columns=True)
    columns = max(_record_bytes(first[v]) for v in first.data_vars) <= COLUMN_BYTES
    if columns:
        template = _Template.of(first, spec, files[0])
        per_record = sum(_record_bytes(first[v]) for v in first.data_vars)
        parts = [_part(template, p, first["time"].values if k == 0 else _record_times(p, spec), k, per_record)
                 for k, p in enumerate(files)]
    else:
        parts = [_open_file(files[0], spec)] + [_open_file(p, spec) for p in files[1:]]
    if spec.kind == "forcing":
        parts, labels = _daily_means(parts, files, spec)
    else:
        parts = [p if columns else p.assign_coords(time=p["time"].dt.floor("D")) for p in parts]
        labels = [str(f) for f, p in zip(files, parts) for _ in range(p.sizes["time"])]
    if not columns:
        _refuse_other_grids(parts, files, spec.name)
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


@dataclass(frozen=True)
class _Template:
    """What every file of a source must look like: the first file's variables, grid and levels."""

    spec: SourceSpec
    first: str
    variables: tuple[tuple[str, tuple[str, ...], tuple[int, ...], dict], ...]  # name, dims, record shape, attrs
    coords: tuple[tuple[str, xr.Variable], ...]  # the coordinates without time
    attrs: dict
    time_attrs: dict

    source = property(lambda self: self.spec.name)
    product = property(lambda self: self.spec.product)
    kind = property(lambda self: self.spec.kind)

    @classmethod
    def of(cls, ds: xr.Dataset, spec: SourceSpec, first) -> "_Template":
        variables = tuple((str(n), tuple(map(str, v.dims)), tuple(v.shape[1:]), dict(v.attrs))
                          for n, v in ds.data_vars.items())
        for name, dims, _, _ in variables:
            if dims[0] != "time":
                raise DataError("time is not the first dimension", file=first, variable=name, found=dims,
                                expected="(time, ...)")
        coords = tuple((str(k), c.variable) for k, c in ds.coords.items() if "time" not in c.dims)
        return cls(spec, str(first), variables, coords, dict(ds.attrs),
                   dict(ds["time"].attrs))


def _part(t: _Template, path: Path, times: np.ndarray, k: int, per_record: int) -> xr.Dataset:
    """File ``path`` read whole by one task when it holds at most :data:`FILE_BYTES`, else lazily
    (a record per chunk, as opened), checked against the template."""
    if np.size(times) * per_record <= FILE_BYTES:
        return _delayed_part(t, path, times, k)
    ds = _open_file(path, spec=t.spec, columns=True)
    _check_like(ds, t, path, ds.sizes.get("time", 0))
    return ds if t.kind == "forcing" else ds.assign_coords(time=ds["time"].dt.floor("D"))


def _delayed_part(t: _Template, path: Path, times: np.ndarray, k: int) -> xr.Dataset:
    """File ``path`` as a dataset shaped like the template whose every variable is one chunk
    of one task that reads the whole file (:func:`_read_file`): the file is read once."""
    import dask

    times = np.atleast_1d(np.asarray(times)).astype("datetime64[ns]")
    if t.kind != "forcing":
        times = times.astype("datetime64[D]").astype("datetime64[ns]")  # a producer's noon is the day
    key = f"read-{t.source}-{k}-{dask.base.tokenize(str(path))}"
    read = {key: (partial(_read_file, t=t, records=times.size), str(path))}  # one task: the whole file
    data = {}
    for name, dims, shape, attrs in t.variables:
        full = (times.size,) + shape
        graph = {**read, (f"{key}-{name}",) + (0,) * len(full): (operator.getitem, key, name)}
        arr = da.Array(graph, f"{key}-{name}", chunks=tuple((n,) for n in full), dtype=np.float32,
                       meta=np.empty((0,) * len(full), np.float32))
        data[name] = xr.Variable(dims, arr, attrs)
    coords = dict(t.coords)
    coords["time"] = xr.Variable("time", times, t.time_attrs)
    return xr.Dataset(data, coords=coords, attrs=t.attrs)


def _read_file(path: str, t: _Template, records: int) -> dict[str, np.ndarray]:
    """Every variable of one file, canonical (``open_source``) and on the template's grid, in memory."""
    ds = open_source(path, t.product, [name for name, *_ in t.variables], chunks=None, check=False)
    try:
        _check_like(ds, t, path, records)
        return {name: np.asarray(ds[name].transpose(*dims).values, dtype=np.float32)
                for name, dims, _, _ in t.variables}
    finally:
        ds.close()


def _check_like(ds: xr.Dataset, t: _Template, path, records: int) -> None:
    """Refuse a file whose grid, levels, variables or number of records are not the template's."""
    if "time" not in ds.dims:
        raise DataError("no time dimension", file=path, found=sorted(map(str, ds.dims)),
                        expected="time (or valid_time)", hint="Static fields belong to a bathymetry source")
    for c, ref in t.coords:
        if c not in ds.coords or not np.array_equal(ds[c].values, ref.values):
            found = ds[c].values if c in ds.coords else "absent"
            raise DataError(f"source {t.source!r}: a file's {c} differs from the first file's", file=path,
                            variable=str(c), found=f"{np.size(found)} values {np.ravel(found)[:3]}...",
                            expected=f"{ref.size} values {ref.values[:3]}... as in {t.first}",
                            hint="Give files on another grid their own source (with start/end)")
    missing = sorted(set(name for name, *_ in t.variables) - set(map(str, ds.data_vars)))
    if missing:
        raise DataError(f"source {t.source!r}: variables missing from a file", file=path,
                        found=sorted(map(str, ds.data_vars)), expected=sorted(n for n, *_ in t.variables))
    for name, dims, _, _ in t.variables:
        var = ds[name]
        if set(var.dims) != set(dims) or var.sizes["time"] != records:
            raise DataError(f"source {t.source!r}: a file's {name} has other dimensions than the first file's",
                            file=path, variable=name, found=dict(var.sizes),
                            expected=f"{dims} with {records} records, as in {t.first} and this file's time")


def _record_times(path: Path, spec: SourceSpec) -> np.ndarray:
    """The times of a file's records, reading only its time variable (netCDF4).

    Decoded as ``open_source`` decodes them (xarray's CF decoding). Anything
    unusual (not a NetCDF file, a truncated classic file, undecodable or
    non-standard times, no time variable) falls back to opening the file
    lazily, which raises the reader's own error naming the file.
    """
    path = Path(path)
    try:
        times = _scan_times(path, spec)
    except Exception:  # noqa: BLE001 - the full open below reports what is wrong
        times = None
    if times is None:
        return _open_file(path, spec, columns=True)["time"].values
    return times


def _scan_times(path: Path, spec: SourceSpec) -> np.ndarray | None:
    if path.is_dir() or path.suffix == ".zarr":
        return None
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:3] == b"CDF":
        check_complete(path)  # a truncated classic file is refused here, as when opened
    elif head != b"\x89HDF\r\n\x1a\n":
        return None
    import netCDF4

    names = ["time"] + [k for k, v in V.lexicon(spec.product).dims.items() if v == "time"]
    with netCDF4.Dataset(path) as nc:
        name = next((n for n in names if n in nc.variables), None)
        if name is None:
            return None
        var = nc.variables[name]
        var.set_auto_maskandscale(False)
        raw = xr.Variable(var.dimensions, np.asarray(var[...]), {k: var.getncattr(k) for k in var.ncattrs()})
    if raw.ndim > 1:
        return None
    decoded = xr.conventions.decode_cf_variable(name, raw, decode_timedelta=False)
    values = np.atleast_1d(np.asarray(decoded.values))
    if not np.issubdtype(values.dtype, np.datetime64):
        return None
    return values.astype("datetime64[ns]")


def _refuse_other_grids(parts: list[xr.Dataset], files, name: str) -> None:
    """Every file of a source on the first file's grid and levels (records are put side by side)."""
    ref = parts[0]
    for path, part in zip(files[1:], parts[1:]):
        for c in [c for c in ref.coords if "time" not in ref[c].dims]:
            if c not in part.coords or not np.array_equal(part[c].values, ref[c].values):
                found = part[c].values if c in part.coords else "absent"
                raise DataError(f"source {name!r}: a file's {c} differs from the first file's", file=path,
                                variable=str(c), found=f"{np.size(found)} values {np.ravel(found)[:3]}...",
                                expected=f"{ref[c].size} values {ref[c].values[:3]}... as in {files[0]}",
                                hint="Give files on another grid their own source (with start/end)")
        missing = sorted(set(ref.data_vars) - set(part.data_vars))
        if missing:
            raise DataError(f"source {name!r}: variables missing from a file", file=path, found=sorted(part.data_vars),
                            expected=sorted(ref.data_vars))


def _record_bytes(var: xr.DataArray) -> int:
    """Bytes of one record of ``var`` (all levels) in float32."""
    return 4 * int(np.prod([n for d, n in var.sizes.items() if d != "time"]))


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
