"""Monthly reanalysis readers (GODAS, ORAS5, SODA) and the regridding onto the ENSO grid.

Every reader returns canonical monthly fields on a :class:`~downstream.enso.data.Layout`
(``thetao (time, depth, latitude, longitude)`` in degrees C at the layout's
levels; ``tauuo``, ``tauvo (time, latitude, longitude)`` in N m-2, positive
eastward / northward stress on the ocean; NaN over land; times on the first
day of each month). Names and units come from the lexicons in
:mod:`ocean.variables` (``godas``, ``oras5``, ``soda``); this module does
what :func:`ocean.io.open_source` cannot:

* **GODAS** (NCEP, yearly files ``pottmp.YYYY.nc``, ``uflx.YYYY.nc``,
  ``vflx.YYYY.nc``): ``pottmp`` in K on ``level`` (m) and ``lat``/``lon``
  (0..360, latitude refined to 1/3 degree near the equator). ``uflx``,
  ``vflx`` are NCEP momentum fluxes, positive upward, so ``tauuo = -uflx``
  (the lexicon's ``scale: -1``). These files also open with
  ``open_source(..., source="godas")``.
* **ORAS5** (ECMWF / Copernicus, one file per variable and month,
  ``votemper_control_monthly_highres_3D_YYYYMM_*.nc``,
  ``sozotaux_...2D...``, ``sometauy_...``): NEMO's ORCA grid is curvilinear
  (2-D ``nav_lat``, ``nav_lon``, dims ``y``, ``x``; ``deptht``;
  ``time_counter``), with stresses on the staggered U and V points (each
  file carries its own ``nav_lat``/``nav_lon``). Regridded by bin-averaging.
* **SODA 3.x** (``soda3.x.x_mn_ocean_reg_YYYY.nc``): MOM5's B-grid, ``temp``
  (degrees C) on ``xt_ocean``/``yt_ocean``/``st_ocean``, ``taux``/``tauy``
  (N m-2) on the velocity points ``xu_ocean``/``yu_ocean``.

Regridding (:func:`regrid`): a source finer than the target is
**bin-averaged**: every source cell centre falls in one 2-degree cell, and a
target cell is the cos-latitude weighted mean of its valid points, or NaN
(land) when less than half of its points' weight is valid. This needs no
grid description beyond the centres, so it serves regular, irregular and
curvilinear (ORCA) grids alike; it is the bucket average the pipelines use
for swaths, applied here to dense grids, and close to conservative when
the source is much finer than 2 degrees. A source coarser than the target
is interpolated bilinearly (regular grids only). Levels
(:func:`interpolate_levels`) are interpolated linearly in depth; a target
level above the shallowest source level takes that level's value.
"""

from __future__ import annotations

import logging
import numpy as np
import pandas as pd
import scipy.sparse
import xarray as xr

from downstream.enso.data import Layout
from ocean import variables as V
from ocean.errors import DataError
from ocean.grid import Grid
from ocean.io import open_raw, resolve_paths
from ocean.levels import Levels

__all__ = ["read_monthly", "open_godas", "open_oras5", "open_soda", "open_canonical", "regrid",
           "bin_average", "interpolate_levels", "READER_DIMS"]

log = logging.getLogger(__name__)

#: Per reader and canonical variable: source dim name -> canonical dim name.
READER_DIMS: dict[str, dict[str, dict[str, str]]] = {
    "godas": {v: {"time": "time", "level": "depth", "lat": "latitude", "lon": "longitude"}
              for v in ("thetao", "tauuo", "tauvo")},
    "oras5": {v: {"time_counter": "time", "deptht": "depth", "y": "y", "x": "x"} for v in ("thetao", "tauuo", "tauvo")},
    "soda": {"thetao": {"time": "time", "st_ocean": "depth", "yt_ocean": "latitude", "xt_ocean": "longitude"},
             "tauuo": {"time": "time", "yu_ocean": "latitude", "xu_ocean": "longitude"},
             "tauvo": {"time": "time", "yu_ocean": "latitude", "xu_ocean": "longitude"}},
}
#: 2-D coordinates of curvilinear sources: (latitude variable, longitude variable).
_CURVILINEAR = {"oras5": ("nav_lat", "nav_lon")}
_HALO = 3.0  # degrees of source kept around the target box before regridding


