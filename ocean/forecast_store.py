"""Forecast output: one Zarr store per initialisation under an output root.

Schema (DESIGN.md "Stores")::

    ROOT/forecast_YYYY-MM-DD.zarr
        thetao, so, uo, vo  (init_time, lead_time, depth, latitude, longitude)  float32, NaN over land
        zos                 (init_time, lead_time, latitude, longitude)
        valid_time          (init_time, lead_time)  coordinate
        /<head>             one group per downstream head, same init/lead dims

A forecast is never visible half-written: :class:`ForecastWriter` writes lead
by lead (memory bounded by one lead) into a hidden temporary store beside
the final one (``ROOT/.forecast_....zarr.tmp-PID-XXXX``), consolidates the
metadata and renames it into place in one step. :func:`open_forecasts`
opens every published store as one lazy dataset and ignores temporaries.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path
from typing import Mapping, Sequence

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from ocean import variables as V
from ocean.cf import apply_cf
from ocean.errors import DataError, OceanError
from ocean.grid import Grid
from ocean.levels import Levels
from ocean.lock import pid_alive
from ocean.store import atomic_path, quiet_zarr, zarr_encoding
from ocean.zarr_safety import check_store

__all__ = ["ForecastWriter", "forecast_path", "open_forecasts", "list_forecasts", "cleanup_stale"]

log = logging.getLogger(__name__)

_NAME = re.compile(r"^forecast_(\d{4}-\d{2}-\d{2})\.zarr$")


def forecast_path(root: "str | os.PathLike", init) -> Path:
    return Path(root) / f"forecast_{pd.Timestamp(init):%Y-%m-%d}.zarr"


def list_forecasts(root: "str | os.PathLike") -> list[Path]:
    """Published forecast stores under ``root``, oldest init first."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if _NAME.match(p.name) and p.is_dir())


def open_forecasts(root: "str | os.PathLike", group: str | None = None) -> xr.Dataset:
    """All published inits under ``root`` as one lazy dataset (``init_time`` concatenated).

    ``group`` opens a head's fields (e.g. ``"waves"``) instead of the physics.
    """
    paths = list_forecasts(root)
    if not paths:
        raise DataError("no published forecasts", file=root,
                        expected="stores named forecast_YYYY-MM-DD.zarr", hint="Run `ocean forecast --out ROOT` first")
    parts = [_open(p, group) for p in paths]
    if len(parts) == 1:
        return parts[0]
    return xr.concat(parts, dim="init_time", data_vars="minimal", coords="minimal",
                     compat="override", join="outer", combine_attrs="drop_conflicts")


def _open(path: Path, group: str | None) -> xr.Dataset:
    check_store(path)  # no object/pickle codecs: refused before any chunk is decoded
    try:
        return xr.open_zarr(path, group=group, consolidated=None, chunks={})
    except Exception as exc:  # zarr and xarray raise many types for a damaged store
        raise DataError(f"cannot be opened as a forecast store ({type(exc).__name__}: {exc})", file=path,
                        hint="Remove or re-run this forecast (ocean forecast --force)") from exc


def cleanup_stale(root: "str | os.PathLike") -> list[Path]:
    """Remove temporaries left by runs that died (their PID no longer exists) and lock files nobody holds."""
    removed = []
    root = Path(root)
    if not root.is_dir():
        return removed
    for p in root.iterdir():
        m = re.match(r"^\.forecast_.*\.tmp-(\d+)-", p.name)
        if m and not pid_alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
            removed.append(p)
    if removed:
        log.info("removed %d stale temporary store(s) left by interrupted runs", len(removed))
    from ocean.lock import remove_stale_locks

    return removed + remove_stale_locks(root, ".forecast_*.zarr.lock")


