"""The training cube: the contract between ``pipelines`` (writer) and the models (readers).

A cube is a Zarr v3 store (consolidated metadata) holding

* data variables on dims ``time, depth, latitude, longitude`` (3-D ocean
  variables) or ``time, latitude, longitude`` (2-D ocean and forcing
  variables), float32, canonical names/units (``ocean.variables``), NaN over
  land for ocean variables, forcing defined everywhere;
* ``mask`` (``depth, latitude, longitude``, int8, 1 = ocean) and ``deptho``
  (``latitude, longitude``, m) when bathymetry is known;
* one shard per day (inner chunks of one level), so appending a day writes
  new files only;
* a ``statistics`` group: float64 ``{var}_mean``, ``{var}_std`` and
  ``{var}_tendency_std`` per level, with ``period_start``/``period_end``;
* global attributes: ``cube_format``, ``recipe`` (JSON), ``sources``
  (JSON provenance), ``levels``/``grid`` (JSON), ``Conventions``.

Readers use :func:`open_cube` and :func:`open_statistics`; writers use
:func:`write_cube` (whole cube, atomically) and the pipeline's append.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping

import numpy as np
import xarray as xr

from ocean import variables as V
from ocean.cf import apply_cf
from ocean.errors import DataError
from ocean.grid import Grid
from ocean.io import require_canonical
from ocean.levels import Levels
from ocean.store import atomic_path, quiet_zarr, zarr_encoding
from ocean.zarr_safety import check_store

__all__ = ["CUBE_FORMAT", "STATISTICS_GROUP", "write_cube", "prepare_cube", "open_cube", "open_statistics",
           "cube_grid", "cube_levels", "cube_mask", "ocean_variables", "forcing_variables"]

CUBE_FORMAT = "ocean-forecast-cube/1"
STATISTICS_GROUP = "statistics"


def write_cube(ds: xr.Dataset, path: "str | os.PathLike", *, statistics: xr.Dataset | None = None,
               attrs: Mapping | None = None, overwrite: bool = False) -> Path:
    """Write a whole cube atomically (a temporary store renamed into place).

    ``ds`` is canonical (``require_canonical``); a ``mask`` variable is
    derived from the first 3-D variable at the first time when absent.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise DataError("the cube exists", file=path, hint="Use `ocean data append` to add days, or --force")
    ds, enc = prepare_cube(ds, attrs, label=str(path))
    with atomic_path(path, overwrite=overwrite) as tmp, quiet_zarr():
        ds.to_zarr(tmp, mode="w", zarr_format=3, consolidated=True, encoding=enc)
        if statistics is not None:
            write_statistics(tmp, statistics)
    return path


def prepare_cube(ds: xr.Dataset, attrs: Mapping | None = None, label: str = "cube") -> tuple[xr.Dataset, dict]:
    """The dataset as a cube stores it (mask, CF and cube attributes) and its Zarr encoding.

    :func:`write_cube` writes the result in one go; the pipeline uses it to
    write a cube day by day (one shard per day: see ``zarr_encoding``).
    """
    require_canonical(ds, label)
    ds = _with_mask(ds)
    levels = Levels(tuple(ds["depth"].values)) if "depth" in ds.dims else None
    grid = Grid.from_coords(ds["latitude"].values, ds["longitude"].values)
    meta = {"cube_format": CUBE_FORMAT, "grid": json.dumps(grid.to_dict()),
            "levels": json.dumps(levels.to_dict() if levels else None)}
    ds = apply_cf(ds, title="ocean-forecast training cube", **meta, **dict(attrs or {}))
    enc = zarr_encoding(ds.drop_vars(["mask", "deptho"], errors="ignore"))
    for name in ds.variables:
        ds[name].encoding = {}
    return ds, enc


def write_statistics(path: "str | os.PathLike", statistics: xr.Dataset) -> None:
    """(Re)write the ``statistics`` group of a cube (float64)."""
    stats = statistics.astype(np.float64)
    for name in stats.variables:
        stats[name].encoding = {}
    import zarr

    with quiet_zarr():
        stats.to_zarr(path, group=STATISTICS_GROUP, mode="w", zarr_format=3, consolidated=True)
        zarr.consolidate_metadata(str(path))


def _with_mask(ds: xr.Dataset) -> xr.Dataset:
    if "mask" in ds:
        return ds.assign(mask=ds["mask"].astype(np.int8))
    first3d = next((v for v in ds.data_vars if v in V.CATALOGUE and V.get(v).is_3d), None)
    if first3d is None:
        first = next(v for v in ds.data_vars if v in V.PROGNOSTIC_2D)
        m = ds[first].isel(time=0, drop=True).notnull().expand_dims(depth=ds["depth"].values[:1]) \
            if "depth" in ds.dims else ds[first].isel(time=0, drop=True).notnull()
    else:
        m = ds[first3d].isel(time=0, drop=True).notnull()
    m = m.astype(np.int8)
    m.attrs = {"long_name": "ocean mask (1 = ocean)", "units": "1", "flag_values": "0, 1",
               "flag_meanings": "land ocean"}
    return ds.assign(mask=m.compute())


def open_cube(path: "str | os.PathLike") -> xr.Dataset:
    """Open a cube lazily (dask), checking that it is one."""
    path = Path(path)
    if not path.exists():
        raise DataError("no training cube here", file=path, hint="Build one with `ocean data build RECIPE --out CUBE`")
    check_store(path)  # no object/pickle codecs: refused before any chunk is decoded
    try:
        ds = xr.open_zarr(path, consolidated=None, chunks={})
    except Exception as exc:
        raise DataError(f"cannot be opened as a Zarr store ({type(exc).__name__}: {exc})", file=path) from exc
    if ds.attrs.get("cube_format") != CUBE_FORMAT:
        raise DataError("not an ocean-forecast training cube", file=path,
                        found=f"cube_format={ds.attrs.get('cube_format')!r}", expected=repr(CUBE_FORMAT))
    return ds


def open_statistics(path: "str | os.PathLike") -> xr.Dataset:
    """The cube's float64 statistics (``{var}_mean``, ``{var}_std``, ``{var}_tendency_std``)."""
    check_store(path)
    try:
        return xr.open_zarr(path, group=STATISTICS_GROUP, consolidated=None).load()
    except (FileNotFoundError, KeyError, OSError) as exc:
        raise DataError("the cube has no statistics group", file=path,
                        hint="Rebuild it with `ocean data build`, which computes the statistics") from exc


def cube_grid(ds: xr.Dataset) -> Grid:
    return Grid.from_coords(ds["latitude"].values, ds["longitude"].values, name=ds.attrs.get("grid_name", "cube"))


def cube_levels(ds: xr.Dataset) -> Levels | None:
    return Levels(tuple(float(d) for d in ds["depth"].values)) if "depth" in ds.dims else None


def cube_mask(ds: xr.Dataset) -> np.ndarray:
    """Ocean mask per level, bool ``(depth, lat, lon)``."""
    if "mask" not in ds:
        raise DataError("the cube has no mask variable", hint="Rebuild it with `ocean data build`")
    return ds["mask"].values.astype(bool)


def ocean_variables(ds: xr.Dataset) -> tuple[str, ...]:
    """Prognostic variables present, in catalogue order."""
    return tuple(v for v in V.PROGNOSTIC if v in ds.data_vars)


def forcing_variables(ds: xr.Dataset) -> tuple[str, ...]:
    return tuple(v for v in V.FORCING if v in ds.data_vars)
