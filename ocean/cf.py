"""CF conventions: stamp attributes from the catalogue, and list problems.

``apply_cf`` is used by every writer (training cube, forecasts, metrics), so
the attributes come from one place (``ocean.variables``).

Two kinds of findings, kept apart:

* :func:`problems`: breaches of the CF conventions. Coordinates are
  recognised with cf_xarray's criteria (``cf_xarray.criteria``: standard
  names, units, ``axis``, ``positive``), so CF's ``lat``/``lon`` are as good
  as our ``latitude``/``longitude``.
* :func:`canonical_notes`: how a dataset differs from *our* canonical form
  (catalogue names and units, ascending latitude, longitudes in
  [-180, 180), depth in metres positive down). Kelvin, a descending latitude
  or 0..360 longitudes are valid CF; ``ocean.io.open_source`` converts them.

``ocean info`` prints both; ``ocean data validate`` treats both as problems
of a training cube.
"""

from __future__ import annotations

import cf_xarray  # noqa: F401 - registers the ``.cf`` accessor
import numpy as np
import pandas as pd
import xarray as xr
from cf_xarray.criteria import coordinate_criteria

from ocean import variables as V

__all__ = ["apply_cf", "problems", "canonical_notes", "cf_variables", "CONVENTIONS"]

CONVENTIONS = "CF-1.10"

_COORD_ATTRS = {
    "latitude": {"standard_name": "latitude", "long_name": "Latitude", "units": "degrees_north", "axis": "Y"},
    "longitude": {"standard_name": "longitude", "long_name": "Longitude", "units": "degrees_east", "axis": "X"},
    "depth": {"standard_name": "depth", "long_name": "Depth", "units": "m", "positive": "down", "axis": "Z"},
    "time": {"standard_name": "time", "long_name": "Time", "axis": "T"},
    "init_time": {"standard_name": "forecast_reference_time", "long_name": "Forecast initialisation time"},
    "lead_time": {"standard_name": "forecast_period", "long_name": "Forecast lead time"},
    "valid_time": {"standard_name": "time", "long_name": "Valid time"},
}


def apply_cf(ds: xr.Dataset, title: str | None = None, **global_attrs) -> xr.Dataset:
    """Return ``ds`` with catalogue attributes on known variables and coordinates."""
    ds = ds.copy()
    for name in ds.data_vars:
        if name in V.CATALOGUE:
            attrs = dict(ds[name].attrs)
            attrs.update(V.get(name).cf_attrs())
            ds[name].attrs = attrs
    for name, attrs in _COORD_ATTRS.items():
        if name in ds.coords:
            merged = dict(ds[name].attrs)
            merged.update(attrs)
            if np.issubdtype(ds[name].dtype, np.datetime64) or np.issubdtype(ds[name].dtype, np.timedelta64):
                merged.pop("units", None)  # set by the encoder
            ds[name].attrs = merged
    ds.attrs["Conventions"] = CONVENTIONS
    if title:
        ds.attrs["title"] = title
    ds.attrs.update({k: v for k, v in global_attrs.items() if v is not None})
    return ds


def problems(ds: xr.Dataset) -> list[str]:
    """CF problems found in ``ds`` (empty when none); see the module docstring."""
    found: list[str] = []
    if "Conventions" not in ds.attrs:
        found.append("global attribute 'Conventions' is missing (expected e.g. 'CF-1.10')")
    bounds = {str(ds[c].attrs.get("bounds")) for c in ds.variables if "bounds" in ds[c].attrs}
    for name, da in ds.data_vars.items():
        if str(name) not in bounds:
            found += _variable_problems(str(name), da)
    found += _geolocation_problems(ds)
    found += _vertical_problems(ds)
    found += _monotonic_problems(ds)
    return found


def cf_variables(ds: xr.Dataset, key: str) -> list[str]:
    """Variables (coordinates or data) that meet cf_xarray's criteria for ``key``
    (``latitude``, ``longitude``, ``vertical``, ``time``, ``X``, ``Y``, ``Z``, ``T``)."""
    crit = coordinate_criteria[key]
    return [str(n) for n, v in ds.variables.items()
            if any(str(v.attrs.get(attr)) in values for attr, values in crit.items())]


def _criteria_text(key: str) -> str:
    crit = coordinate_criteria[key]
    return "; ".join(f"{attr} {' or '.join(repr(v) for v in values[:3])}" for attr, values in crit.items()
                     if attr in ("standard_name", "units", "axis", "positive"))


def _variable_problems(name: str, da: xr.DataArray) -> list[str]:
    out = []
    flags = "flag_values" in da.attrs or "flag_meanings" in da.attrs
    if "units" not in da.attrs and np.issubdtype(da.dtype, np.floating) and not flags:
        out.append(f"{name}: no 'units' attribute (CF 3.1: required for dimensional quantities)")
    if "standard_name" not in da.attrs and "long_name" not in da.attrs:
        out.append(f"{name}: neither 'standard_name' nor 'long_name' (CF 3.2, 3.3)")
    return out


