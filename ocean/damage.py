"""Damaged Zarr stores: find damaged chunks, and name the one behind a decode error.

A chunk file with random bytes in it (a bad disk, a copy cut short) fails
when it is decoded: Zstd, Blosc or the shard index's crc32c checksum raise
deep inside zarr's codec pipeline, with a message that names neither the
store, the variable nor the day. Two tools:

* :func:`scan_store` reads every chunk (``quick``: only the last days of the
  time-dependent arrays, plus every small array) and returns one
  :class:`Damage` per chunk that does not decode, with its variable, its
  position on the first axis (the day of a cube) and its file;
* :func:`explain` turns an exception raised while a command read a store
  into a :class:`ocean.errors.DataError` naming the store, the variable,
  the day and the chunk file (found from the exception's own traceback: the
  codec frames hold the chunk's store path), or returns None when the
  exception is not a decode error. ``ocean.cli`` applies it to every
  command, so ``forecast``, ``hindcast``, ``append`` and ``validate`` all
  exit 3 on a damaged store instead of printing a codec traceback.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np

from ocean.errors import DataError

log = logging.getLogger(__name__)

#: Shards read together along the first axis (one zarr call decodes them concurrently); a block
#: that fails is read again shard by shard to name the damaged ones.
BLOCK_SHARDS = 64
#: Seconds between progress lines of a long scan.
PROGRESS_SECONDS = 30.0

__all__ = ["Damage", "scan_store", "explain", "is_decode_error", "refuse_damaged"]

#: Where decoding happens: an exception raised from these files is a damaged chunk.
_CODEC_FILES = ("numcodecs", "/zarr/codecs/", "\\zarr\\codecs\\", "crc32c")
_CODEC_WORDS = ("decompression error", "checksum", "crc32", "corrupt", "decompress")


@dataclass(frozen=True)
class Damage:
    """One chunk that does not decode."""

    variable: str
    where: str  # e.g. "day 2020-01-02" (the first axis's coordinate), or "" for a static array
    file: str
    error: str

    def __str__(self) -> str:
        at = f", {self.where}" if self.where else ""
        return f"damaged chunk: variable {self.variable!r}{at}, file {self.file} ({self.error})"


def is_decode_error(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) was raised while decoding a chunk."""
    for e in _chain(exc):
        if isinstance(e, DataError):
            return False
        text = str(e).lower()
        frames = [tb.tb_frame.f_code.co_filename for tb in _tracebacks(e)]
        if any(any(k in f for k in _CODEC_FILES) for f in frames[-3:]) or \
                (any("/zarr/" in f for f in frames) and any(w in text for w in _CODEC_WORDS)):
            return True
    return False


def explain(exc: BaseException) -> DataError | None:
    """A :class:`DataError` naming the damaged chunk behind ``exc``, or None if it is no decode error."""
    if not is_decode_error(exc):
        return None
    cause = next(e for e in _chain(exc))
    error = f"{type(cause).__name__}: {cause}"
    chunk = _chunk_of(exc)
    if chunk is None:
        return DataError("a chunk of a Zarr store does not decode (damaged file)", found=error,
                         expected="chunks that decode", hint="Run `ocean data validate STORE` to list the "
                         "damaged chunks; rebuild the store or restore it from a copy")
    root, key = chunk
    variable, where = _locate(Path(root), key)
    return DataError(f"a chunk of the store {root} does not decode{f' ({where})' if where else ''}",
                     file=Path(root) / key, variable=variable, found=error,
                     expected="chunks that decode (the file is damaged)",
                     hint=f"Run `ocean data validate {root}` to list every damaged chunk; rebuild the store "
                          "or restore it from a copy")


def refuse_damaged(path, *, quick: bool = True, days: int = 2) -> None:
    """Raise a :class:`DataError` listing the damaged chunks of ``path`` (``quick``: its last ``days``)."""
    damaged = scan_store(path, quick=quick, days=days)
    if damaged:
        raise DataError(f"the store has {len(damaged)} damaged chunks", file=path,
                        found="; ".join(str(d) for d in damaged[:5]) + (" ..." if len(damaged) > 5 else ""),
                        expected="every chunk decodes",
                        hint=f"Run `ocean data validate {path}` for the full list; rebuild the store or restore "
                             "it from a copy before extending it")


def scan_store(path, *, quick: bool = False, days: int = 2) -> list[Damage]:
    """Read every chunk of every array under the Zarr store ``path`` (``quick``: only the last
    ``days`` along the first axis of arrays whose first dimension is ``time``).

    Logs progress (a line every ``PROGRESS_SECONDS``) on long scans.
    """
    import zarr

    path = Path(path)
    group = zarr.open_group(str(path), mode="r")
    arrays = sorted(group.arrays()) + _subgroup_arrays(group)
    total = sum(math.prod(array.shape) * array.dtype.itemsize for _, array in arrays) or 1
    progress = _Progress(path, total)
    out = []
    for name, array in arrays:
        out.extend(_scan_array(path, name, array, quick, days, progress))
    return out


