"""Argo profiles and Class-4 verification of forecasts against them.

:func:`read_argo` reads Argo GDAC multi-profile files (``<WMO>_prof.nc``,
format 3.1) into a ``(profile, level)`` dataset of potential temperature
(``thetao``, TEOS-10 via ``gsw`` from in-situ TEMP), practical salinity
(``so``) and depth (m, from pressure). Adjusted values are used where the
profile's DATA_MODE is ``A`` or ``D``; a level is kept only when its QC flag
is good (1, 2, 5 or 8), and a profile only when its date and position QC
are good.

:func:`class4` interpolates forecasts to every good observation (the
forecast valid on the observation's day, trilinear in latitude, longitude —
periodic on global grids — and depth) for every lead time; :func:`class4_summary`
reduces the matches to RMSE and bias by depth bin and lead.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import gsw
import netCDF4
import numpy as np
import xarray as xr

from ocean.errors import DataError
from ocean.io import resolve_paths

__all__ = ["read_argo", "class4", "class4_summary", "GOOD_QC"]

log = logging.getLogger(__name__)

GOOD_QC = (b"1", b"2", b"5", b"8")
_FILL = 99999.0


def _chars(v) -> np.ndarray:
    a = v[:]
    return np.ma.filled(a, b" ") if np.ma.isMaskedArray(a) else np.asarray(a)


def _param(d: netCDF4.Dataset, name: str, adjusted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and QC flags of ``name``, adjusted where ``adjusted`` (per profile)."""
    raw = np.ma.filled(d[name][:].astype(np.float64), np.nan)
    qc = _chars(d[f"{name}_QC"])
    if f"{name}_ADJUSTED" in d.variables:
        adj = np.ma.filled(d[f"{name}_ADJUSTED"][:].astype(np.float64), np.nan)
        aqc = _chars(d[f"{name}_ADJUSTED_QC"])
        raw = np.where(adjusted[:, None], adj, raw)
        qc = np.where(adjusted[:, None], aqc, qc)
    raw[raw >= _FILL * 0.99] = np.nan
    good = np.isin(qc, GOOD_QC) & np.isfinite(raw)
    return np.where(good, raw, np.nan), good


def _read_one(path: Path) -> xr.Dataset:
    try:
        d = netCDF4.Dataset(path)
    except OSError as exc:
        raise DataError(f"cannot be read as an Argo NetCDF file ({exc})", file=path,
                        hint="The file may be truncated; fetch it again from the GDAC") from exc
    with d:
        missing = [v for v in ("JULD", "LATITUDE", "LONGITUDE", "PRES", "TEMP") if v not in d.variables]
        if missing:
            raise DataError("not an Argo profile file", file=path, found=f"missing {missing}",
                            expected="JULD, LATITUDE, LONGITUDE, PRES, TEMP (Argo format 3.1)")
        mode = _chars(d["DATA_MODE"]) if "DATA_MODE" in d.variables else np.full(d.dimensions["N_PROF"].size, b"R")
        adjusted = np.isin(mode, (b"A", b"D"))
        juld = np.ma.filled(d["JULD"][:].astype(np.float64), np.nan)
        lat = np.ma.filled(d["LATITUDE"][:].astype(np.float64), np.nan)
        lon = np.ma.filled(d["LONGITUDE"][:].astype(np.float64), np.nan)
        ok = np.isfinite(juld) & (juld < _FILL * 0.99) & np.isfinite(lat) & (np.abs(lat) <= 90)
        for flag in ("JULD_QC", "POSITION_QC"):
            if flag in d.variables:
                ok &= np.isin(_chars(d[flag]), GOOD_QC)
        pres, pgood = _param(d, "PRES", adjusted)
        temp, _ = _param(d, "TEMP", adjusted)
        psal, _ = _param(d, "PSAL", adjusted) if "PSAL" in d.variables else (np.full_like(temp, np.nan), None)
        platform = np.array([b"".join(r).decode().strip() for r in _chars(d["PLATFORM_NUMBER"])])
        cycle = np.ma.filled(d["CYCLE_NUMBER"][:], -1).astype(int)
    time = np.datetime64("1950-01-01", "ns") + (juld * 86400e9).astype("timedelta64[ns]")
    pres = np.where(pgood, pres, np.nan)
    temp = np.where(np.isfinite(pres), temp, np.nan)
    return _to_dataset(time[ok], lat[ok], lon[ok], pres[ok], temp[ok], psal[ok], platform[ok], cycle[ok], path)


