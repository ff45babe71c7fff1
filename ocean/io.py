"""Open any supported source into canonical names, units and orientation.

``open_source`` is the one reader. Whatever the producer, the result has

* catalogue variable names (``ocean.variables``) with CF attributes,
* canonical units (temperatures in degrees C, depths and heights in m,
  velocities in m s-1, pressures in Pa),
* dims among ``time, depth, latitude, longitude``; latitude ascending;
  longitude in ``[-180, 180)`` (a dateline-crossing regional source keeps a
  monotonic longitude continuing past 180, as ``ocean.grid`` does); depth in
  metres, positive down,
* lazy (dask) arrays, so opening a large source costs nothing until used.

Problems are reported as :class:`ocean.errors.DataError` naming the file,
the variable, what was found and what was expected.
"""

from __future__ import annotations

import glob
import logging
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ocean import variables as V
from ocean.errors import DataError
from ocean.grid import wrap_longitude
from ocean.levels import GLORYS50

__all__ = ["open_source", "detect_source", "check_values", "resolve_paths", "open_raw", "require_canonical",
           "check_complete"]

log = logging.getLogger(__name__)

_DIM_ORDER = ("time", "depth", "latitude", "longitude")


def resolve_paths(paths: "str | os.PathLike | Sequence[str | os.PathLike]") -> list[Path]:
    """Expand globs; fail naming the pattern when nothing matches."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    out: list[Path] = []
    for item in items:
        s = os.fspath(item)
        if any(c in s for c in "*?["):
            hits = sorted(glob.glob(s))
            if not hits:
                raise DataError("no file matches this pattern", file=s,
                                hint="Check the path in the recipe or on the command line")
            out.extend(Path(h) for h in hits)
        else:
            p = Path(s)
            if not p.exists():
                raise DataError("file not found", file=s)
            out.append(p)
    return out


def open_raw(path: Path, chunks="auto") -> xr.Dataset:
    """Open one NetCDF or Zarr file as the producer wrote it (lazily).

    A file that opens but whose times do not decode (WOA's ``months since``)
    is reported as such; truncation is claimed only when the file itself
    cannot be opened.
    """
    path = Path(path)
    zarr = path.is_dir() or path.suffix == ".zarr"
    if zarr:
        from ocean.zarr_safety import check_store

        check_store(path)  # no object/pickle codecs: refused before any chunk is decoded
    try:
        if zarr:
            return xr.open_zarr(path, chunks=chunks, decode_timedelta=False)
        engine = "netcdf4" if _is_hdf5_or_netcdf(path) else None
        check_complete(path)
        return xr.open_dataset(path, chunks=chunks, engine=engine, decode_timedelta=False)
    except DataError:
        raise
    except Exception as exc:  # netCDF4/h5py raise OSError, RuntimeError, ValueError...
        _raise_undecodable_time(path, zarr, exc)
        if zarr or _opens_with_netcdf4(path):
            raise DataError(f"cannot be decoded by xarray ({type(exc).__name__}: {exc})", file=path,
                            hint="Check the file's attributes (units, _FillValue, scale_factor)") from exc
        raise DataError(
            f"the file is truncated or damaged: it cannot be opened ({type(exc).__name__}: {exc})", file=path,
            hint="The file may be truncated or not finished downloading; fetch it again",
        ) from exc


def _opens_with_netcdf4(path: Path) -> bool:
    """True when the netCDF library itself opens ``path`` (so it is not truncated in its header)."""
    import netCDF4

    try:
        netCDF4.Dataset(path).close()
    except Exception:  # noqa: BLE001 - any failure means the container is damaged
        return False
    return True


def _raise_undecodable_time(path: Path, zarr: bool, exc: Exception) -> None:
    """Raise a DataError naming the variable whose time units do not decode, if that was the failure."""
    try:
        undecoded = (xr.open_zarr(path, decode_times=False, decode_timedelta=False) if zarr
                     else xr.open_dataset(path, decode_times=False, decode_timedelta=False))
    except Exception:  # noqa: BLE001 - the file itself is unreadable; the caller reports that
        return
    coder = xr.coders.CFDatetimeCoder()
    with undecoded:
        for name, var in undecoded.variables.items():
            units = str(var.attrs.get("units", ""))
            if " since " not in units:
                continue
            try:
                coder.decode(var, name=name)
            except Exception:  # noqa: BLE001 - xarray/cftime raise ValueError, OverflowError...
                calendar = var.attrs.get("calendar", "standard")
                raise DataError(
                    "undecodable time units: the times cannot be decoded as dates", file=path,
                    variable=str(name), found=f"units {units!r}, calendar {calendar!r}",
                    expected="units such as 'days since 1950-01-01' (CF: 'months' and 'years' are not "
                             "calendar months or years)",
                    hint="Climatologies with 'months since' (WOA) carry a month number, not a date: open with "
                         "xr.open_dataset(..., decode_times=False) and assign the dates yourself",
                ) from exc


def check_complete(path) -> None:
    """Refuse a truncated classic (CDF-1/2/5) NetCDF file.

    The netCDF C library opens such a file and reads the missing part as
    zeros; a NetCDF-4 (HDF5) file is checked by HDF5 itself when opened.
    scipy's reader maps the variables onto the file and fails when the
    file is shorter than its header says.
    """
    import warnings

    import scipy.io

    path = Path(path)
    if path.is_dir():
        return
    with open(path, "rb") as f:
        if f.read(3) != b"CDF":
            return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scipy.io.netcdf_file(path, "r", mmap=True).close()
    except (ValueError, TypeError, OSError) as exc:
        raise DataError("the file is truncated or damaged (classic NetCDF)", file=path,
                        found=f"{path.stat().st_size} bytes ({exc})", expected="the size its header declares",
                        hint="The download may have stopped early; fetch the file again") from None


def _is_hdf5_or_netcdf(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:3] == b"CDF" or head[:8] == b"\x89HDF\r\n\x1a\n":
        return True
    raise DataError("is not a NetCDF file", file=path, found=f"first bytes {head!r}",
                    expected="b'CDF' (classic) or b'\\x89HDF' (NetCDF-4)")


def detect_source(ds: xr.Dataset, file=None) -> V.Lexicon:
    """The lexicon whose variable names best match ``ds``."""
    names = set(ds.variables)
    # Most names matched; on a tie, the lexicon most fully matched (a file holding only
    # `sst` is ERSST, not an ERA5 file missing its winds), then catalogue order.
    scores = [(lx.matches(names), lx.matches(names) / len(lx.variables), -i, lx)
              for i, lx in enumerate(V.LEXICONS.values())]
    best, _, _, lx = max(scores, key=lambda t: t[:3])
    if best == 0:
        raise DataError(
            "no known variables", file=file, found=sorted(ds.data_vars),
            expected="names from one of the sources " + ", ".join(V.LEXICONS),
            hint="Pass the source explicitly or add a lexicon in ocean/variables.py",
        )
    return lx


def open_source(
    paths,
    source: str | None = None,
    variables: Iterable[str] | None = None,
    *,
    chunks="auto",
    expect_frequency: str | None = None,
    check: bool = True,
) -> xr.Dataset:
    """Open files of one producer into the canonical form.

    ``source`` names a lexicon (``glorys``, ``hycom``, ``era5``, ``ostia``,
    ``ersst``, ``cmems_bio``, ``cesm_bgc``, ``cmems_wave``, ``era5_wave``,
    ``bathymetry``, ...); when ``None`` it is detected from variable names.
    ``variables`` restricts (and requires) catalogue variables.
    ``expect_frequency="daily"`` requires exactly one record per day.
    ``check`` runs :func:`check_values` (reads the data once).
    """
    files = resolve_paths(paths)
    parts = [_canonical(open_raw(p, chunks), p, source, variables) for p in files]
    ds = parts[0] if len(parts) == 1 else _combine(parts, files)
    label = str(files[0]) if len(files) == 1 else f"{files[0]} (+{len(files) - 1} files)"
    _check_time(ds, label, expect_frequency)
    ds.attrs["source_files"] = ", ".join(str(p) for p in files)
    if check:
        check_values(ds, label)
    return ds


def _combine(parts: list[xr.Dataset], files: list[Path]) -> xr.Dataset:
    if all("time" in p.dims for p in parts):
        ds = xr.concat(parts, dim="time", data_vars="minimal", coords="minimal",
                       compat="override", join="exact", combine_attrs="drop_conflicts")
        return ds.sortby("time")
    return xr.merge(parts, compat="override", join="exact", combine_attrs="drop_conflicts")


def _canonical(raw: xr.Dataset, path: Path, source: str | None,
               wanted: Iterable[str] | None) -> xr.Dataset:
    lx = V.lexicon(source) if source else detect_source(raw, path)
    raw = _rename_dims(raw, lx, path)
    for dim in ("depth", "depth_150m"):
        if dim in raw.dims:
            raw = _depth_in_metres(raw, dim, lx.depth_units, path, lx.name)
    wanted = list(wanted) if wanted is not None else None
    out = {}
    for name, sv in lx.variables.items():
        if wanted is not None and name not in wanted:
            continue
        present = [c for c in sv.components if c in raw.variables]
        if len(present) < len(sv.components):
            if wanted is not None:
                raise DataError(
                    "required variable is missing", file=path, variable=name,
                    found=sorted(map(str, raw.data_vars)),
                    expected=f"{' + '.join(sv.components)} ({lx.name} naming)",
                )
            continue
        out[name] = _convert(raw, sv, lx, path)
    if wanted is not None:
        unknown = [w for w in wanted if w not in lx.variables]
        if unknown:
            raise DataError(f"the {lx.name} source has no mapping for {unknown}", file=path,
                            expected=sorted(lx.variables))
    if not out:
        raise DataError("none of the source's variables are present", file=path,
                        found=sorted(map(str, raw.data_vars)),
                        expected=sorted(c for sv in lx.variables.values() for c in sv.components))
    ds = _scalar_time_as_dimension(xr.Dataset(out), path)
    if "depth_150m" in ds.dims:
        ds = _extend_partial_depth(ds, "depth_150m", path)
    ds = _orient(ds, path)
    ds.attrs = {"source": lx.name, "source_description": lx.description}
    return ds


def _scalar_time_as_dimension(ds: xr.Dataset, path: Path) -> xr.Dataset:
    """A 0-d ``time`` coordinate (one day per file, as Copernicus Marine subsets are) becomes a time dim of 1.

    Static fields (bathymetry) drop it instead.
    """
    if "time" not in ds.coords or ds["time"].ndim != 0:
        return ds
    static = [v for v in ds.data_vars if V.get(str(v)).group == "static"]
    timed = ds.drop_vars(static)
    if not timed.data_vars:
        return ds.drop_vars("time")
    log.debug("%s: time is a scalar coordinate (%s); read as a time dimension of length 1",
              path, ds["time"].values)
    timed = timed.expand_dims("time")
    for name in static:
        timed[name] = ds[name].drop_vars("time")
    return timed


def _rename_dims(raw: xr.Dataset, lx: V.Lexicon, path: Path) -> xr.Dataset:
    """Rename producer dims/coords (lat, lon, valid_time, z_t...) to canonical ones."""
    dim_map = {k: v for k, v in lx.dims.items() if k in raw.dims and v not in raw.dims}
    ds = raw.rename_dims(dim_map) if dim_map else raw
    var_map = {k: v for k, v in lx.dims.items()
               if k in ds.variables and v not in ds.variables and k not in dim_map.values()}
    ds = ds.rename_vars(var_map) if var_map else ds
    promote = [c for c in _DIM_ORDER if c in ds.data_vars]
    if promote:
        ds = ds.set_coords(promote)
    for axis in ("latitude", "longitude"):
        if axis not in ds.dims:
            raise DataError(f"no {axis} dimension", file=path, found=sorted(map(str, ds.dims)),
                            expected=f"{axis} (or {', '.join(k for k, v in lx.dims.items() if v == axis)})")
    return ds


def _convert(raw: xr.Dataset, sv: V.SourceVariable, lx: V.Lexicon, path: Path) -> xr.DataArray:
    var = V.get(sv.canonical)
    total = None
    for comp in sv.components:
        da = raw[comp]
        units = da.attrs.get("units", sv.default_units)
        if units is None:
            raise DataError("no units attribute", file=path, variable=comp,
                            expected=f"units convertible to {var.units!r}")
        try:
            fn = V.unit_converter(units, var.units)
        except V.UnitError as exc:
            raise DataError(f"unknown units: {exc}", file=path, variable=comp) from None
        da = da * sv.scale if sv.scale != 1.0 else da
        da = fn(da) if fn else da
        total = da if total is None else total + da
    if sv.canonical == "deptho":  # land (elevation above sea level) -> NaN depth
        total = total.where(total > 0)
    total = total.astype(np.float32)
    total.attrs = var.cf_attrs()
    total.encoding = {}
    return total


def _extend_partial_depth(ds: xr.Dataset, dim: str, path: Path) -> xr.Dataset:
    """Put fields defined only near the surface (CESM's ``z_t_150m``) on the full depth axis.

    POP computes phytoplankton only in the top 150 m; below, the
    concentration is zero (not missing), so ocean cells there are 0 and land
    stays NaN (land taken from a full-depth variable of the same file).
    """
    if "depth" not in ds.dims:
        return ds.rename({dim: "depth"})
    short = np.asarray(ds[dim].values, dtype=np.float64)
    full = np.asarray(ds["depth"].values, dtype=np.float64)
    if not np.allclose(short, full[: short.size], rtol=1e-6):
        raise DataError("the upper-ocean depth axis is not the top of the full depth axis", file=path,
                        variable=dim, found=list(short), expected=list(full[: short.size]))
    ocean = next((~ds[v].isnull() for v in ds.data_vars if "depth" in ds[v].dims), None)
    for name in [v for v in ds.data_vars if dim in ds[v].dims]:
        da = ds[name].rename({dim: "depth"}).assign_coords(depth=ds["depth"].values[: short.size])
        da = da.reindex(depth=ds["depth"].values, fill_value=0.0).assign_coords(depth=ds["depth"])
        if ocean is not None:
            da = da.where(ocean.transpose(*da.dims))
        ds[name] = da.assign_attrs(ds[name].attrs)
    return ds.drop_dims(dim)


def _orient(ds: xr.Dataset, path: Path) -> xr.Dataset:
    if "depth" in ds.dims and ds["depth"].size > 1 and ds["depth"].values[0] > ds["depth"].values[-1]:
        ds = ds.isel(depth=slice(None, None, -1))
    ds = ds.assign_coords(latitude=ds["latitude"].values.astype(np.float64))
    lat = ds["latitude"].values
    if lat.size > 1 and lat[0] > lat[-1]:
        ds = ds.isel(latitude=slice(None, None, -1))
    ds = _normalise_longitude(ds)
    order = [d for d in _DIM_ORDER if d in ds.dims]
    extra = [d for d in ds.dims if d not in order]
    ds = ds.transpose(*extra, *order)
    ds["latitude"].attrs = {"standard_name": "latitude", "units": "degrees_north", "axis": "Y",
                            "long_name": "Latitude"}
    ds["longitude"].attrs = {"standard_name": "longitude", "units": "degrees_east", "axis": "X",
                             "long_name": "Longitude"}
    if "time" in ds.coords:
        ds["time"].attrs = {"standard_name": "time", "axis": "T"}
    return ds


def _depth_in_metres(ds: xr.Dataset, dim: str, default_units: str, path: Path,
                     product: str = "") -> xr.Dataset:
    depth = ds[dim]
    units = depth.attrs.get("units", default_units)
    try:
        fn = V.unit_converter(units, "m")
    except V.UnitError as exc:
        raise DataError(f"depth has unknown units: {exc}", file=path, variable=dim) from None
    values = np.asarray(depth.values, dtype=np.float64)
    values = fn(values) if fn else values
    if depth.attrs.get("positive") == "up" or (values.size and np.all(values <= 0)):
        values = -values
    _check_depth_axis(values, units, dim, product, path)
    attrs = {"standard_name": "depth", "long_name": "Depth", "units": "m", "positive": "down", "axis": "Z"}
    return ds.assign_coords({dim: (dim, values, attrs)})


#: The deepest ocean (Challenger Deep, ~10,935 m): a depth axis beyond it is in other units.
MAX_DEPTH_M = 11_000.0
#: Producers' native level sets (m): a file of that product holds these levels or a run of them.
KNOWN_LEVELS = {"glorys": GLORYS50, "hycom": (
    0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 60.0, 70.0, 80.0,
    90.0, 100.0, 125.0, 150.0, 200.0, 250.0, 300.0, 350.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0,
    1250.0, 1500.0, 2000.0, 2500.0, 3000.0, 4000.0, 5000.0)}


def _check_depth_axis(values: np.ndarray, units: str, dim: str, product: str, path: Path) -> None:
    """Refuse a depth axis that is not depths in metres: beyond 11,000 m, not monotonic, or (for a
    product whose level set is known) more levels than it has or its levels in centimetres."""
    if values.size == 0:
        return
    where = dict(file=path, variable=dim)
    fix = "Check the depth axis's units attribute (e.g. 'm', 'cm') and its values"
    if not np.all(np.isfinite(values)) or values.max() > MAX_DEPTH_M:
        raise DataError("the depth axis is not in metres", **where,
                        found=f"{values.size} levels, max {np.nanmax(values):.6g} (units {units!r})",
                        expected=f"depths in [0, {MAX_DEPTH_M:,.0f}] m", hint=fix)
    step = np.diff(values)
    if values.size > 1 and not (np.all(step > 0) or np.all(step < 0)):
        raise DataError("the depth axis is not monotonic", **where, found=f"{np.round(values, 3).tolist()}",
                        expected="strictly increasing depths (one value per level)", hint=fix)
    known = np.asarray(KNOWN_LEVELS.get(product, ()), dtype=np.float64)
    if not known.size:
        return
    if values.size > known.size:
        raise DataError(f"more depth levels than the {product} product has", **where,
                        found=f"{values.size} levels (max {values.max():.6g} m)",
                        expected=f"at most its {known.size} levels ({known[0]:g}..{known[-1]:g} m)",
                        hint="Check that the file is this product's and its depth units")
    if _on(values, known) or not _on(values / 100.0, known) or values.max() < 100.0:
        return
    raise DataError("the depth axis looks like centimetres labelled metres", **where,
                    found=f"{values.size} levels, max {values.max():.6g} (units {units!r}), which are the "
                          f"{product} levels x 100",
                    expected=f"the {product} levels in metres ({known[0]:g}..{known[-1]:g} m)", hint=fix)


def _on(values: np.ndarray, known: np.ndarray) -> bool:
    """Every value within 0.5 % (or 1 cm) of a known level."""
    near = known[np.abs(known[None, :] - np.abs(values)[:, None]).argmin(axis=1)]
    return bool(np.all(np.abs(near - np.abs(values)) <= np.maximum(0.005 * near, 0.01)))


def _normalise_longitude(ds: xr.Dataset) -> xr.Dataset:
    """Wrap to [-180, 180) and sort; keep a dateline-crossing region contiguous."""
    lon = wrap_longitude(ds["longitude"].values)
    order = np.argsort(lon, kind="stable")
    lon_sorted = lon[order]
    if lon.size > 2:
        gaps = np.diff(lon_sorted)
        step = np.median(gaps)
        wrap_gap = 360.0 - (lon_sorted[-1] - lon_sorted[0])
        i = int(np.argmax(gaps))
        if gaps[i] > 1.5 * step and wrap_gap <= 1.5 * step:
            # The data are contiguous across the dateline: start after the gap.
            order = np.roll(order, -(i + 1))
            lon_sorted = lon[order]
            lon_sorted = np.where(np.arange(lon.size) >= lon.size - (i + 1), lon_sorted + 360.0, lon_sorted)
    if np.unique(lon_sorted).size != lon_sorted.size:
        raise DataError("duplicated longitudes after wrapping to [-180, 180)", variable="longitude",
                        found=f"{lon.size} values from {lon.min()} to {lon.max()}",
                        expected="each meridian once (a 0..360 grid must not repeat 0 and 360)")
    ds = ds.isel(longitude=order)
    return ds.assign_coords(longitude=lon_sorted.astype(np.float64))


def _check_time(ds: xr.Dataset, label: str, expect_frequency: str | None) -> None:
    if "time" not in ds.dims:
        return
    t = pd.DatetimeIndex(ds["time"].values)
    if t.has_duplicates:
        dup = t[t.duplicated()].unique()
        raise DataError("duplicated dates", file=label, variable="time",
                        found=[str(d) for d in dup[:5]], expected="each date once",
                        hint="Remove the overlapping file or date range")
    if not t.is_monotonic_increasing:
        raise DataError("time is not increasing", file=label, variable="time",
                        found=f"{t[0]} ... {t[-1]}", expected="increasing times")
    if expect_frequency == "daily" and t.size > 1:
        steps = np.unique(np.diff(t.values).astype("timedelta64[s]"))
        if steps.size != 1 or steps[0] != np.timedelta64(86400, "s"):
            raise DataError("not a daily series", file=label, variable="time",
                            found=f"steps of {sorted({str(pd.Timedelta(s)) for s in steps})}",
                            expected="exactly one record per day",
                            hint="Resample to daily means first (hourly ERA5 is averaged by the pipeline)")


# Groups whose land mask must not change with time (sea ice and clouds make
# SST, wave and ocean-colour fields legitimately gappy).
_FIXED_LAND = ("ocean", "forcing", "static")


def check_values(ds: xr.Dataset, label: str, mask: xr.DataArray | None = None) -> None:
    """Fail on inf, NaN in ocean cells or values outside the catalogue's range.

    Ocean cells are those that hold a value at some time step (or, with
    ``mask``, where the mask is True); a 3-D column may not have a NaN above
    a valid value. Reads the data once (one dask compute for all checks).
    """
    import dask

    checks = {}
    for name, da in ds.data_vars.items():
        if name not in V.CATALOGUE or not np.issubdtype(da.dtype, np.floating):
            continue
        lo, hi = V.get(name).valid_range
        finite = np.isfinite(da)
        nan = da.isnull()
        c = {
            "inf": (~finite & ~nan).sum(),
            "below": (da < lo).sum(), "above": (da > hi).sum(),
            "min": da.min(), "max": da.max(),
        }
        if "time" in da.dims and da.sizes["time"] > 1 and V.get(name).group in _FIXED_LAND:
            c["nan_varies"] = (nan.any("time") & ~nan.all("time")).sum()
        if "depth" in da.dims and da.sizes["depth"] > 1:
            upper, lower = nan.isel(depth=slice(None, -1)).data, nan.isel(depth=slice(1, None)).data
            c["nan_above_value"] = (upper & ~lower).sum()
        if mask is not None:
            m = mask if "depth" in da.dims or "depth" not in mask.dims else mask.isel(depth=0, drop=True)
            c["nan_in_mask"] = (nan & m).sum()
        checks[name] = c
    (computed,) = dask.compute(checks)
    for name, c in computed.items():
        n = {k: int(v) for k, v in c.items() if k not in ("min", "max")}
        lo, hi = V.get(name).valid_range
        if n["inf"]:
            raise DataError("infinite values", file=label, variable=name, found=f"{n['inf']} inf cells",
                            expected="finite values in ocean cells and NaN over land")
        if n.get("nan_varies") or n.get("nan_above_value") or n.get("nan_in_mask"):
            count = n.get("nan_varies", 0) + n.get("nan_above_value", 0) + n.get("nan_in_mask", 0)
            raise DataError("NaN in ocean cells", file=label, variable=name,
                            found=f"{count} cells that are NaN while the same cell (at another time) "
                                  "or a deeper cell of the column holds a value",
                            expected="NaN only over land, the same land at every time",
                            hint="Fill or drop the affected dates before using this file")
        if n["below"] or n["above"]:
            raise DataError("values outside the physical range", file=label, variable=name,
                            found=f"min {float(c['min']):.6g}, max {float(c['max']):.6g} "
                                  f"({n['below'] + n['above']} cells)",
                            expected=f"[{lo:g}, {hi:g}] {V.get(name).units}",
                            hint="Check the units attribute and the scale_factor/add_offset")


def require_canonical(ds: xr.Dataset, label: str = "dataset") -> None:
    """Fail unless ``ds`` is in canonical orientation (what ``open_source`` returns).

    Consumers of canonical data (Batch, the training cube, forecasts) call
    this so a file opened without ``open_source`` is refused with a hint,
    rather than silently flipped or misaligned.
    """
    hint = "Open producer files with ocean.io.open_source, which reorients them"
    for axis in ("latitude", "longitude"):
        if axis not in ds.coords:
            raise DataError(f"no {axis} coordinate", file=label, found=sorted(map(str, ds.coords)),
                            expected=f"{axis} (canonical names: time, depth, latitude, longitude)", hint=hint)
    lat = np.asarray(ds["latitude"].values, dtype=np.float64)
    if lat.size > 1 and np.any(np.diff(lat) <= 0):
        raise DataError("latitude is not ascending", file=label, variable="latitude",
                        found=f"{lat[0]:g} ... {lat[-1]:g}", expected="ascending (south to north)", hint=hint)
    lon = np.asarray(ds["longitude"].values, dtype=np.float64)
    if lon.size > 1 and np.any(np.diff(lon) <= 0):
        raise DataError("longitude is not increasing", file=label, variable="longitude",
                        found=f"{lon[0]:g} ... {lon[-1]:g}", expected="increasing", hint=hint)
    spacing = float(np.median(np.diff(lon))) if lon.size > 1 else 0.0
    periodic = lon.size > 1 and lon[-1] - lon[0] + spacing >= 360 - 1e-6
    if lon.size and (lon[0] < -180 or lon[0] >= 180 or (periodic and lon[-1] >= 180)):
        raise DataError("longitude is not in the canonical convention", file=label, variable="longitude",
                        found=f"{lon[0]:g} ... {lon[-1]:g} (0..360)",
                        expected="values starting in [-180, 180) (only a dateline-crossing box continues past 180)",
                        hint=hint)
    if "depth" in ds.coords and ds["depth"].size:
        d = np.asarray(ds["depth"].values, dtype=np.float64)
        if np.any(d < 0) or (d.size > 1 and np.any(np.diff(d) <= 0)):
            raise DataError("depth is not positive down and increasing", file=label, variable="depth",
                            found=list(d[:5]), expected="metres below the surface, increasing", hint=hint)