class ForecastWriter:
    """Write one initialisation's forecast lead by lead, then publish it atomically.

    Use as a context manager; leaving the block without :meth:`publish`
    (an exception, a kill) discards the temporary store.
    """

    def __init__(self, root: "str | os.PathLike", init, grid: Grid, levels: Levels,
                 variables: Sequence[str], leads: int, attrs: Mapping | None = None):
        self.final = forecast_path(root, init)
        self.init = np.datetime64(pd.Timestamp(init), "ns")
        self.grid, self.levels, self.variables, self.leads = grid, levels, tuple(variables), int(leads)
        self.attrs = dict(attrs or {})
        self._ctx = None
        self.tmp: Path | None = None
        self._written = np.zeros(self.leads, dtype=bool)

    # -- lifecycle ----------------------------------------------------------
    def __enter__(self) -> "ForecastWriter":
        self._ctx = atomic_path(self.final)
        self.tmp = self._ctx.__enter__()
        try:
            self._create()
        except BaseException as err:  # __exit__ is not called when __enter__ fails: discard the temporary here
            ctx, self._ctx = self._ctx, None
            ctx.__exit__(type(err), err, err.__traceback__)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        ctx, self._ctx = self._ctx, None
        if exc_type is not None:
            return ctx.__exit__(exc_type, exc, tb)  # discards the temporary store
        try:
            if not self._written.all():
                raise OceanError(f"forecast incomplete: lead days {(np.nonzero(~self._written)[0] + 1).tolist()} "
                                 "were not written; nothing was published")
            self._consolidate()
        except BaseException as err:
            ctx.__exit__(type(err), err, err.__traceback__)
            raise
        return ctx.__exit__(None, None, None)

    # -- content ----------------------------------------------------------------
    def coords(self) -> dict:
        lead = (np.arange(1, self.leads + 1) * np.timedelta64(1, "D")).astype("timedelta64[ns]")
        c = dict(self.grid.coords())
        c["depth"] = ("depth", self.levels.values, self.levels.coord_attrs())
        c["init_time"] = ("init_time", [self.init])
        c["lead_time"] = ("lead_time", lead)
        c["valid_time"] = (("init_time", "lead_time"), (self.init + lead)[None, :])
        return c

    def _template(self) -> xr.Dataset:
        nz, (ny, nx) = len(self.levels), self.grid.shape
        data = {}
        for v in self.variables:
            if V.get(v).is_3d:
                shape, dims = (1, self.leads, nz, ny, nx), ("init_time", "lead_time", "depth", "latitude", "longitude")
            else:
                shape, dims = (1, self.leads, ny, nx), ("init_time", "lead_time", "latitude", "longitude")
            chunks = tuple(1 if d in ("init_time", "lead_time") else s for d, s in zip(dims, shape))
            data[v] = (dims, da.full(shape, np.nan, dtype=np.float32, chunks=chunks))
        ds = xr.Dataset(data, coords=self.coords())
        return apply_cf(ds, title="ocean-forecast forecast", **self.attrs)

    def _create(self) -> None:
        tmpl = self._template()
        enc = zarr_encoding(tmpl, shard_dim="lead_time")
        with quiet_zarr():
            tmpl.to_zarr(self.tmp, mode="w", zarr_format=3, compute=False, encoding=enc, consolidated=False)

    def write_lead(self, lead_index: int, fields: Mapping[str, np.ndarray]) -> None:
        """Write lead ``lead_index`` (0-based; lead day ``lead_index + 1``).

        ``fields[v]`` is ``(depth, lat, lon)`` for 3-D variables, ``(lat, lon)`` for 2-D, NaN over land.
        """
        data = {}
        for v in self.variables:
            arr = np.asarray(fields[v], dtype=np.float32)[None, None]
            dims = ("init_time", "lead_time", "depth", "latitude", "longitude") if V.get(v).is_3d \
                else ("init_time", "lead_time", "latitude", "longitude")
            data[v] = (dims, arr)
        ds = xr.Dataset(data)
        region = {"init_time": slice(0, 1), "lead_time": slice(lead_index, lead_index + 1)}
        self._to_zarr(ds, region=region)
        self._written[lead_index] = True

    def write_group(self, name: str, ds: xr.Dataset) -> None:
        """Write a head's fields as group ``name`` (same init/lead dims)."""
        ds = apply_cf(ds)
        for var in ds.variables:
            ds[var].encoding = {}
        with quiet_zarr():
            ds.to_zarr(self.tmp, group=name, mode="w", zarr_format=3, consolidated=False)

    def _to_zarr(self, ds: xr.Dataset, **kw) -> None:
        try:
            with quiet_zarr():
                ds.to_zarr(self.tmp, mode="r+", zarr_format=3, consolidated=False, **kw)
        except OSError as exc:
            raise OceanError(f"writing the forecast to {self.tmp.parent} failed: {exc} "
                             "(is the disk full or the folder unwritable?)") from exc

    def _consolidate(self) -> None:
        import zarr

        with quiet_zarr():
            zarr.consolidate_metadata(str(self.tmp))