def _to_dataset(time, lat, lon, pres, temp, psal, platform, cycle, path) -> xr.Dataset:
    lon = (lon + 180.0) % 360.0 - 180.0
    depth = -gsw.z_from_p(pres, lat[:, None])
    sp_known = np.isfinite(psal)
    sa = gsw.SA_from_SP(np.where(sp_known, psal, 35.0), pres, lon[:, None], lat[:, None])
    pt = gsw.pt0_from_t(sa, temp, pres)  # salinity unknown: 35 gives < 0.01 degC error above 500 m
    return xr.Dataset(
        {"thetao": (("profile", "level"), pt, {"units": "degrees_C", "standard_name": "sea_water_potential_temperature"}),
         "so": (("profile", "level"), psal, {"units": "1e-3", "standard_name": "sea_water_salinity"}),
         "depth": (("profile", "level"), depth, {"units": "m", "positive": "down"}),
         "pressure": (("profile", "level"), pres, {"units": "dbar"})},
        coords={"time": ("profile", time), "latitude": ("profile", lat), "longitude": ("profile", lon),
                "platform": ("profile", platform), "cycle": ("profile", cycle)},
        attrs={"source": "Argo GDAC", "source_files": str(path), "qc_kept": "1,2,5,8"},
    )


def read_argo(paths) -> xr.Dataset:
    """Good-QC Argo profiles from one or more ``*_prof.nc`` files (globs allowed)."""
    parts = [_read_one(p) for p in resolve_paths(paths)]
    nlev = max(p.sizes["level"] for p in parts)
    parts = [p.pad(level=(0, nlev - p.sizes["level"])) for p in parts]
    ds = xr.concat(parts, dim="profile", data_vars="all", coords="all", join="outer",
                   combine_attrs="drop_conflicts")
    good = ds["thetao"].notnull().any("level")
    if not bool(good.any()):
        raise DataError("no profile with good-QC temperature", file=ds.attrs.get("source_files"),
                        expected="at least one level with QC 1, 2, 5 or 8")
    return ds.isel(profile=np.nonzero(good.values)[0])


def _axis_weights(coord: np.ndarray, x: np.ndarray, periodic: bool = False):
    """Indices ``(i0, i1)`` and weight of ``i1`` for linear interpolation along a 1-D axis."""
    if periodic:
        step = coord[1] - coord[0]
        pos = ((x - coord[0]) / step) % coord.size
        i0 = np.floor(pos).astype(int)
        return i0 % coord.size, (i0 + 1) % coord.size, pos - i0, np.ones(x.shape, bool)
    inside = (x >= coord[0]) & (x <= coord[-1])
    i1 = np.clip(np.searchsorted(coord, x), 1, coord.size - 1)
    i0 = i1 - 1
    w = np.clip((x - coord[i0]) / (coord[i1] - coord[i0]), 0.0, 1.0)
    return i0, i1, w, inside


def _interp(field: np.ndarray, zi, yi, xi) -> np.ndarray:
    """Trilinear interpolation of ``field[obs, z, y, x]`` renormalised over valid corners."""
    (z0, z1, wz, _), (y0, y1, wy, _), (x0, x1, wx, _) = zi, yi, xi
    obs = np.arange(field.shape[0])
    total, wsum = np.zeros(obs.size), np.zeros(obs.size)
    for zc, fz in ((z0, 1 - wz), (z1, wz)):
        for yc, fy in ((y0, 1 - wy), (y1, wy)):
            for xc, fx in ((x0, 1 - wx), (x1, wx)):
                v = field[obs, zc, yc, xc]
                w = fz * fy * fx * np.isfinite(v)
                total += np.nan_to_num(v) * w
                wsum += w
    return np.where(wsum > 1e-12, total / np.where(wsum > 0, wsum, 1), np.nan)


