"""Readers of wave data: gridded truth (ERA5, CMEMS) and point verification data (WAVEWATCH III, NDBC).

* :func:`open_wave_fields`: ERA5 wave fields (``swh``, ``mp2`` / ``mwp``,
  ``pp1d``, ``mwd``) or a CMEMS wave product (``VHM0``, ``VTM02``, ``VTPK``,
  ``VMDR``) in the canonical form of :func:`ocean.io.open_source` (catalogue
  names, latitude ascending, longitude in [-180, 180)); the head's training truth.
* :func:`read_ww3_spectra`: WAVEWATCH III spectral point output
  ``efth(time, station, frequency, direction)`` integrated into bulk
  parameters: ``VHM0 = 4 sqrt(m0)``, ``VTM02 = sqrt(m0 / m2)``, ``VTPK`` the
  period of the peak of the frequency spectrum, ``VMDR`` the energy-weighted
  mean direction (from), with ``m_n = integral f^n E(f, theta) df dtheta``.
* :func:`read_ndbc_stdmet`: an NDBC standard-meteorological text file
  (``WVHT``, ``DPD``, ``APD``, ``MWD``, ...), ``MM`` and the 99 / 999 / 9999
  sentinels as missing.

Point data come back as datasets with dims ``(station, time)`` and
``latitude`` / ``longitude`` per station (NaN when the file does not say),
which :func:`downstream.waves.verify.score_buoys` matches to forecasts.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ocean import variables as V
from ocean.errors import DataError
from ocean.io import check_values, open_raw, resolve_paths

__all__ = ["open_wave_fields", "read_ww3_spectra", "read_ndbc_stdmet", "spectral_moments", "bulk_parameters",
           "NDBC_COLUMNS"]

log = logging.getLogger(__name__)

#: NDBC stdmet column -> catalogue name (APD, the average zero-crossing period, is Tm02).
NDBC_COLUMNS = {"WVHT": "VHM0", "DPD": "VTPK", "APD": "VTM02", "MWD": "VMDR"}
_NDBC_EXTRA = ("WDIR", "WSPD", "WTMP")
_SENTINELS = (99.0, 999.0, 9999.0)


def open_wave_fields(paths, source: str | None = None) -> xr.Dataset:
    """ERA5 or CMEMS wave fields in canonical form; ``source`` ``era5_wave`` / ``cmems_wave`` or detected.

    ERA5's ``mp2`` (the mean zero-crossing period, Tm02) is used for
    ``VTM02`` when the file has it; ``mwp`` (Tm-1,0) stands in otherwise.
    Values are checked (:func:`ocean.io.check_values`).
    """
    from ocean.io import _canonical  # the reader of one opened file (open_source's own)

    files = resolve_paths(paths)
    parts = []
    for f in files:
        raw = open_raw(f)
        kind = source or ("era5_wave" if "swh" in raw.variables else "cmems_wave" if "VHM0" in raw.variables
                          else None)
        if kind not in ("era5_wave", "cmems_wave"):
            raise DataError("not a wave product", file=f, found=sorted(map(str, raw.data_vars)),
                            expected="ERA5 wave fields (swh, mwd, pp1d, mp2/mwp) or a CMEMS wave product "
                                     "(VHM0, VTM02, VTPK, VMDR)")
        if kind == "era5_wave" and "mp2" in raw.variables:
            raw = raw.drop_vars("mwp", errors="ignore").rename_vars({"mp2": "mwp"})
        parts.append(_canonical(raw, f, kind, None))
    ds = parts[0] if len(parts) == 1 else xr.concat(parts, dim="time", join="exact").sortby("time")
    if "VHM0" not in ds:
        raise DataError("no significant wave height", file=files[0], found=sorted(map(str, ds.data_vars)),
                        expected="swh (ERA5) or VHM0 (CMEMS)")
    check_values(ds, str(files[0]))
    return ds


# -- WAVEWATCH III spectra ---------------------------------------------------------------------------------

_PER_RADIAN = {"m2 s rad-1", "m2 s rad^-1", "m2/hz/rad", "m2 hz-1 rad-1", "m^2 s rad^-1", "m2.s.rad-1"}
_PER_DEGREE = {"m2 s deg-1", "m2 s degree-1", "m2/hz/deg", "m2 hz-1 deg-1", "m^2 s deg^-1", "m2.s.deg-1"}
_HERTZ = {"s-1", "hz", "1/s", "s^-1"}


def _direction_width(units: str, n: int, path) -> float:
    """Width of one directional bin in the spectrum's angular unit (radians or degrees)."""
    u = " ".join(units.lower().replace("**", "^").split())
    if u in _PER_RADIAN:
        return 2 * np.pi / n
    if u in _PER_DEGREE:
        return 360.0 / n
    raise DataError("the spectrum's units are not a directional variance density", file=path, variable="efth",
                    found=repr(units), expected="m2 s rad-1 (or m2 s deg-1): variance per frequency and direction",
                    hint="Give WAVEWATCH III's directional spectrum (efth), not a frequency spectrum or an energy")


