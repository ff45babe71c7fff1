"""Atmospheric forcing: climatology plus spatially smooth red-noise weather.

Fields (canonical units): ``u10``, ``v10`` (m s-1), ``t2m`` (degrees C),
``msl``, ``sp`` (Pa); defined everywhere, also over land.

Climatology (``phi`` latitude, ``phi' = phi - 5 cos(phase - phase_Aug)``
follows the seasonal migration of the wind belts):

* ``u10 = -6 exp(-((|phi'| - 13) / 11)^2) + 8 (1 + 0.3 [SH]) exp(-((|phi'| - 47) / 10)^2)
  - 3 exp(-((|phi'| - 72) / 6)^2) - 1.5 exp(-(phi / 12)^2) P(lon)``
  (trades, westerlies, polar easterlies, a stronger Walker circulation);
  ``v10`` equatorward in the trades and poleward in the westerlies; winds
  over land are 0.6 times weaker;
* ``msl = 101300 + 900 exp(-((|phi'| - 30) / 10)^2) - 1400 exp(-((|phi'| - 62) / 10)^2)
  - 300 exp(-(phi' / 8)^2)`` + continental winter highs;
* ``t2m`` = SST climatology - 0.8 K over the ocean, blended (smooth land
  weight) with a land climate ``-12 + 39 cos(phi)^1.5`` with a 15 K
  seasonal amplitude and a lapse rate of 6.5 K/km; ``sp = msl exp(-z / 8400 m)``.

Weather anomalies: four red-noise streams (``tau = 4`` days, smooth modes of
:class:`~ocean.synthetic.noise.SpectralBasis`). The pressure anomaly
``p' = sigma_p(phi) N_p`` with ``sigma_p = 250 + 850 sin^2(phi)`` Pa drives
surface winds that are geostrophic, ``u_g = -(1/rho) f/(f^2 + f0^2) dp'/dy``,
``v_g = (1/rho) f/(f^2 + f0^2) dp'/dx`` (``f0 = f(10 degrees)``), reduced by
0.7 and turned 20 degrees towards low pressure, plus non-geostrophic noise
``1.6 exp(-(phi / 20)^2) N_u`` near the equator. The temperature anomaly is
``t2m' = 1.6 (0.5 + 0.8 sin^2 phi) (1 + land) N_T + 0.25 tanh(phi / 10) v'``
(K; the last term is warm advection by poleward wind).
ENSO adds a zonal wind anomaly over the central-west Pacific.

Hourly values interpolate the red-noise coefficients linearly between
noon anchors and add a diurnal t2m cycle (0.3 K over the ocean, 5 K over
land, peak at 14 h local time). The daily fields are exactly the means of
the 24 hourly ones for the noise and the diurnal cycle: the daily-mean
coefficient is ``0.1354 a(d-1) + 0.75 a(d) + 0.1146 a(d+1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocean.grid import EARTH_RADIUS
from ocean.synthetic import climatology as clim
from ocean.synthetic.config import WeatherConfig
from ocean.synthetic.geography import pacific_weight
from ocean.synthetic.noise import STREAMS, SpectralBasis, exp_kernel, filtered, season_phase

__all__ = [
    "BASIS",
    "WEATHER_STREAMS",
    "Surface",
    "daily_coefficients",
    "hourly_coefficients",
    "anomalies",
    "climatology",
    "diurnal",
    "inverse_coriolis",
    "RHO_AIR",
]

OMEGA = 7.2921e-5
RHO_AIR = 1.2
GRAVITY = 9.81
BASIS = SpectralBasis(n_lat=24, n_lon=24, k0=8.0, slope=3.0)
WEATHER_STREAMS = ("msl", "t2m", "wind_u", "wind_v")
#: Weights of a(d-1), a(d), a(d+1) in the mean of 24 hourly values of day d.
DAILY_MEAN_WEIGHTS = np.array([78.0, 432.0, 66.0]) / 576.0
_PEAK_PHASE_ATM = 2 * np.pi * 215 / 365.2425


@dataclass(frozen=True)
class Surface:
    """Static surface fields on a grid, shape ``(Y, X)`` each."""

    lat: np.ndarray
    lon: np.ndarray
    land: np.ndarray  # smooth land weight, 0..1
    elevation: np.ndarray  # m
    sst_mean: np.ndarray  # degrees C


def inverse_coriolis(lat) -> np.ndarray:
    """Regularised ``1/f``: ``f / (f^2 + f0^2)`` with ``f0 = f(10 degrees)``; 0 at the equator."""
    f = 2 * OMEGA * np.sin(np.deg2rad(np.asarray(lat, dtype=np.float64)))
    f0 = 2 * OMEGA * np.sin(np.deg2rad(10.0))
    return f / (f * f + f0 * f0)


def _daily_kernel(cfg: WeatherConfig) -> np.ndarray:
    """Kernel from innovations eps(d + 1 - k) to the daily-mean red-noise coefficient of day d."""
    return np.convolve(DAILY_MEAN_WEIGHTS[::-1], exp_kernel(cfg.tau_days))


def daily_coefficients(seed: int, cfg: WeatherConfig, days: np.ndarray, cutoff: int | None = None,
                       response: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Daily-mean weather coefficients per stream, ``(len(days), BASIS.size)`` each.

    With ``response`` (a kernel over days), returns the daily means filtered
    by it: the forcing history an ocean anomaly with that response has seen.
    """
    kernel = _daily_kernel(cfg)
    if response is not None:
        kernel = np.convolve(response, kernel)
    days = np.asarray(days, dtype=np.int64)
    return {s: filtered(seed, STREAMS[s], days + 1, BASIS.size, kernel, cutoff) for s in WEATHER_STREAMS}