def class4(forecast: xr.Dataset, profiles: xr.Dataset, variables: Sequence[str] = ("thetao", "so")) -> xr.Dataset:
    """Forecast values at each good observation, for every lead: dims ``obs, lead_time``."""
    obs = profiles.stack(obs=("profile", "level")).reset_index("obs")
    obs = obs.isel(obs=np.nonzero(np.isfinite(obs["thetao"].values) & np.isfinite(obs["depth"].values))[0])
    lat_c, lon_c, z_c = (forecast[c].values for c in ("latitude", "longitude", "depth"))
    periodic = abs((lon_c[1] - lon_c[0]) * lon_c.size - 360.0) < 1e-6
    yi = _axis_weights(lat_c, obs["latitude"].values)
    xi = _axis_weights(lon_c, obs["longitude"].values, periodic)
    zi = _axis_weights(z_c, obs["depth"].values)
    inside = yi[3] & xi[3] & zi[3]
    day = obs["time"].values.astype("datetime64[D]").astype("datetime64[ns]")
    inits = forecast["init_time"].values
    out = {f"obs_{v}": obs[v] for v in variables}
    for v in variables:
        model = np.full((obs.sizes["obs"], forecast.sizes["lead_time"]), np.nan)
        for j, lead in enumerate(forecast["lead_time"].values):
            want = day - lead
            pos = np.searchsorted(inits, want)
            hit = inside & (pos < inits.size) & (inits[np.minimum(pos, inits.size - 1)] == want)
            if not hit.any():
                continue
            used = np.unique(pos[hit])
            block = forecast[v].isel(init_time=used, lead_time=j).transpose("init_time", "depth", "latitude", "longitude").values
            local = np.searchsorted(used, pos[hit])
            sel = lambda t: tuple(a[hit] if isinstance(a, np.ndarray) and a.shape == hit.shape else a for a in t)  # noqa: E731
            model[hit, j] = _interp(block[local], sel(zi), sel(yi), sel(xi))
        out[f"model_{v}"] = (("obs", "lead_time"), model, {"units": forecast[v].attrs.get("units", "")})
    result = xr.Dataset(out, coords={"lead_time": forecast["lead_time"], "depth": ("obs", obs["depth"].values),
                                     "time": ("obs", obs["time"].values), "latitude": ("obs", obs["latitude"].values),
                                     "longitude": ("obs", obs["longitude"].values),
                                     "platform": ("obs", obs["platform"].values)})
    log.info("Class-4: %d good observations, %d inside the forecast domain", obs.sizes["obs"], int(inside.sum()))
    return result


def class4_summary(matches: xr.Dataset, bins: Sequence[float] = (0, 10, 50, 100, 200, 500),
                   variables: Sequence[str] = ("thetao", "so")) -> xr.Dataset:
    """RMSE, bias and number of matches by depth bin and lead."""
    edges = np.asarray(bins, dtype=float)
    labels = [f"{a:g}-{b:g} m" for a, b in zip(edges[:-1], edges[1:])]
    out = {}
    for v in variables:
        err = matches[f"model_{v}"] - matches[f"obs_{v}"]
        binned = err.groupby_bins(matches["depth"], edges, labels=labels)
        out[f"{v}_rmse"] = np.sqrt((err**2).groupby_bins(matches["depth"], edges, labels=labels).mean())
        out[f"{v}_bias"] = binned.mean()
        out[f"{v}_count"] = err.notnull().groupby_bins(matches["depth"], edges, labels=labels).sum()
    return xr.Dataset(out)
