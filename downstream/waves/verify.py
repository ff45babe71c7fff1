"""Verification of wave forecasts against buoys: matched in space and time; bias, RMSE, scatter index.

:func:`score_buoys` takes the ``waves`` group of forecast stores (dims
``init_time, lead_time, latitude, longitude``, ``valid_time(init_time,
lead_time)``; one or many inits) and point observations with dims
``(station, time)`` and ``latitude`` / ``longitude`` per station (NDBC
buoys, WAVEWATCH III points: :mod:`downstream.waves.readers`):

* space: each station takes the nearest grid cell where the forecast has
  values (ocean, not ice), if it is within ``max_km``;
* time: a forecast is a daily mean of its valid date; the observation is the
  mean of the station's values on that date (at least ``min_obs`` of them;
  the circular mean for a direction);
* scores per lead and variable, pooled over stations and inits: ``bias`` =
  mean(f - o), ``rmse``, ``si`` (scatter index) = rmse / mean(o) (none for a
  direction, whose differences are wrapped to [-180, 180)), and ``n``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from einops import rearrange

from ocean.errors import DataError

__all__ = ["score_buoys", "daily_observations", "nearest_cell"]

_EARTH_KM = 6371.0


def _as_stations(buoys) -> xr.Dataset:
    parts = [buoys] if isinstance(buoys, xr.Dataset) else list(buoys)
    if not parts:
        raise DataError("no buoy data to verify against", expected="one or more datasets from downstream.waves.readers")
    parts = [p if "station" in p.dims else p.expand_dims("station") for p in parts]
    return xr.concat(parts, dim="station", join="outer") if len(parts) > 1 else parts[0]


def daily_observations(obs: xr.DataArray, dates: np.ndarray, min_obs: int = 1, circular: bool = False) -> np.ndarray:
    """Means of ``obs (time,)`` over each calendar date in ``dates`` (NaN with fewer than ``min_obs`` values)."""
    t = pd.DatetimeIndex(obs["time"].values).normalize()
    x = np.asarray(obs.values, dtype=float)
    ok = np.isfinite(x)
    frame = pd.DataFrame({"day": t[ok], "s": np.sin(np.deg2rad(x[ok])), "c": np.cos(np.deg2rad(x[ok])), "x": x[ok]})
    g = frame.groupby("day")
    count = g.size()
    mean = (np.rad2deg(np.arctan2(g["s"].mean(), g["c"].mean())) % 360.0) if circular else g["x"].mean()
    mean = mean.where(count >= min_obs)
    return mean.reindex(pd.DatetimeIndex(dates).normalize()).to_numpy(dtype=float)


def _nearest_cell(valid: np.ndarray, lat: np.ndarray, lon: np.ndarray, plat: float, plon: float, max_km: float):
    la, lo = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
    p, q = np.deg2rad(plat), np.deg2rad(plon)
    cosd = np.sin(la) * np.sin(p) + np.cos(la) * np.cos(p) * np.cos(lo - q)
    dist = _EARTH_KM * np.arccos(np.clip(cosd, -1, 1))
    dist = np.where(valid, dist, np.inf)
    i, j = np.unravel_index(np.argmin(dist), dist.shape)
    return (int(i), int(j), float(dist[i, j])) if dist[i, j] <= max_km else None


def nearest_cell(valid: np.ndarray, lat: np.ndarray, lon: np.ndarray, plat: float, plon: float,
                 max_km: float = 300.0) -> tuple[int, int, float] | None:
    """``(i, j, km)`` of the cell of ``valid (lat, lon)`` nearest to the point (great circle), None beyond ``max_km``."""
    return _nearest_cell(valid, lat, lon, plat, ((plon + 180) % 360) - 180, max_km)


def score_buoys(forecast_ds: xr.Dataset, buoys, variables: Sequence[str] = ("VHM0", "VTM02", "VTPK", "VMDR"),
                max_km: float = 300.0, min_obs: int = 1, ocean_cells: np.ndarray | None = None) -> xr.Dataset:
    """Bias, RMSE, scatter index and count per ``lead_time`` and variable (see the module docstring).

    Returns a dataset with dims ``(lead_time,)`` and variables
    ``{var}_bias``, ``{var}_rmse``, ``{var}_si``, ``{var}_n``; its attrs name
    the stations used and the grid cell each was matched to. ``ocean_cells``
    (bool ``(lat, lon)``): the cells a station may match, when the caller
    already knows them (else: where the forecast has any value, which reads
    the first variable of every init and lead at once).
    """
    st = _as_stations(buoys)
    if "valid_time" not in forecast_ds.coords and "valid_time" not in forecast_ds:
        raise DataError("the forecast has no valid_time", found=sorted(map(str, forecast_ds.coords)),
                        expected="the waves group of a forecast store (init_time, lead_time, valid_time)")
    fc = forecast_ds if "init_time" in forecast_ds.dims else forecast_ds.expand_dims("init_time")
    names = [v for v in variables if v in fc and v in st]
    if not names:
        raise DataError("the forecast and the buoys share no variable", found=sorted(map(str, st.data_vars)),
                        expected=f"some of {list(variables)} in both")
    lat, lon = fc["latitude"].values, fc["longitude"].values
    valid_time = np.asarray(fc["valid_time"].values)  # (init, lead)
    sums = {v: {k: np.zeros(fc.sizes["lead_time"]) for k in ("d", "d2", "o", "n")} for v in names}
    matched = {}
    if ocean_cells is None:
        any_value = np.isfinite(fc[names[0]].values).any(axis=(0, 1))  # (lat, lon): ocean, not always ice
    else:
        any_value = np.asarray(ocean_cells, dtype=bool)
    for s in range(st.sizes["station"]):
        one = st.isel(station=s)
        plat, plon = float(one["latitude"]), float(one["longitude"])
        if not (np.isfinite(plat) and np.isfinite(plon)):
            raise DataError("a buoy has no position", variable=str(one["station"].values),
                            found="latitude/longitude NaN", expected="the station's position",
                            hint="Pass latitude= and longitude= to read_ndbc_stdmet")
        cell = _nearest_cell(any_value, lat, lon, plat, ((plon + 180) % 360) - 180, max_km)
        if cell is None:
            continue
        i, j, km = cell
        matched[str(one["station"].values)] = {"lat": float(lat[i]), "lon": float(lon[j]), "km": round(km, 1)}
        for v in names:
            f = fc[v].isel(latitude=i, longitude=j).values.astype(float)  # (init, lead)
            o = daily_observations(one[v], valid_time.ravel(), min_obs, circular=v == "VMDR")
            o = rearrange(o, "(i l) -> i l", i=f.shape[0])
            d = f - o
            if v == "VMDR":
                d = (d + 180.0) % 360.0 - 180.0
            ok = np.isfinite(d)
            sums[v]["d"] += np.where(ok, d, 0).sum(0)
            sums[v]["d2"] += np.where(ok, d * d, 0).sum(0)
            sums[v]["o"] += np.where(ok, o, 0).sum(0)
            sums[v]["n"] += ok.sum(0)
    if not matched or all(sums[v]["n"].sum() == 0 for v in names):
        raise DataError("no forecast matched a buoy observation",
                        found=f"{st.sizes['station']} station(s), {len(matched)} within {max_km:g} km of a forecast "
                              f"cell; valid dates {str(valid_time.min())[:10]}..{str(valid_time.max())[:10]}",
                        expected="buoys inside the forecast's domain with observations on its valid dates")
    out = {}
    for v in names:
        n = sums[v]["n"]
        with np.errstate(invalid="ignore", divide="ignore"):
            bias, rmse = sums[v]["d"] / n, np.sqrt(sums[v]["d2"] / n)
            si = rmse / (sums[v]["o"] / n) if v != "VMDR" else np.full_like(rmse, np.nan)
        out[f"{v}_bias"], out[f"{v}_rmse"] = ("lead_time", bias), ("lead_time", rmse)
        out[f"{v}_si"], out[f"{v}_n"] = ("lead_time", si), ("lead_time", n.astype(np.int64))
    return xr.Dataset(out, coords={"lead_time": fc["lead_time"].values},
                      attrs={"stations": str(matched), "scatter_index": "rmse / mean(observed)",
                             "matching": f"nearest forecast cell within {max_km:g} km; daily means of the valid date"})
