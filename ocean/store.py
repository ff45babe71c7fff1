"""Writing stores: CF Zarr v3 (sharded, consolidated) and NetCDF, atomically.

Nothing written here is ever visible half-done: every writer builds its
output under a temporary name in the destination folder and renames it into
place only when complete (``os.replace`` for files; a directory rename for
stores). A failure removes the temporary output and leaves any existing
output untouched.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import logging
import os
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np
import xarray as xr

from ocean.errors import DataError, OceanError

__all__ = ["quiet_zarr", "atomic_path", "write_netcdf", "write_zarr", "zarr_encoding", "publish_directory",
           "clean_debris", "disk_errors", "DISK_ERRNOS"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def quiet_zarr() -> Iterator[None]:
    """Silence zarr's notice that consolidated metadata is not in the v3 spec yet."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        yield


def _tmp_name(final: Path) -> Path:
    return final.with_name(f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")


@contextlib.contextmanager
def atomic_path(final: "str | os.PathLike", overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``final``; move it into place on success.

    For a directory (a Zarr store) an existing ``final`` is replaced only
    when ``overwrite``; it is first renamed aside, then removed after the
    new one is in place, so a reader sees either the old or the new store.
    """
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OceanError(f"cannot create the output folder {final.parent}: {exc}") from exc
    if not os.access(final.parent, os.W_OK):
        raise OceanError(f"the output folder {final.parent} is not writable; choose another "
                         "location or fix its permissions")
    tmp = _tmp_name(final)
    try:
        yield tmp
        if final.exists() and not overwrite:
            raise FileExistsError(f"{final} exists")
        publish_directory(tmp, final) if tmp.is_dir() else os.replace(tmp, final)
    except BaseException:
        _remove(tmp)
        raise


#: errno values that mean "the disk refuses the write" (full, over quota, read-only, file too large).
DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)


@contextlib.contextmanager
def disk_errors(final: "str | os.PathLike") -> Iterator[None]:
    """Turn a write refused by the disk (full, quota, read-only) into an :class:`OceanError` naming
    ``final``, the file being written and the free space (exit 1: the environment, not the input).
    Wrap the whole write: the writers remove their temporaries, so nothing new is visible."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in DISK_ERRNOS:
            raise
        folder = Path(final).parent
        try:
            st = os.statvfs(folder)
            free = f"{st.f_bavail * st.f_frsize / 2**20:.1f} MiB free on {folder}"
        except OSError:
            free = f"free space on {folder} unknown"
        raise OceanError(f"{final}: the disk refused the write ({os.strerror(exc.errno)}"
                         f"{f' writing {exc.filename}' if exc.filename else ''}; {free}): nothing new was "
                         "published and any existing output is unchanged. Free space (or make the folder "
                         "writable) and rerun, or choose another location") from exc


def clean_debris(final: "str | os.PathLike") -> list[Path]:
    """Remove what killed writers of ``final`` left beside it; call it holding ``final``'s lock.

    * temporaries ``.NAME.tmp-PID-XXXXXXXX`` (any PID: every writer of a
      store holds its lock while its temporary exists, so whoever holds the
      lock finds only dead writers' temporaries);
    * ``.NAME.old``, the previous version renamed aside during publication:
      removed when ``final`` exists, else renamed back (the run that was
      publishing died between its two renames; the old version stays
      published).

    Returns the paths removed.
    """
    final = Path(final)
    folder = final.parent
    if not folder.is_dir():
        return []
    removed = []
    old = folder / f".{final.name}.old"
    if old.exists() and not final.exists():
        os.rename(old, final)
        log.warning("%s: put back the version a killed run had renamed aside", final)
    for p in sorted(folder.glob(f".{glob.escape(final.name)}.tmp-*")) + ([old] if old.exists() else []):
        _remove(p)
        removed.append(p)
    if removed:
        log.info("removed %d temporary output(s) of %s left by killed runs: %s", len(removed), final.name,
                 ", ".join(p.name for p in removed))
    return removed


def publish_directory(tmp: Path, final: Path) -> None:
    """Rename a finished directory into place, replacing any old one."""
    if final.exists():
        old = _tmp_name(final).with_suffix(".old")
        os.rename(final, old)
        os.rename(tmp, final)
        _remove(old)
    else:
        os.rename(tmp, final)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        with contextlib.suppress(OSError):
            path.unlink()


def write_netcdf(ds: xr.Dataset, path: "str | os.PathLike", encoding: Mapping | None = None,
                 compress: bool = True) -> Path:
    """Write NetCDF-4 atomically (zlib level 1 on float variables by default)."""
    path = Path(path)
    enc = {}
    for name, da in ds.data_vars.items():
        e = {}
        if np.issubdtype(da.dtype, np.floating):
            e.update({"_FillValue": np.float32(np.nan) if da.dtype == np.float32 else np.nan})
            if compress:
                e.update({"zlib": True, "complevel": 1})
        enc[name] = e
    enc.update(encoding or {})
    with atomic_path(path) as tmp:
        try:
            ds.to_netcdf(tmp, engine="netcdf4", encoding=enc)
        except OSError as exc:
            raise OceanError(f"writing {path} failed: {exc} (is the disk full?)") from exc
    return path


def zarr_encoding(ds: xr.Dataset, shard_dim: str | None = "time",
                  inner: Mapping[str, int] | None = None) -> dict:
    """Encoding for Zarr v3: one shard per step of ``shard_dim``, inner chunks per ``inner``.

    By default a shard holds one time step (one day), split into inner
    chunks of one depth level, so a day is written (and appended) without
    touching any other day's file.
    """
    inner = dict(inner or {"depth": 1})
    enc = {}
    for name, da in ds.data_vars.items():
        shards = tuple(1 if d == shard_dim else da.sizes[d] for d in da.dims)
        chunks = tuple(min(inner.get(d, s), s) for d, s in zip(da.dims, shards))
        e = {"chunks": chunks}
        if shards != chunks:
            e["shards"] = shards
        if np.issubdtype(da.dtype, np.floating):
            e["fill_value"] = np.nan
        enc[name] = e
    return enc


def write_zarr(ds: xr.Dataset, path: "str | os.PathLike", *, overwrite: bool = False,
               encoding: Mapping | None = None, compute: bool = True) -> Path:
    """Write a consolidated Zarr v3 store atomically (temporary store, then rename)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise DataError("the output store exists", file=path, hint="Pass overwrite/--force to replace it")
    enc = zarr_encoding(ds) if encoding is None else dict(encoding)
    ds = ds.copy()
    for name in ds.variables:
        ds[name].encoding = {}
    with atomic_path(path) as tmp:
        try:
            with quiet_zarr():
                ds.to_zarr(tmp, mode="w", zarr_format=3, consolidated=True, encoding=enc, compute=compute)
        except OSError as exc:
            raise OceanError(f"writing {path} failed: {exc} (is the disk full?)") from exc
    return path