def read_monthly(reader: str, temperature, layout: Layout, *, zonal_stress=None,
                 meridional_stress=None) -> xr.Dataset:
    """Monthly ENSO fields on ``layout`` from one reanalysis's files (paths or globs).

    ``zonal_stress`` / ``meridional_stress`` default to the temperature files
    (SODA keeps everything in one file; GODAS and ORAS5 have one per variable).
    """
    if reader == "canonical":
        return open_canonical(temperature, layout)
    if reader not in READER_DIMS:
        raise DataError("unknown reanalysis reader", found=repr(reader),
                        expected=f"one of {sorted([*READER_DIMS, 'canonical'])}")
    sources = {"thetao": temperature, "tauuo": zonal_stress or temperature,
               "tauvo": meridional_stress or temperature}
    out = {}
    for name, paths in sources.items():
        da = _read_variable(reader, name, paths, layout)
        if name == "thetao":
            da = interpolate_levels(da, layout.levels)
        out[name] = regrid(da, layout.grid, _CURVILINEAR.get(reader))
    ds = xr.Dataset(out)
    ds.attrs = {"source": reader, "source_description": V.lexicon(reader).description,
                "regridding": "bin average (cos-latitude weights, >= 50 % valid) onto "
                              f"{layout.grid.describe()}; linear in depth onto {list(layout.levels.depths)} m"}
    return ds


def open_godas(pottmp, uflx, vflx, layout: Layout) -> xr.Dataset:
    """GODAS ``pottmp.YYYY.nc``, ``uflx.YYYY.nc``, ``vflx.YYYY.nc`` files -> ENSO fields on ``layout``."""
    return read_monthly("godas", pottmp, layout, zonal_stress=uflx, meridional_stress=vflx)


def open_oras5(votemper, sozotaux, sometauy, layout: Layout) -> xr.Dataset:
    """ORAS5 ``votemper``, ``sozotaux``, ``sometauy`` files (ORCA grid) -> ENSO fields on ``layout``."""
    return read_monthly("oras5", votemper, layout, zonal_stress=sozotaux, meridional_stress=sometauy)


def open_soda(files, layout: Layout) -> xr.Dataset:
    """SODA 3.x monthly files (``temp``, ``taux``, ``tauy`` together) -> ENSO fields on ``layout``."""
    return read_monthly("soda", files, layout)


def open_canonical(paths, layout: Layout) -> xr.Dataset:
    """Files any :func:`ocean.io.open_source` lexicon reads (e.g. ``ocean synthetic --products enso``), regridded."""
    from ocean.io import detect_source, open_source

    groups: dict[str, list] = {}
    for f in resolve_paths(paths):
        with open_raw(f) as raw:
            groups.setdefault(detect_source(raw, f).name, []).append(f)
    ds = xr.merge([open_source(fs, source=s) for s, fs in groups.items()], compat="override", join="outer",
                  combine_attrs="drop_conflicts")
    missing = [v for v in ("thetao", "tauuo", "tauvo") if v not in ds]
    if missing:
        raise DataError("ENSO fields are missing", file=f"{len(resolve_paths(paths))} files", found=sorted(ds.data_vars),
                        expected="thetao, tauuo, tauvo")
    ds = ds.assign_coords(time=_month_starts(ds["time"].values, "time"))
    out = {"thetao": regrid(interpolate_levels(ds["thetao"], layout.levels), layout.grid),
           "tauuo": regrid(ds["tauuo"], layout.grid), "tauvo": regrid(ds["tauvo"], layout.grid)}
    return xr.Dataset(out).load()


