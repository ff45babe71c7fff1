"""Swath (L2/L3 SST) and along-track (SLA) observations onto the target grid.

Observations carry their own 1-D (along-track) or 2-D (swath) latitude and
longitude. Each day's observations (from every file of the source) are put
on the target grid with pyresample:

* ``bucket`` (default): the average of the observations falling in each
  cell (``BucketResampler.get_average``) and their number
  (``get_sum`` of valid observations), the ``{var}_count`` channel;
* ``gaussian``: a Gaussian-weighted average of the neighbours within
  ``radius_km`` (``kd_tree.resample_gauss``, ``sigma_km``); the count
  channel is still the bucket count.

The target area is an equidistant-cylindrical projection centred on the
grid, whose cells are exactly the grid's latitude-longitude cells (so a
grid across the dateline works). Each day is one dask task, run at write
time; only the files' time stamps are read before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dask
import dask.array as da
import numpy as np
import xarray as xr

from ocean import variables as V
from ocean.errors import DataError
from ocean.grid import EARTH_RADIUS, Grid
from ocean.io import resolve_paths
from pipelines.checks import check_values
from pipelines.recipe import SourceSpec
from ocean.io import check_complete
from pipelines.sources import within

__all__ = ["SwathSource", "open_swath", "target_area", "resample_day"]

log = logging.getLogger(__name__)

_LAT = ("lat", "latitude", "nav_lat")
_LON = ("lon", "longitude", "nav_lon")


@dataclass(frozen=True)
class SwathSource:
    """Observation files and the days each covers."""

    spec: SourceSpec
    files: tuple[str, ...]
    file_days: tuple[tuple[str, ...], ...]  # per file: ISO days with observations

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def days(self) -> np.ndarray:
        return np.unique(np.concatenate([np.asarray(d, dtype="datetime64[D]") for d in self.file_days]))

    def available(self, days: np.ndarray) -> np.ndarray:
        return np.isin(np.asarray(days, dtype="datetime64[D]"), self.days)

    def files_for(self, day) -> tuple[str, ...]:
        iso = str(np.datetime64(day, "D"))
        return tuple(f for f, ds in zip(self.files, self.file_days) if iso in ds)

    def file_of(self, day) -> str:
        return ", ".join(self.files_for(day)) or ", ".join(self.files[:3])

    def on_grid(self, days: np.ndarray, target: Grid) -> xr.Dataset:
        """Lazy ``(time, latitude, longitude)`` average and count per variable for ``days``."""
        out = {}
        for var in self.spec.variables:
            avgs, counts = [], []
            for d in np.asarray(days, dtype="datetime64[D]"):
                task = dask.delayed(resample_day, pure=True)(self.files_for(d), str(d), var, self.spec, target)
                avgs.append(da.from_delayed(task[0], shape=target.shape, dtype=np.float32))
                counts.append(da.from_delayed(task[1], shape=target.shape, dtype=np.float32))
            dims = ("time", "latitude", "longitude")
            out[var] = (dims, da.stack(avgs), V.get(var).cf_attrs())
            out[f"{var}_count"] = (dims, da.stack(counts), {
                "long_name": f"number of {var} observations in the cell", "units": "1"})
        coords = {"time": np.asarray(days, dtype="datetime64[ns]"), **target.coords()}
        return xr.Dataset(out, coords=coords)


def open_swath(spec: SourceSpec) -> SwathSource:
    """Read the files' time stamps (only) and refuse empty files."""
    files = resolve_paths(list(spec.files))
    file_days = []
    for path in files:
        with _open(path) as ds:
            for var in spec.variables:
                name = _name(ds, var, spec, path)
                if ds[name].size == 0:
                    raise DataError("empty swath file: no observations", file=path, variable=name,
                                    found=f"dims {dict(ds[name].sizes)}", expected="at least one observation",
                                    hint="Remove the file from the source or fetch it again")
            times = _times(ds, ds[_name(ds, spec.variables[0], spec, path)], path)
            days = np.unique(times.astype("datetime64[D]"))
        days = days[within(days, spec)]
        file_days.append(tuple(str(d) for d in days))
    if not any(file_days):
        raise DataError(f"swath source {spec.name!r} has no observations between {spec.start} and {spec.end}",
                        file=", ".join(map(str, files[:3])))
    return SwathSource(spec, tuple(map(str, files)), tuple(file_days))


def _open(path) -> xr.Dataset:
    check_complete(path)
    try:
        return xr.open_dataset(path)
    except Exception as exc:
        raise DataError(f"cannot be read as NetCDF ({type(exc).__name__}: {exc})", file=path,
                        hint="The file may be truncated; fetch it again") from exc


def _name(ds: xr.Dataset, var: str, spec: SourceSpec, path) -> str:
    candidates = [spec.file_name(var)] if spec.file_name(var) else list(
        V.lexicon(spec.product).variables[var].components if var in V.lexicon(spec.product).variables else ())
    candidates += [var]
    for c in candidates:
        if c and c in ds.variables:
            return c
    raise DataError("required variable is missing", file=path, variable=var,
                    found=sorted(map(str, ds.data_vars)), expected=" or ".join(dict.fromkeys(filter(None, candidates))),
                    hint="Name the file's variable in the source's 'names' mapping")