def spectral_moments(efth: np.ndarray, freq: np.ndarray, dtheta: float, orders=(0, 2)) -> dict[int, np.ndarray]:
    """``m_n`` over the last two axes ``(..., frequency, direction)``: trapezoid in f, bin sum in direction."""
    e_f = efth.sum(axis=-1) * dtheta  # (..., frequency)
    return {n: np.trapezoid(e_f * freq ** n, freq, axis=-1) for n in orders}


def bulk_parameters(efth: np.ndarray, freq: np.ndarray, direction_from: np.ndarray, dtheta: float) -> dict:
    """``VHM0``, ``VTM02``, ``VTPK``, ``VMDR`` from ``efth (..., frequency, direction)``."""
    m = spectral_moments(efth, freq, dtheta)
    with np.errstate(invalid="ignore", divide="ignore"):
        hs = 4.0 * np.sqrt(m[0])
        tm02 = np.sqrt(m[0] / m[2])
        e_f = efth.sum(axis=-1)
        tp = 1.0 / freq[np.argmax(e_f, axis=-1)]
        rad = np.deg2rad(direction_from)
        e_d = efth.sum(axis=-2)  # (..., direction)
        mdir = np.rad2deg(np.arctan2((e_d * np.sin(rad)).sum(-1), (e_d * np.cos(rad)).sum(-1))) % 360.0
    empty = ~(m[0] > 0)
    return {k: np.where(empty, np.nan, v) for k, v in
            {"VHM0": hs, "VTM02": tm02, "VTPK": tp, "VMDR": mdir}.items()}


def read_ww3_spectra(path: "str | os.PathLike") -> xr.Dataset:
    """Bulk wave parameters ``(station, time)`` from a WAVEWATCH III spectral point file."""
    path = Path(path)
    raw = open_raw(path).load()
    if "efth" not in raw:
        raise DataError("no directional spectrum", file=path, found=sorted(map(str, raw.data_vars)),
                        expected="efth(time, station, frequency, direction)")
    efth = raw["efth"]
    missing = [d for d in ("time", "station", "frequency", "direction") if d not in efth.dims]
    if missing:
        raise DataError("the spectrum lacks dimensions", file=path, variable="efth", found=list(efth.dims),
                        expected="(time, station, frequency, direction)")
    funits = str(raw["frequency"].attrs.get("units", "s-1")).lower().strip()
    if funits not in _HERTZ:
        raise DataError("the frequencies are not in hertz", file=path, variable="frequency", found=repr(funits),
                        expected="s-1 (Hz)", hint="Convert angular frequencies (rad s-1) to Hz first")
    dtheta = _direction_width(str(efth.attrs.get("units", "")), raw.sizes["direction"], path)
    direction = np.asarray(raw["direction"].values, dtype=float)
    if "to_direction" in str(raw["direction"].attrs.get("standard_name", "")):
        direction = (direction + 180.0) % 360.0  # the convention of the file: waves going to
    values = np.asarray(efth.transpose("station", "time", "frequency", "direction").values, dtype=np.float64)
    if np.nanmin(values) < 0:
        raise DataError("negative spectral densities", file=path, variable="efth",
                        found=f"min {np.nanmin(values):.3g}", expected=">= 0")
    bulk = bulk_parameters(np.nan_to_num(values), np.asarray(raw["frequency"].values, float), direction, dtheta)
    dims = ("station", "time")
    ds = xr.Dataset({k: (dims, v.astype(np.float32), V.get(k).cf_attrs()) for k, v in bulk.items()},
                    coords={"station": [str(s) for s in raw["station"].values], "time": raw["time"].values})
    for c in ("latitude", "longitude"):
        if c in raw:
            where = raw[c].isel(time=0) if "time" in raw[c].dims else raw[c]  # WW3 repeats it per time
            ds.coords[c] = ("station", np.asarray(where.values, dtype=float))
    if "wnd" in raw:
        ds["wind_speed"] = (dims, raw["wnd"].transpose("station", "time").values.astype(np.float32),
                            {"units": "m s-1", "long_name": "Wind speed at 10 m"})
    ds.attrs = {"source": "ww3_spectra", "source_file": str(path)}
    return ds