class _Progress:
    """Share of the store's bytes read so far, logged at most every ``PROGRESS_SECONDS``."""

    def __init__(self, path: Path, total: int):
        self.path, self.total, self.done = path, total, 0
        self.start = self.last = time.monotonic()

    def add(self, nbytes: int) -> None:
        self.done += nbytes
        now = time.monotonic()
        if now - self.last >= PROGRESS_SECONDS:
            self.last = now
            log.info("checking %s: %.0f%% of %.0f MB read (%.0f s)", self.path, 100 * self.done / self.total,
                     self.total / 1e6, now - self.start)


def _subgroup_arrays(group) -> list:
    found = []
    for gname, sub in sorted(group.groups()):
        found.extend((f"{gname}/{name}", a) for name, a in sorted(sub.arrays()))
        found.extend((f"{gname}/{n}", a) for n, a in _subgroup_arrays(sub))
    return found


def _scan_array(root: Path, name: str, array, quick: bool, days: int, progress: _Progress) -> list[Damage]:
    shard = array.shards or array.chunks
    grid = [range(math.ceil(n / s)) if s else range(1) for n, s in zip(array.shape, shard)]
    dims = list(getattr(array.metadata, "dimension_names", None) or [])
    if quick and dims[:1] == ["time"] and grid:
        grid[0] = range(max(0, len(grid[0]) - math.ceil(days / shard[0])), len(grid[0]))

    def region(coords, first: range | None = None):
        lead = [] if first is None else [slice(first.start * shard[0], min(first.stop * shard[0], array.shape[0]))]
        rest = coords[len(lead):]
        offset = len(lead)
        return tuple(lead + [slice(c * s, min((c + 1) * s, n))
                             for c, s, n in zip(rest, shard[offset:], array.shape[offset:])])

    out = []
    if not grid:  # a 0-d array
        return _read_each(root, name, array, dims, shard, [()], region, progress)
    first = grid[0]
    for a in range(first.start, first.stop, BLOCK_SHARDS):
        block = range(a, min(a + BLOCK_SHARDS, first.stop))
        tiles = list(product(*grid[1:]))
        try:
            for tile in tiles:
                part = array[region(tile, block)]
                progress.add(part.nbytes)
        except Exception:  # noqa: BLE001 - a block that does not read: find its damaged shards
            out.extend(_read_each(root, name, array, dims, shard,
                                  [(c, *t) for c in block for t in tiles], region, progress))
    return out


def _read_each(root, name, array, dims, shard, coords_list, region, progress) -> list[Damage]:
    out = []
    for coords in coords_list:
        try:
            progress.add(array[region(coords)].nbytes if coords else array[...].nbytes)
        except Exception as exc:  # noqa: BLE001 - any failure to read a chunk is a damaged chunk
            key = array.metadata.encode_chunk_key(coords)
            where = _first_axis(root, name, dims, coords[0] * shard[0]) if coords else ""
            out.append(Damage(name, where, str(root / name / key), f"{type(exc).__name__}: {exc}"))
    return out


def _first_axis(root: Path, name: str, dims: list, index: int) -> str:
    """``day 2020-01-02`` for index 2 of a cube's time axis (the coordinate's value, else the index)."""
    if not dims:
        return f"index {index}"
    dim = dims[0]
    try:
        import xarray as xr

        parent = str(Path(name).parent) if "/" in name else None
        with xr.open_zarr(root, group=parent, consolidated=None) as ds:
            value = ds[dim].values[index]
        if np.issubdtype(np.asarray(value).dtype, np.datetime64):
            return f"{'day' if dim == 'time' else dim} {str(np.datetime64(value, 'D'))}"
        return f"{dim} {value}"
    except Exception:  # noqa: BLE001 - the coordinate itself may be damaged: say the index
        return f"{dim} index {index}"


def _locate(root: Path, key: str) -> tuple[str, str]:
    """Variable and first-axis position of the chunk ``key`` (``thetao/c/1/0/0/0``)."""
    name, _, rest = key.partition("/c/") if "/c/" in key else (key.rsplit("/", 1)[0], "", "")
    try:
        meta = json.loads((root / name / "zarr.json").read_text())
        shard = meta["chunk_grid"]["configuration"]["chunk_shape"]  # the shard's shape when sharded
        first = int(rest.split("/")[0]) * int(shard[0]) if rest else 0
        return name, _first_axis(root, name, list(meta.get("dimension_names") or []), first) if rest else ""
    except (OSError, ValueError, KeyError, IndexError):
        return name, ""


def _chunk_of(exc: BaseException) -> tuple[str, str] | None:
    """(store root, chunk key) of the chunk being decoded when ``exc`` was raised, from the frames' locals."""
    for e in _chain(exc):
        for tb in reversed(_tracebacks(e)):
            for value in list(tb.tb_frame.f_locals.values()):
                found = _store_path(value)
                if found:
                    return found
    return None


def _store_path(value) -> tuple[str, str] | None:
    candidates = [value] + (list(value[:4]) if isinstance(value, (list, tuple)) else [])
    for v in candidates:
        if isinstance(v, tuple) and v:
            v = v[0]
        if type(v).__name__ == "StorePath" and "/" in str(getattr(v, "path", "")):
            root = getattr(v.store, "root", None)
            if root is not None:
                return str(root), str(v.path)
    return None


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _tracebacks(exc: BaseException) -> list:
    out, tb = [], exc.__traceback__
    while tb is not None:
        out.append(tb)
        tb = tb.tb_next
    return out
