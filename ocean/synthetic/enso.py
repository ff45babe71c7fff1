"""Recharge-oscillator ENSO (Jin 1997) with a wind-stress feedback, and its patterns.

Scalars, integrated monthly from a fixed start (``EPOCH`` minus a spin-up)
so any month is reproducible and independent of the requested range:

    dT/dt = R T + gamma h + c tau + sigma_T xi_T        east-Pacific SST anomaly (K)
    dh/dt = -r h - a tau + sigma_h xi_h                 west-Pacific thermocline depth anomaly (m)
    tau   = b T + sigma_tau zeta                        central-Pacific zonal wind-stress anomaly (N m-2)
    D(n+1) = phi_D D(n) + sqrt(1 - phi_D^2) sigma_D xi_D   slow Pacific background (K)

with ``xi``, ``zeta`` monthly standard-normal innovations from the
counter-based generator (one draw of 12 months x 4 per model year). The
linear part is stepped exactly, ``x(n+1) = expm(A) x(n) + expm(A / 2) B
noise(n)``; with the defaults the oscillator has a period of 4.7 years and
an e-folding damping time of 17 years, and the background ``D`` (time scale
8 years) carries about 40 % of the Nino3.4 variance, which is ``T + D``
(measured figures in docs/synthetic.md). Westerly
anomalies (``tau > 0``) warm the east (``c tau``) and discharge the western
warm pool (``-a tau``): the recharge-discharge cycle.

Spatial patterns (all with unit mean over the Nino3.4 box where relevant):

* SST anomaly ``(T + D)``: a Gaussian centred at (0, 125W), 9 degrees wide
  in latitude and 38 degrees in longitude, and a broad Pacific horseshoe for
  ``D``;
* thermocline-depth anomaly ``dz = eq(lat) P(lon) [h + tilt tau s(lon)]``
  with ``s`` rising from 0 in the west to 1 in the east: the east deepens
  during El Nino while the west shoals as it discharges;
* zonal wind anomaly ``u10' = k tau W(lat, lon)`` centred at (0, 180E).

Daily values are linear interpolations between mid-month states.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import scipy.linalg

from ocean.synthetic.config import EnsoConfig
from ocean.synthetic.geography import east_pacific_weight, pacific_weight
from ocean.synthetic.noise import EPOCH, OFFSET, STREAMS

__all__ = [
    "EnsoState",
    "months_since_epoch",
    "monthly_state",
    "daily_state",
    "sst_pattern",
    "background_pattern",
    "thermocline_anomaly",
    "wind_pattern",
    "NINO34",
]

#: Nino3.4 box (lat_min, lat_max, lon_min, lon_max), degrees east in [-180, 180).
NINO34 = (-5.0, 5.0, -170.0, -120.0)
_BLOCK_YEARS = 50  # runs are cached in blocks so longer runs extend shorter ones


class EnsoState(dict):
    """Arrays ``T`` (K), ``h`` (m), ``tau`` (N m-2) and ``D`` (K), one value per time."""

    @property
    def nino34(self) -> np.ndarray:
        return self["T"] + self["D"]


def months_since_epoch(dates) -> np.ndarray:
    """Month index (0 = January 1850) of each date."""
    idx = pd.DatetimeIndex(pd.to_datetime(dates))
    ep = pd.Timestamp(EPOCH)
    return ((idx.year - ep.year) * 12 + (idx.month - ep.month)).to_numpy(dtype=np.int64)


def _matrices(cfg: EnsoConfig):
    A = np.array([[cfg.R + cfg.c_tau * cfg.b_tau, cfg.gamma],
                  [-cfg.a_tau * cfg.b_tau, -cfg.r]])
    return scipy.linalg.expm(A), scipy.linalg.expm(A / 2.0)


@functools.lru_cache(maxsize=16)
def _run(seed: int, cfg: EnsoConfig, n_blocks: int) -> np.ndarray:
    """Monthly states from the start of the spin-up, ``(months, 4)``: T, h, tau, D."""
    M, M_half = _matrices(cfg)
    phi_d = np.exp(-1.0 / cfg.background_tau_months)
    years = n_blocks * _BLOCK_YEARS + cfg.spinup_years
    out = np.empty((years * 12, 4))
    x = np.zeros(2)
    d = 0.0
    for y in range(years):
        year_index = y - cfg.spinup_years
        eps = np.random.default_rng([seed, STREAMS["enso"], year_index + OFFSET]).standard_normal((12, 4))
        for k in range(12):
            xi_t, xi_h, zeta, xi_d = eps[k]
            tau = cfg.b_tau * x[0] + cfg.sigma_tau * zeta
            out[y * 12 + k] = (x[0], x[1], tau, d)
            kick = np.array([cfg.sigma_T * xi_t + cfg.c_tau * cfg.sigma_tau * zeta,
                             cfg.sigma_h * xi_h - cfg.a_tau * cfg.sigma_tau * zeta])
            x = M @ x + M_half @ kick
            d = phi_d * d + np.sqrt(1.0 - phi_d**2) * cfg.background_std_k * xi_d
    return out


def monthly_state(seed: int, cfg: EnsoConfig, months: np.ndarray) -> EnsoState:
    """State for each month index (0 = January 1850); months must be >= 0."""
    months = np.asarray(months, dtype=np.int64)
    if months.size and months.min() < 0:
        raise ValueError(f"ENSO months start at {EPOCH}; found month index {months.min()}")
    need = int(months.max()) + 2 if months.size else 1
    n_blocks = max(1, -(-need // (12 * _BLOCK_YEARS)))
    run = _run(int(seed), cfg, n_blocks)[cfg.spinup_years * 12:]
    rows = run[months]
    return EnsoState(T=rows[:, 0], h=rows[:, 1], tau=rows[:, 2], D=rows[:, 3])


def daily_state(seed: int, cfg: EnsoConfig, days: np.ndarray) -> EnsoState:
    """State on each day (days since the epoch), interpolated between mid-months."""
    dates = pd.DatetimeIndex((EPOCH + np.asarray(days, dtype=np.int64).astype("timedelta64[D]")))
    m = months_since_epoch(dates)
    frac = (dates.day.to_numpy() - 0.5) / dates.days_in_month.to_numpy() - 0.5  # -0.5..0.5
    nb = np.where(frac >= 0, m + 1, np.maximum(m - 1, 0))
    here, there = monthly_state(seed, cfg, m), monthly_state(seed, cfg, nb)
    w = np.abs(frac)
    return EnsoState({k: (1 - w) * here[k] + w * there[k] for k in here})


def _lon360(lon):
    return np.asarray(lon, dtype=np.float64) % 360.0


def _raw_sst(lat, lon):
    return np.exp(-(np.asarray(lat) / 9.0) ** 2) * np.exp(-((_lon360(lon) - 235.0) / 38.0) ** 2)


def _raw_background(lat, lon):
    return np.exp(-(np.asarray(lat) / 16.0) ** 2) * pacific_weight(lon) * (0.5 + 0.5 * east_pacific_weight(lon))


@functools.lru_cache(maxsize=None)
def _box_mean(which: str) -> float:
    lat = np.linspace(-4.9, 4.9, 99)[:, None]
    lon = np.linspace(-169.9, -120.1, 499)[None, :]
    f = {"sst": _raw_sst, "background": _raw_background}[which](lat, lon)
    w = np.cos(np.deg2rad(lat)) * np.ones_like(lon)
    return float((f * w).sum() / w.sum())


def sst_pattern(lat, lon) -> np.ndarray:
    """SST anomaly per K of ``T`` (unit mean over the Nino3.4 box)."""
    return _raw_sst(lat, lon) / _box_mean("sst")


def background_pattern(lat, lon) -> np.ndarray:
    """SST anomaly per K of the slow background ``D`` (unit Nino3.4 mean)."""
    return _raw_background(lat, lon) / _box_mean("background")


def thermocline_anomaly(lat, lon, h, tau, cfg: EnsoConfig) -> np.ndarray:
    """Thermocline depth anomaly (m, positive = deeper); ``h``, ``tau`` broadcast first."""
    eq = np.exp(-(np.asarray(lat) / 8.0) ** 2) * pacific_weight(lon)
    return eq * (h + cfg.tilt_m_per_n_m2 * tau * east_pacific_weight(lon))


def wind_pattern(lat, lon) -> np.ndarray:
    """Zonal wind anomaly per unit of the index (peak 1 at the equator on the dateline)."""
    return np.exp(-(np.asarray(lat) / 10.0) ** 2) * np.exp(-((_lon360(lon) - 180.0) / 30.0) ** 2)
