"""Producer file conventions: canonical datasets -> files as the producers deliver them.

Each function takes a canonical dataset (``SyntheticOcean`` output) and
returns ``(dataset, encoding)`` for :func:`ocean.store.write_netcdf`.

* **GLORYS** (Copernicus Marine GLOBAL_MULTIYEAR_PHY_001_030, like the
  shared sample ``GLORYS_NA_2012.nc``): int16 packed with the product's own
  ``scale_factor``/``add_offset`` and ``_FillValue = -32767``; CMEMS
  attributes (``standard_name``, ``long_name``, ``units``, ``unit_long``,
  ``cell_methods``); float32 coordinates; ``depth`` positive down; latitude
  ascending; longitude in [-180, 180) sorted (a dateline-crossing box comes
  in two pieces, as the Copernicus Marine toolbox delivers it); time in
  float64 ``hours since 1950-01-01``, stamped at 00:00 of each day.
* **ERA5** (CDS NetCDF as delivered by the legacy ``grib_to_netcdf``
  converter, like ``ERA5_NA_2012.nc``): int16 packed with a per-file
  ``scale_factor``/``add_offset``, ``_FillValue = missing_value = -32767``;
  latitude descending; longitude 0..360 (kept monotonic: a box containing
  the Greenwich meridian keeps -180..180 values, as CDS does); ``t2m`` in
  K; time int32 ``hours since 1900-01-01``; dim ``time`` (not ``valid_time``).
* **CMEMS BIO** and **CMEMS wave**: float32 with NaN fill, CMEMS
  attributes, GLORYS-like coordinates.
* **Static** ``GLO-MFC_001_030_mask_bathy.nc``: ``deptho`` (m, NaN over
  land), ``mask`` (int8, depth x lat x lon, 1 = sea) and ``deptho_lev``.
* **Monthly wind stress** (ERA5 monthly means): ``metss``/``mntss`` in
  ``N m**-2``, ERA5 orientation and packing.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ocean import variables as V
from ocean.grid import wrap_longitude

__all__ = ["glorys", "era5", "era5_stress", "cmems_bio", "cmems_wave", "mask_bathy", "GLORYS_PACKING"]

#: (add_offset, scale_factor) of the GLORYS12 daily files.
GLORYS_PACKING = {
    "thetao": (21.0, 0.0007324442267417908),
    "so": (-0.0015259254723787308, 0.0015259254723787308),
    "uo": (0.0, 0.0006103701889514923),
    "vo": (0.0, 0.0006103701889514923),
    "zos": (0.0, 0.00030518509447574615),
}
_UNIT_LONG = {"degrees_C": "Degrees Celsius", "1e-3": "Practical Salinity Unit", "m s-1": "Meters per second",
              "m": "Meters", "mg m-3": "Milligrams per cubic meter", "mmol m-3": "Millimoles per cubic meter",
              "mg m-3 day-1": "Milligrams of Carbon per cubic meter per day", "s": "Seconds",
              "degree": "Degrees"}
_ERA5 = {  # canonical -> (ERA5 name, units, long_name, standard_name)
    "u10": ("u10", "m s**-1", "10 metre U wind component", None),
    "v10": ("v10", "m s**-1", "10 metre V wind component", None),
    "t2m": ("t2m", "K", "2 metre temperature", None),
    "msl": ("msl", "Pa", "Mean sea level pressure", "air_pressure_at_mean_sea_level"),
    "sp": ("sp", "Pa", "Surface pressure", "surface_air_pressure"),
    "tauuo": ("metss", "N m**-2", "Mean eastward turbulent surface stress", None),
    "tauvo": ("mntss", "N m**-2", "Mean northward turbulent surface stress", None),
}
_INT16_FILL = np.int16(-32767)


def _cmems_coords(ds: xr.Dataset) -> xr.Dataset:
    """Sorted [-180, 180) float32 longitudes, ascending latitude, CMEMS coordinate attributes."""
    lon = wrap_longitude(ds["longitude"].values)
    ds = ds.isel(longitude=np.argsort(lon, kind="stable"))
    ds = ds.assign_coords(longitude=np.sort(lon).astype(np.float32), latitude=ds["latitude"].values.astype(np.float32))
    ds["latitude"].attrs = {"standard_name": "latitude", "long_name": "Latitude", "units": "degrees_north",
                            "unit_long": "Degrees North", "axis": "Y"}
    ds["longitude"].attrs = {"standard_name": "longitude", "long_name": "Longitude", "units": "degrees_east",
                             "unit_long": "Degrees East", "axis": "X"}
    if "depth" in ds.coords:
        ds = ds.assign_coords(depth=ds["depth"].values.astype(np.float32))
        ds["depth"].attrs = {"standard_name": "depth", "long_name": "Depth", "units": "m", "unit_long": "Meters",
                             "positive": "down", "axis": "Z"}
    if "time" in ds.coords:
        ds["time"].attrs = {"standard_name": "time", "long_name": "Time (hours since 1950-01-01)", "axis": "T"}
    return ds


def _cmems_attrs(name: str) -> dict:
    var = V.get(name)
    return {**var.cf_attrs(), "unit_long": _UNIT_LONG.get(var.units, var.units), "cell_methods": "area: mean"}


def _time_encoding(units: str, dtype: str) -> dict:
    return {"units": units, "calendar": "gregorian", "dtype": dtype}


def _global_attrs(title: str, seed) -> dict:
    return {"title": title, "institution": "ocean-forecast synthetic ocean (ocean.synthetic)",
            "source": "ocean.synthetic (deterministic synthetic ocean, not observations)",
            "Conventions": "CF-1.6", "synthetic_seed": int(seed) if seed is not None else -1,
            "comment": "Written in the producer's conventions so the project's readers treat it as a download"}


def glorys(ds: xr.Dataset, title: str = "daily mean fields from a synthetic GLORYS-like reanalysis") -> tuple:
    """GLORYS-like packed physics (any subset of thetao, so, uo, vo, zos)."""
    out = _cmems_coords(ds)
    enc = {}
    for name in out.data_vars:
        out[name].attrs = _cmems_attrs(name)
        offset, scale = GLORYS_PACKING[name]
        enc[name] = {"dtype": "int16", "scale_factor": scale, "add_offset": offset,
                     "_FillValue": _INT16_FILL, "zlib": True, "complevel": 1}
    enc.update(_coord_encoding(out, "hours since 1950-01-01", "float64", fill=True))
    out.attrs = _global_attrs(title, ds.attrs.get("synthetic_seed"))
    return out, enc


def _float_product(ds: xr.Dataset, title: str) -> tuple:
    out = _cmems_coords(ds)
    enc = {}
    for name in out.data_vars:
        out[name].attrs = _cmems_attrs(name)
        enc[name] = {"dtype": "float32", "_FillValue": np.float32(np.nan), "zlib": True, "complevel": 1}
    enc.update(_coord_encoding(out, "hours since 1950-01-01", "float64", fill=True))
    out.attrs = _global_attrs(title, ds.attrs.get("synthetic_seed"))
    return out, enc


def cmems_bio(ds: xr.Dataset) -> tuple:
    """CMEMS-BIO-like daily file (chl, no3, po4, si, o2, nppv)."""
    return _float_product(ds, "daily mean fields from a synthetic CMEMS-BIO-like biogeochemistry")


def cmems_wave(ds: xr.Dataset) -> tuple:
    """CMEMS-wave-like daily-mean file (VHM0, VTM02, VMDR)."""
    return _float_product(ds, "daily mean fields from a synthetic CMEMS-wave-like analysis")


def mask_bathy(static: xr.Dataset) -> tuple:
    """``GLO-MFC_001_030_mask_bathy.nc``-like static file."""
    mask = static["mask"].values.astype(np.int8)
    ds = xr.Dataset({
        "deptho": static["deptho"],
        "mask": (("depth", "latitude", "longitude"), mask, {"long_name": "Land-sea mask: 1 = sea ; 0 = land",
                                                            "units": "1"}),
        "deptho_lev": (("latitude", "longitude"), mask.sum(axis=0).astype(np.int16),
                       {"long_name": "Model level number at sea floor", "units": "1"}),
    }, coords=static.coords)
    out = _cmems_coords(ds)
    out["deptho"].attrs = {**V.get("deptho").cf_attrs(), "unit_long": "Meters"}
    enc = {"deptho": {"dtype": "float32", "_FillValue": np.float32(np.nan), "zlib": True},
           "mask": {"dtype": "int8", "zlib": True}, "deptho_lev": {"dtype": "int16", "zlib": True}}
    enc.update(_coord_encoding(out, None, None, fill=True))
    out.attrs = _global_attrs("synthetic GLO-MFC_001_030 mask and bathymetry", static.attrs.get("synthetic_seed"))
    return out, enc


def _coord_encoding(ds: xr.Dataset, time_units, time_dtype, fill: bool) -> dict:
    enc = {c: {"_FillValue": np.float32(np.nan) if fill else None}
           for c in ("latitude", "longitude", "depth") if c in ds.coords}
    if "time" in ds.coords and time_units:
        enc["time"] = _time_encoding(time_units, time_dtype)
    return enc


def _era5_longitude(lon: np.ndarray, periodic: bool) -> np.ndarray:
    """Longitudes as CDS writes them: 0..360 when that keeps them monotonic."""
    east = np.asarray(lon, dtype=np.float64) % 360.0
    if periodic or np.all(np.diff(east) > 0):
        return east
    return wrap_longitude(lon)


def era5(ds: xr.Dataset, periodic: bool, title: str = "synthetic ERA5-like single levels") -> tuple:
    """ERA5-like packed file from canonical forcing (or wind stress)."""
    lon = _era5_longitude(ds["longitude"].values, periodic)
    out = ds.isel(latitude=slice(None, None, -1))
    order = np.argsort(lon, kind="stable")
    out = out.isel(longitude=order).assign_coords(longitude=lon[order].astype(np.float32),
                                                  latitude=out["latitude"].values.astype(np.float32))
    out["latitude"].attrs = {"units": "degrees_north", "long_name": "latitude"}
    out["longitude"].attrs = {"units": "degrees_east", "long_name": "longitude"}
    out["time"].attrs = {"long_name": "time"}
    renamed, enc = {}, {}
    for name in out.data_vars:
        short, units, long_name, std = _ERA5[name]
        values = out[name].values.astype(np.float64)
        if name == "t2m":
            values = values + 273.15
        attrs = {"units": units, "long_name": long_name, **({"standard_name": std} if std else {})}
        renamed[short] = (out[name].dims, values, attrs)
        enc[short] = _int16_packing(values)
    result = xr.Dataset(renamed, coords=out.coords)
    enc.update({"latitude": {"_FillValue": None}, "longitude": {"_FillValue": None},
                "time": _time_encoding("hours since 1900-01-01 00:00:00.0", "int32")})
    result.attrs = {"Conventions": "CF-1.6", "history": "written by ocean.synthetic in the layout of the CDS "
                    "grib_to_netcdf converter", "synthetic_seed": ds.attrs.get("synthetic_seed", -1)}
    return result, enc


def era5_stress(ds: xr.Dataset, periodic: bool) -> tuple:
    """ERA5 monthly-means-like mean turbulent surface stress (metss, mntss)."""
    return era5(ds[["tauuo", "tauvo"]], periodic, "synthetic ERA5-like monthly means")


def _int16_packing(values: np.ndarray) -> dict:
    """Per-file packing as ERA5 does it (the range maps inside +-32500, clear of the fill value)."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    scale = (hi - lo) / 65000.0 if hi > lo else 1.0
    return {"dtype": "int16", "scale_factor": scale, "add_offset": (hi + lo) / 2.0,
            "_FillValue": _INT16_FILL, "missing_value": _INT16_FILL, "zlib": True, "complevel": 1}