# -- NDBC standard meteorological files ---------------------------------------------------------------------

def _ndbc_header(lines: list[str], path) -> tuple[list[str], int]:
    for i, line in enumerate(lines[:3]):
        names = line.lstrip("#").split()
        if names and names[0] in ("YY", "YYYY"):
            skip = i + 1 + (1 if i + 1 < len(lines) and lines[i + 1].startswith("#") else 0)
            return names, skip
    raise DataError("not an NDBC standard meteorological file", file=path, found=repr(lines[0][:60]) if lines else
                    "an empty file", expected="a header line '#YY  MM DD hh mm WDIR WSPD ... WVHT DPD APD MWD ...'")


def read_ndbc_stdmet(path: "str | os.PathLike", *, latitude: float | None = None, longitude: float | None = None,
                     station: str | None = None) -> xr.Dataset:
    """An NDBC stdmet file as ``(station, time)`` with ``VHM0, VTPK, VTM02, VMDR`` (+ wind, water temperature).

    NDBC files do not carry the buoy's position: give ``latitude`` and
    ``longitude`` (from the station page) to verify forecasts against it.
    A file without a single valid wave height is an error.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path)
    lines = path.read_text(errors="replace").splitlines()
    names, skip = _ndbc_header(lines, path)
    rows = [ln.split() for ln in lines[skip:] if ln.strip() and not ln.startswith("#")]
    rows = [r for r in rows if len(r) == len(names)]
    if not rows:
        raise DataError("no data rows", file=path, expected=f"rows of {len(names)} columns after the header")
    table = pd.DataFrame(rows, columns=names).replace("MM", np.nan)
    year = table[names[0]].astype(int)
    year = np.where(year < 100, year + 1900, year)
    stamp = pd.to_datetime(dict(year=year, month=table["MM"].astype(int), day=table["DD"].astype(int),
                                hour=table["hh"].astype(int),
                                minute=table["mm"].astype(int) if "mm" in table else 0), utc=False)
    data = {}
    for col, name in [*NDBC_COLUMNS.items(), *((c, c) for c in _NDBC_EXTRA)]:
        if col not in table:
            continue
        x = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float, copy=True)
        x[np.isin(x, _SENTINELS)] = np.nan
        data[name] = x
    if "VHM0" not in data or not np.isfinite(data["VHM0"]).any():
        raise DataError("the buoy file has no valid wave height", file=path, variable="WVHT",
                        found=f"{len(rows)} rows, all WVHT missing ('MM' or 99.00)" if "VHM0" in data
                        else f"columns {names}", expected="at least one row with a wave height",
                        hint="Pick a station and year with wave measurements")
    order = np.argsort(stamp.to_numpy(), kind="stable")
    times = stamp.to_numpy()[order]
    keep = np.concatenate([[True], np.diff(times) > np.timedelta64(0, "s")])
    station = station or (re.search(r"(?<![0-9A-Za-z])([0-9A-Za-z]{5})(?=[_.h]|$)", path.stem) or
                          re.search(r"\d{5}", path.stem) or [path.stem])[0]
    ds = xr.Dataset({k: (("station", "time"), v[order][keep][None].astype(np.float32),
                         V.get(k).cf_attrs() if k in V.CATALOGUE else {"units": _UNITS.get(k, "")})
                     for k, v in data.items()},
                    coords={"station": [str(station)], "time": times[keep],
                            "latitude": ("station", [np.nan if latitude is None else float(latitude)]),
                            "longitude": ("station", [np.nan if longitude is None else float(longitude)])})
    ds.attrs = {"source": "ndbc_stdmet", "source_file": str(path)}
    log.info("NDBC %s: %d rows, %d with a wave height", station, len(rows), int(np.isfinite(data["VHM0"]).sum()))
    return ds


_UNITS = {"WDIR": "degree", "WSPD": "m s-1", "WTMP": "degC"}