def _geolocation_problems(ds: xr.Dataset) -> list[str]:
    """Geolocated data need a latitude and a longitude CF can recognise, in degrees north/east.

    The data count as geolocated when one of the two is found, or when a
    data variable spans two dimensions that no coordinate variable labels
    (a grid whose position CF cannot tell); scores by region or spectra by
    station are not asked for either.
    """
    out = []
    found = {key: cf_variables(ds, key) for key in ("latitude", "longitude")}
    unlabelled = {str(d) for da in ds.data_vars.values() for d in da.dims if d not in ds.coords}
    gridded = any(found.values()) or any(len(unlabelled & set(map(str, da.dims))) >= 2
                                         for da in ds.data_vars.values())
    for key, names in found.items():
        if not names and gridded:
            out.append(f"no {key}: no variable meets CF's {key} criteria ({_criteria_text(key)}); "
                       f"found dims {sorted(map(str, ds.dims))}")
        units = coordinate_criteria[key]["units"]
        for n in names:
            if ds[n].attrs.get("units") not in units:
                out.append(f"{n}: {key} with units {ds[n].attrs.get('units')!r} (CF 4.1/4.2: {units[3]!r})")
    geo = {n for names in found.values() for n in names}
    for name in ds.dims:
        if name in ds.coords and name not in geo and np.issubdtype(ds[name].dtype, np.floating) and "units" not in ds[name].attrs \
                and "units" not in ds[name].encoding:
            out.append(f"{name}: coordinate variable without 'units' (CF 3.1)")
    return out


def _vertical_problems(ds: xr.Dataset) -> list[str]:
    """CF 4.3: a vertical coordinate says which way is up, unless its units are a pressure."""
    out = []
    axes = ds.cf.axes.get("Z", []) + ds.cf.coordinates.get("vertical", [])
    for n in dict.fromkeys(axes):
        units = str(ds[n].attrs.get("units", ""))
        if "positive" not in ds[n].attrs and units not in ("Pa", "hPa", "mbar", "millibar", "bar", "dbar"):
            out.append(f"{n}: vertical coordinate without a 'positive' attribute (CF 4.3: 'up' or 'down')")
    return out


def _monotonic_problems(ds: xr.Dataset) -> list[str]:
    """CF 5: a coordinate variable (1-D, named as its dimension) is strictly monotonic."""
    out = []
    for name in ds.dims:
        if name not in ds.coords or ds[name].ndim != 1 or ds[name].size < 2:
            continue
        values = ds[name].values
        if not (np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.datetime64)
                or np.issubdtype(values.dtype, np.timedelta64)):
            continue
        step = np.diff(values)
        zero = step.dtype.type(0)
        if not (np.all(step > zero) or np.all(step < zero)):
            out.append(f"{name}: coordinate variable is not strictly monotonic (CF 5)"
                       + (f", e.g. {pd.Timestamp(values[np.nonzero(step <= zero)[0][0] + 1])} repeats or "
                          "goes back" if np.issubdtype(values.dtype, np.datetime64) else ""))
    return out


def canonical_notes(ds: xr.Dataset, lexicon: "V.Lexicon | None" = None) -> list[str]:
    """How ``ds`` differs from the canonical form; not CF problems (``open_source`` converts them).

    ``lexicon`` maps a producer's variable names onto the catalogue's;
    without it the dataset's own names are looked up in the catalogue.
    """
    notes: list[str] = []
    names = {str(n): str(n) for n in ds.data_vars if str(n) in V.CATALOGUE}
    if lexicon is not None:
        names = {c: sv.canonical for sv in lexicon.variables.values() for c in sv.components if c in ds.data_vars}
        renamed = [f"{s} -> {c}" for s, c in names.items() if s != c]
        if renamed:
            notes.append(f"names: {', '.join(renamed)} in our catalogue (renamed on reading)")
    for source, canonical in names.items():
        notes += _units_notes(source, canonical, ds[source], lexicon)
    notes += _coordinate_notes(ds)
    return notes


def _units_notes(source: str, canonical: str, da: xr.DataArray, lexicon) -> list[str]:
    var = V.get(canonical)
    sv = lexicon.variables.get(canonical) if lexicon is not None else None
    units = da.attrs.get("units", sv.default_units if sv else None)
    out = []
    if units is not None and V.canonical_units(str(units)) != V.canonical_units(var.units):
        out.append(f"{source}: units {units!r}, canonical is {var.units!r}")
    sn = da.attrs.get("standard_name")
    if sn is not None and sn != var.standard_name and lexicon is None:
        out.append(f"{source}: standard_name {sn!r}, catalogue says {var.standard_name!r}")
    return out


def _one_coordinate(ds: xr.Dataset, key: str, canonical: str) -> str | None:
    if canonical in ds.coords:
        return canonical
    found = [n for n in cf_variables(ds, key) if ds[n].ndim == 1]
    return found[0] if found else None


def _coordinate_notes(ds: xr.Dataset) -> list[str]:
    out = []
    lat, lon = _one_coordinate(ds, "latitude", "latitude"), _one_coordinate(ds, "longitude", "longitude")
    depth = _one_coordinate(ds, "vertical", "depth")
    for name, canonical in ((lat, "latitude"), (lon, "longitude"), (depth, "depth")):
        if name is not None and name != canonical:
            out.append(f"{name}: named {canonical!r} in the canonical form")
    if lat is not None and ds[lat].size > 1:
        values = ds[lat].values
        if values[0] > values[-1]:
            out.append(f"{lat} is descending ({values[0]:g}..{values[-1]:g}); canonical is ascending")
    if lon is not None and ds[lon].size > 1:
        values = np.asarray(ds[lon].values, dtype=np.float64)
        if values.min() < -180 or (values.max() >= 180 and values.max() - values.min() > 180):
            out.append(f"{lon} runs {values.min():g}..{values.max():g}; canonical is -180..180")
    if depth is not None:
        d = ds[depth]
        units = d.attrs.get("units")
        if units is not None and V.canonical_units(str(units)) != "m":
            out.append(f"{depth}: units {units!r}; canonical is 'm'")
        if d.attrs.get("positive") == "up":
            out.append(f"{depth}: positive 'up'; canonical is depth positive down")
    if "time" in ds.coords and ds["time"].ndim == 0:
        out.append("time is a scalar coordinate (one record); read as a time dimension of length 1")
    return out