def hourly_coefficients(seed: int, cfg: WeatherConfig, day: int) -> dict[str, np.ndarray]:
    """Coefficients at 00..23 UTC of ``day``, ``(24, BASIS.size)`` per stream."""
    kernel = exp_kernel(cfg.tau_days)
    anchors = np.array([day - 1, day, day + 1])
    h = np.arange(24)
    w_prev = np.clip(0.5 - h / 24.0, 0.0, None)
    w_next = np.clip((h - 12) / 24.0, 0.0, None)
    w_here = 1.0 - w_prev - w_next
    out = {}
    for s in WEATHER_STREAMS:
        a = filtered(seed, STREAMS[s], anchors, BASIS.size, kernel)
        out[s] = w_prev[:, None] * a[0] + w_here[:, None] * a[1] + w_next[:, None] * a[2]
    return out


def anomalies(coeffs: dict[str, np.ndarray], surface: Surface, cfg: WeatherConfig) -> dict[str, np.ndarray]:
    """Weather anomalies ``msl, u10, v10, t2m`` ``(Y, X)`` from one day's coefficients."""
    lat, lon = surface.lat, surface.lon
    phi = np.deg2rad(lat)[:, None]
    s2 = np.sin(phi) ** 2
    sigma_p = cfg.msl_std_tropics_pa + (cfg.msl_std_pa - cfg.msl_std_tropics_pa) * s2
    dsigma = (cfg.msl_std_pa - cfg.msl_std_tropics_pa) * 2 * np.sin(phi) * np.cos(phi)
    n, n_lat, n_lon = BASIS.evaluate(coeffs["msl"], lat, lon, gradient=True)
    p = sigma_p * n
    dp_dy = (dsigma * n + sigma_p * n_lat) / EARTH_RADIUS
    dp_dx = sigma_p * n_lon / (EARTH_RADIUS * np.cos(phi))
    inv_f = inverse_coriolis(lat)[:, None]
    ug, vg = -inv_f * dp_dy / RHO_AIR, inv_f * dp_dx / RHO_AIR
    turn = np.deg2rad(cfg.friction_angle_deg) * np.tanh(lat / 5.0)[:, None]
    k = cfg.surface_wind_factor
    tropical = cfg.tropical_wind_std * np.exp(-(lat / 20.0) ** 2)[:, None]
    u = k * (ug * np.cos(turn) - vg * np.sin(turn)) + tropical * BASIS.evaluate(coeffs["wind_u"], lat, lon)
    v = k * (ug * np.sin(turn) + vg * np.cos(turn)) + tropical * BASIS.evaluate(coeffs["wind_v"], lat, lon)
    sigma_t = cfg.t2m_std_k * (0.5 + 0.8 * s2) * (1.0 + surface.land)
    t = sigma_t * BASIS.evaluate(coeffs["t2m"], lat, lon)
    t = t + cfg.t2m_advection_k_per_ms * np.tanh(lat / 10.0)[:, None] * v
    return {"msl": p, "u10": u, "v10": v, "t2m": t}