def _read_variable(reader: str, canonical: str, paths, layout: Layout) -> xr.DataArray:
    """One variable of a reanalysis: canonical name, units, dims; latitude band of the layout."""
    sv = V.lexicon(reader).variables[canonical]
    dims = READER_DIMS[reader][canonical]
    parts = []
    for path in resolve_paths(paths):
        raw = open_raw(path, chunks=None)
        if sv.components[0] not in raw.variables:
            raise DataError(f"no {sv.components[0]!r} ({reader} name of {canonical})", file=path,
                            found=sorted(map(str, raw.data_vars)), expected=sv.components[0])
        da = raw[sv.components[0]]
        unknown = [d for d in da.dims if d not in dims]
        if unknown:
            raise DataError(f"unexpected dimensions for {reader}", file=path, variable=sv.components[0],
                            found=list(da.dims), expected=sorted(dims))
        da = da.rename({d: dims[d] for d in da.dims if dims[d] != d})
        if canonical != "thetao" and "depth" in da.dims:  # a surface field stored on a 1-level axis
            da = da.isel(depth=0, drop=True)
        if reader in _CURVILINEAR:  # each file carries the coordinates of its own (T, U or V) points
            la, lo = _CURVILINEAR[reader]
            da = da.assign_coords(latitude=(("y", "x"), raw[la].values), longitude=(("y", "x"), raw[lo].values))
        parts.append(_units(_band(da, layout.grid), sv, path))
    da = xr.concat(parts, dim="time") if len(parts) > 1 else parts[0]
    da = da.assign_coords(time=_month_starts(da["time"].values, f"{reader} {canonical}")).sortby("time")
    if "depth" in da.dims:
        da = _depth_in_metres(da, V.lexicon(reader).depth_units)
    if da.indexes["time"].has_duplicates:
        raise DataError("a month appears twice", variable=canonical, expected="each month once",
                        hint="Remove overlapping files")
    return da.rename(canonical)


def _band(da: xr.DataArray, grid: Grid) -> xr.DataArray:
    """Keep the latitudes of ``grid`` plus a halo (cheap: the tropics of a global file)."""
    lat = np.asarray(da["latitude"].values, dtype=np.float64)
    south, north = grid.lat0 - _HALO, grid.lat0 + grid.nlat * grid.res + _HALO
    if lat.ndim == 1:
        return da.isel(latitude=np.flatnonzero((lat >= south) & (lat <= north)))
    rows = np.flatnonzero(((lat >= south) & (lat <= north)).any(axis=1))
    return da.isel(y=slice(rows.min(), rows.max() + 1)) if rows.size else da.isel(y=slice(0, 0))


def _units(da: xr.DataArray, sv: V.SourceVariable, path) -> xr.DataArray:
    var = V.get(sv.canonical)
    units = da.attrs.get("units", sv.default_units)
    if units is None:
        raise DataError("no units attribute", file=path, variable=sv.components[0], expected=var.units)
    try:
        fn = V.unit_converter(units, var.units)
    except V.UnitError as exc:
        raise DataError(f"unknown units: {exc}", file=path, variable=sv.components[0]) from None
    out = da.astype(np.float64) * sv.scale
    out = fn(out) if fn else out
    return out.assign_attrs(var.cf_attrs())


def _depth_in_metres(da: xr.DataArray, default_units: str) -> xr.DataArray:
    units = da["depth"].attrs.get("units", default_units)
    fn = V.unit_converter(units, "m")
    depth = np.asarray(da["depth"].values, dtype=np.float64)
    return da.assign_coords(depth=np.abs(fn(depth) if fn else depth))


def _month_starts(times, what: str) -> np.ndarray:
    """Producers stamp monthly means on the 1st, the 15th/16th or mid-month: map each to its month's 1st."""
    try:
        t = pd.DatetimeIndex(times)
    except (TypeError, ValueError):  # cftime
        t = pd.DatetimeIndex([pd.Timestamp(str(x)[:10]) for x in times])
    return t.to_period("M").to_timestamp().values


def interpolate_levels(da: xr.DataArray, levels: Levels) -> xr.DataArray:
    """Linear in depth onto ``levels``; NaN below the sea floor; above the top source level, the top level."""
    depth = np.asarray(da["depth"].values, dtype=np.float64)
    if da.sizes["depth"] > 1 and depth[0] > depth[-1]:
        da, depth = da.isel(depth=slice(None, None, -1)), depth[::-1]
    target = levels.values
    if target.max() > depth.max() + 1e-6:
        raise DataError("the source does not reach the deepest level", variable="depth",
                        found=f"levels {depth.min():g}..{depth.max():g} m", expected=f"down to {target.max():g} m")
    out = da.interp(depth=np.maximum(target, depth[0]), method="linear")
    return out.assign_coords(depth=("depth", target, levels.coord_attrs()))