def _coord(ds: xr.Dataset, names, path, what: str) -> xr.DataArray:
    for n in names:
        if n in ds.variables:
            return ds[n]
    raise DataError(f"no {what} variable", file=path, found=sorted(map(str, ds.variables)),
                    expected=" or ".join(names))


def _times(ds: xr.Dataset, data: xr.DataArray, path) -> np.ndarray:
    """Observation times broadcast to the data's shape (datetime64[ns])."""
    if "time" not in ds.variables:
        raise DataError("no time variable", file=path, found=sorted(map(str, ds.variables)), expected="time")
    t = ds["time"]
    if not np.issubdtype(t.dtype, np.datetime64):
        raise DataError("time is not decoded as dates", file=path, variable="time",
                        found=f"dtype {t.dtype}, units {t.attrs.get('units')!r}",
                        expected="a CF time with units like 'seconds since 1970-01-01'")
    if t.size == 1:
        return np.full(data.shape, t.values.ravel()[0], dtype="datetime64[ns]")
    try:
        return np.asarray(t.broadcast_like(data).transpose(*data.dims).values, dtype="datetime64[ns]")
    except ValueError:
        raise DataError("observation times do not match the data's shape", file=path, variable="time",
                        found=f"time dims {t.dims}", expected=f"a scalar or dims among {data.dims}") from None


def target_area(grid: Grid):
    """A pyresample area whose cells are ``grid``'s cells (row 0 = north)."""
    from pyresample.geometry import AreaDefinition

    centre = grid.lon0 + grid.nlon * grid.res / 2
    k = np.deg2rad(1.0) * EARTH_RADIUS
    proj = f"+proj=eqc +R={EARTH_RADIUS} +lon_0={centre} +lat_ts=0 +units=m +no_defs"
    half = grid.nlon * grid.res / 2 * k
    extent = (-half, grid.lat0 * k, half, (grid.lat0 + grid.nlat * grid.res) * k)
    return AreaDefinition(grid.name, grid.name, grid.name, proj, grid.nlon, grid.nlat, extent)


def _observations(files, day: str, var: str, spec: SourceSpec):
    """Flattened (lon, lat, value) of ``var`` on ``day`` from ``files``, canonical units."""
    lons, lats, vals = [], [], []
    for path in files:
        with _open(path) as ds:
            name = _name(ds, var, spec, path)
            data = ds[name]
            values = np.asarray(data.values, dtype=np.float64)
            on_day = _times(ds, data, path).astype("datetime64[D]") == np.datetime64(day, "D")
            lat = np.broadcast_to(_coord(ds, _LAT, path, "latitude").broadcast_like(data).values, data.shape)
            lon = np.broadcast_to(_coord(ds, _LON, path, "longitude").broadcast_like(data).values, data.shape)
            values = _to_canonical(values, data.attrs.get("units"), var, path, name)
            check_values(values, var, day, dict(file=path, variable=name))
            lons.append(lon[on_day])
            lats.append(lat[on_day])
            vals.append(values[on_day])
    return np.concatenate(lons), np.concatenate(lats), np.concatenate(vals)


def _to_canonical(values: np.ndarray, units, var: str, path, name: str) -> np.ndarray:
    expected = V.get(var).units
    try:
        fn = V.unit_converter(units or expected, expected)
    except V.UnitError as exc:
        raise DataError(f"unknown units: {exc}", file=path, variable=name) from None
    return fn(values) if fn else values


def resample_day(files, day: str, var: str, spec: SourceSpec, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(average, count) of one day's observations on ``grid`` (latitude ascending)."""
    from pyresample.bucket import BucketResampler

    lon, lat, val = _observations(files, day, var, spec)
    ok = np.isfinite(val) & np.isfinite(lon) & np.isfinite(lat)
    lon, lat, val = lon[ok], lat[ok], val[ok]
    if val.size == 0:
        empty = np.full(grid.shape, np.nan, dtype=np.float32)
        return empty, np.zeros(grid.shape, dtype=np.float32)
    area = target_area(grid)
    with dask.config.set(scheduler="synchronous"):
        bucket = BucketResampler(area, da.from_array(lon), da.from_array(lat))
        count = np.asarray(bucket.get_sum(da.ones_like(da.from_array(val))).compute(), dtype=np.float32)
        if spec.resampler == "gaussian":
            avg = _gaussian(lon, lat, val, area, spec)
        else:
            avg = np.asarray(bucket.get_average(da.from_array(val)).compute(), dtype=np.float32)
    return avg[::-1].astype(np.float32), count[::-1]


def _gaussian(lon, lat, val, area, spec: SourceSpec) -> np.ndarray:
    from pyresample.geometry import SwathDefinition
    from pyresample.kd_tree import resample_gauss

    swath = SwathDefinition(lons=lon, lats=lat)
    out = resample_gauss(swath, val, area, radius_of_influence=spec.radius_km * 1000.0,
                         sigmas=spec.sigma_km * 1000.0, neighbours=int(min(16, max(2, val.size))),
                         fill_value=None)
    return np.ma.filled(np.ma.asarray(out, dtype=np.float64), np.nan).astype(np.float32)
