"""Monthly ENSO fields and the ENSO index, cheap enough for centuries-long runs.

The monthly fields are built from the monthly ENSO state directly (not by
averaging daily fields, which would cost a full daily run):

    thetao = T_b(z) + (SST_mean + fronts + T P_T + D P_D - T_b(0)) F(z; z_th,clim + dz_ENSO)
             + SST_season(mid-month) e^{-z/50} + 0.12 K N_m e^{-z/60}
    (u, v) = climatological 10 m wind (mid-month) + (k tau W, 0) + 0.6 m/s N_w
    (tauuo, tauvo) = rho_a C_d |U| (u, v)                         (bulk formula, C_d = 1.3e-3)

with the same climatology, patterns and ENSO state as the daily physics;
``N_m`` and ``N_w`` are monthly red noise (1.5-month time scale) standing in
for the monthly mean of the weather and eddies. Monthly means of the daily
files therefore agree with these fields up to that noise. Time stamps are
the first day of each month, as ERA5 monthly means and CMEMS monthly files
have them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ocean import variables as V
from ocean.errors import ConfigError
from ocean.grid import Grid, mask_from_bathymetry
from ocean.levels import Levels
from ocean.synthetic import atmosphere as atm
from ocean.synthetic import climatology as clim
from ocean.synthetic import enso
from ocean.synthetic import geography as geo
from ocean.synthetic.config import SyntheticConfig
from ocean.synthetic.noise import EPOCH, STREAMS, exp_kernel, filtered, season_phase, time_coordinate, to_days
from ocean.synthetic.physics import OCEAN_BASIS, front_fields

__all__ = ["month_starts", "enso_fields", "enso_index"]

_CHUNK_MONTHS = 120
_WIND_STREAMS = (STREAMS["enso_fields"] + 1, STREAMS["enso_fields"] + 2)


def month_starts(start, months: int) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Month indices (0 = January 1850) and first days of ``months`` months from ``start``'s month."""
    if int(months) < 1:
        raise ConfigError(f"need at least one month, found months={months}")
    day = int(to_days(start)[0])
    first_month = (EPOCH + np.timedelta64(day, "D")).astype("datetime64[M]")
    months_dt = first_month + np.arange(int(months))
    idx = (months_dt - EPOCH.astype("datetime64[M]")).astype(np.int64)
    return idx, pd.DatetimeIndex(time_coordinate(months_dt.astype("datetime64[D]")))


def _mid_month_days(dates: pd.DatetimeIndex) -> np.ndarray:
    start = (dates.values.astype("datetime64[D]") - EPOCH).astype(np.float64)
    return start + dates.days_in_month.to_numpy() / 2.0


def enso_fields(seed: int, cfg: SyntheticConfig, grid: Grid, levels: Levels, start, months: int) -> xr.Dataset:
    """Monthly ``thetao`` ``(time, depth, lat, lon)`` and ``tauuo, tauvo`` ``(time, lat, lon)``."""
    idx, dates = month_starts(start, months)
    la, lo = grid.lat[:, None], grid.lon[None, :]
    surface = atm.Surface(grid.lat, grid.lon, geo.land_weight(la, lo), geo.elevation(la, lo), clim.sst_mean(la, lo))
    static = _Static(grid, levels, surface, cfg)
    thetao, taux, tauy = [], [], []
    for i in range(0, idx.size, _CHUNK_MONTHS):  # float64 work per chunk, float32 results
        th, tx, ty = _chunk(seed, cfg, static, idx[i:i + _CHUNK_MONTHS], dates[i:i + _CHUNK_MONTHS])
        thetao.append(np.where(static.mask[None], th, np.nan).astype(np.float32))
        taux.append(tx.astype(np.float32))
        tauy.append(ty.astype(np.float32))
    thetao, taux, tauy = (np.concatenate(a) for a in (thetao, taux, tauy))
    coords = {**grid.coords(), "depth": ("depth", levels.values, levels.coord_attrs()),
              "time": ("time", dates.values, {"standard_name": "time", "axis": "T"})}
    ds = xr.Dataset({
        "thetao": (("time", "depth", "latitude", "longitude"), thetao, V.get("thetao").cf_attrs()),
        "tauuo": (("time", "latitude", "longitude"), taux, V.get("tauuo").cf_attrs()),
        "tauvo": (("time", "latitude", "longitude"), tauy, V.get("tauvo").cf_attrs()),
    }, coords=coords)
    ds.attrs = {"source": "synthetic", "source_description": f"ocean.synthetic monthly ENSO fields (seed {seed})",
                "synthetic_seed": seed, "grid": grid.describe(), "levels": levels.name}
    return ds