def bin_average(values: np.ndarray, lat: np.ndarray, lon: np.ndarray, grid: Grid,
                min_valid: float = 0.5) -> np.ndarray:
    """Average points ``(..., n)`` at ``lat``, ``lon`` ``(n,)`` into ``grid`` cells -> ``(..., nlat, nlon)``.

    cos-latitude weights; NaN points are skipped; a cell with less than
    ``min_valid`` of its points' weight valid (or no point) is NaN.
    """
    lat, lon = np.asarray(lat, dtype=np.float64).ravel(), np.asarray(lon, dtype=np.float64).ravel()
    iy = np.floor((lat - grid.lat0) / grid.res)
    ix = np.floor(((lon - grid.lon0) % 360.0) / grid.res)
    ok = np.isfinite(lat) & np.isfinite(lon) & (iy >= 0) & (iy < grid.nlat) & (ix < grid.nlon)
    cell = (iy[ok] * grid.nlon + ix[ok]).astype(np.int64)
    w = np.cos(np.deg2rad(lat[ok]))
    W = scipy.sparse.csr_matrix((w, (cell, np.flatnonzero(ok))), shape=(grid.nlat * grid.nlon, lat.size))
    lead = values.shape[:-1]
    flat = values.reshape(-1, lat.size).T  # (n, m)
    valid = np.isfinite(flat)
    num = W @ np.where(valid, flat, 0.0)
    den = W @ valid.astype(np.float64)
    total = np.asarray(W.sum(axis=1))  # (cells, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where((den >= min_valid * total) & (den > 0), num / den, np.nan)
    return out.T.reshape(*lead, grid.nlat, grid.nlon)


def regrid(da: xr.DataArray, grid: Grid, curvilinear: tuple[str, str] | None = None) -> xr.DataArray:
    """Horizontal regrid onto ``grid`` (bin average from finer sources, bilinear from coarser)."""
    spatial = ("y", "x") if curvilinear else ("latitude", "longitude")
    lead = [d for d in da.dims if d not in spatial]
    da = da.transpose(*lead, *spatial)
    if curvilinear:
        lat2, lon2 = da["latitude"].values, da["longitude"].values
        coarser = False
    else:
        lat1, lon1 = da["latitude"].values.astype(np.float64), da["longitude"].values.astype(np.float64)
        lat2, lon2 = np.meshgrid(lat1, lon1, indexing="ij")
        step = max(np.median(np.abs(np.diff(lat1))) if lat1.size > 1 else 0.0,
                   np.median(np.abs(np.diff(lon1))) if lon1.size > 1 else 0.0)
        coarser = step > grid.res * 1.01
    if coarser:
        values = _bilinear(da, grid)
    else:
        npts = lat2.size
        values = bin_average(da.values.reshape(*da.shape[:len(lead)], npts), lat2, lon2, grid)
    coords = {d: da[d] for d in lead if d in da.coords}
    out = xr.DataArray(values.astype(np.float32), dims=(*lead, "latitude", "longitude"),
                       coords={**coords, **{k: (k, v[1], v[2]) for k, v in grid.coords().items()}},
                       name=da.name, attrs=da.attrs)
    return out


def _bilinear(da: xr.DataArray, grid: Grid) -> np.ndarray:
    """Bilinear interpolation from a coarser regular grid (longitude treated as periodic when global)."""
    src = da.assign_coords(longitude=np.asarray(da["longitude"].values, dtype=np.float64) % 360.0).sortby("longitude")
    lon = src["longitude"].values
    if lon.size > 1 and lon[-1] - lon[0] + np.median(np.diff(lon)) >= 359.9:
        src = xr.concat([src.isel(longitude=[-1]).assign_coords(longitude=[lon[-1] - 360.0]), src,
                         src.isel(longitude=[0]).assign_coords(longitude=[lon[0] + 360.0])], dim="longitude")
    out = src.interp(latitude=grid.lat, longitude=grid.lon % 360.0, method="linear")
    return out.values