def _belts(lat, phase):
    shifted = np.asarray(lat) - 5.0 * np.cos(phase - _PEAK_PHASE_ATM)
    return shifted, np.abs(shifted)


def climatology(surface: Surface, t_days: float) -> dict[str, np.ndarray]:
    """Climatological ``msl, u10, v10, t2m, sp`` at time ``t_days`` (days since the epoch)."""
    phase = float(season_phase(t_days))
    lat, lon = surface.lat[:, None], surface.lon[None, :]
    sh, a = _belts(lat, phase)
    sign = np.tanh(sh / 4.0)
    g = lambda x, w: np.exp(-(x / w) ** 2)  # noqa: E731
    u = (-6.0 * g(a - 13.0, 11.0) + 8.0 * (1.0 + 0.3 * (sh < 0)) * g(a - 47.0, 10.0)
         - 3.0 * g(a - 72.0, 6.0) - 1.5 * g(lat, 12.0) * pacific_weight(lon))
    v = -2.5 * sign * g(a - 12.0, 8.0) + 1.5 * sign * g(a - 45.0, 10.0)
    reduce = 1.0 - 0.4 * surface.land
    winter = -np.cos(phase - _PEAK_PHASE_ATM) * np.tanh(lat / 10.0)
    msl = (101300.0 + 900.0 * g(a - 30.0, 10.0) - 1400.0 * g(a - 62.0, 10.0) - 300.0 * g(sh, 8.0)
           + 1000.0 * surface.land * winter * g(np.abs(lat) - 50.0, 20.0))
    ocean_t = surface.sst_mean + 1.1 * clim.sst_seasonal(lat, phase) - 0.8
    land_season = 15.0 * np.sin(np.deg2rad(lat)) * np.abs(np.sin(np.deg2rad(lat))) ** 0.5
    land_t = (-12.0 + 39.0 * np.cos(np.deg2rad(lat)) ** 1.5 + land_season * np.cos(phase - _PEAK_PHASE_ATM)
              - 6.5e-3 * surface.elevation)
    t2m = (1.0 - surface.land) * ocean_t + surface.land * land_t
    msl = np.broadcast_to(msl, surface.land.shape)
    return {"msl": msl, "u10": u * reduce, "v10": v * reduce, "t2m": t2m,
            "sp": msl * np.exp(-surface.elevation / 8400.0)}


def diurnal(surface: Surface, hour_utc: float) -> np.ndarray:
    """Diurnal t2m anomaly (K) at ``hour_utc``; sums to zero over 24 hourly steps."""
    local = hour_utc + surface.lon[None, :] / 15.0
    amp = 0.3 + 4.7 * surface.land
    return amp * np.cos(2 * np.pi * (local - 14.0) / 24.0)


def wind_speed_to_stress(u, v) -> tuple[np.ndarray, np.ndarray]:
    """Bulk wind stress (N m-2): ``rho C_d |U| U`` with ``C_d = 1.3e-3``."""
    speed = np.sqrt(u * u + v * v)
    return RHO_AIR * 1.3e-3 * speed * u, RHO_AIR * 1.3e-3 * speed * v