class _Static:
    def __init__(self, grid: Grid, levels: Levels, surface: atm.Surface, cfg: SyntheticConfig):
        la, lo = grid.lat[:, None], grid.lon[None, :]
        self.grid, self.surface = grid, surface
        self.z = levels.values[:, None, None]
        self.mask = mask_from_bathymetry(geo.deptho(la, lo), levels)
        self.t_deep = clim.deep_temperature(grid.lat[None, :, None], self.z)
        self.t_deep0 = clim.deep_temperature(la, 0.0)
        self.slow = surface.sst_mean + front_fields(grid.lat, grid.lon, np.zeros(4), 0.0)[0]
        self.p_t, self.p_d = enso.sst_pattern(la, lo), enso.background_pattern(la, lo)
        self.wind = cfg.enso.wind_per_tau * enso.wind_pattern(la, lo)
        self.z_th = clim.thermocline_depth(la, lo)
        self.la, self.lo = la, lo


def _chunk(seed, cfg: SyntheticConfig, st: _Static, idx: np.ndarray, dates: pd.DatetimeIndex):
    """Fields of up to ``_CHUNK_MONTHS`` months: thetao ``(T, Z, Y, X)``, tauuo and tauvo ``(T, Y, X)``."""
    state = enso.monthly_state(seed, cfg.enso, idx)
    t_noise = filtered(seed, STREAMS["enso_fields"], idx, OCEAN_BASIS.size, exp_kernel(1.5))
    w_noise = [filtered(seed, s, idx, atm.BASIS.size, exp_kernel(1.5)) for s in _WIND_STREAMS]
    mid = _mid_month_days(dates)
    lat, lon = st.grid.lat, st.grid.lon
    col = lambda a: np.asarray(a)[:, None, None]  # noqa: E731  (T,) -> (T, 1, 1)
    dz = enso.thermocline_anomaly(st.la, st.lo, col(state["h"]), col(state["tau"]), cfg.enso)
    sst = st.slow + col(state["T"]) * st.p_t + col(state["D"]) * st.p_d  # (T, Y, X)
    shape = clim.profile_shape(st.z[None], (st.z_th + dz)[:, None])  # (T, Z, Y, X)
    season = clim.sst_seasonal(st.la[None], col(season_phase(mid)))  # (T, Y, X)
    noise = np.stack([cfg.enso.monthly_noise_k * OCEAN_BASIS.evaluate(c, lat, lon) for c in t_noise])
    t = (st.t_deep[None] + (sst - st.t_deep0)[:, None] * shape
         + season[:, None] * np.exp(-st.z / clim.SEASON_DECAY_M)[None]
         + noise[:, None] * np.exp(-st.z / 60.0)[None])
    theta = np.where(t < -1.0, -1.9 + 0.9 * np.exp((t + 1.0) / 0.9), t)
    taux, tauy = [], []
    for i in range(idx.size):
        c = atm.climatology(st.surface, mid[i])
        u = c["u10"] + state["tau"][i] * st.wind + 0.6 * atm.BASIS.evaluate(w_noise[0][i], lat, lon)
        v = c["v10"] + 0.6 * atm.BASIS.evaluate(w_noise[1][i], lat, lon)
        tx, ty = atm.wind_speed_to_stress(u, v)
        taux.append(tx)
        tauy.append(ty)
    return theta, np.stack(taux), np.stack(tauy)


def enso_index(seed: int, cfg: SyntheticConfig, start, months: int) -> xr.Dataset:
    """Monthly ENSO scalars from the recharge oscillator (no field noise).

    ``nino34`` (K) is ``t_east + background``; ``t_east`` (K), ``h_west``
    (m), ``tau_x`` (N m-2), ``background`` (K).
    """
    idx, dates = month_starts(start, months)
    s = enso.monthly_state(seed, cfg.enso, idx)
    time = ("time", dates.values, {"standard_name": "time", "axis": "T"})
    attrs = {
        "t_east": {"long_name": "East-Pacific SST anomaly (recharge oscillator T_E)", "units": "K"},
        "h_west": {"long_name": "West-Pacific thermocline depth anomaly (h_W)", "units": "m"},
        "tau_x": {"long_name": "Central-Pacific zonal wind-stress anomaly", "units": "N m-2"},
        "background": {"long_name": "Slow Pacific background SST anomaly", "units": "K"},
    }
    values = {"t_east": s["T"], "h_west": s["h"], "tau_x": s["tau"], "background": s["D"]}
    data = {"nino34": ("time", s.nino34.astype(np.float32), V.get("nino34").cf_attrs())}
    data.update({k: ("time", values[k].astype(np.float32), attrs[k]) for k in attrs})
    return xr.Dataset(data, coords={"time": time}, attrs={"source": "synthetic", "synthetic_seed": seed})
