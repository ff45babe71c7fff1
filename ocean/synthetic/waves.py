"""Waves from the winds: significant height, mean period, mean direction (daily means).

* Wind sea relaxes towards the Pierson-Moskowitz-like equilibrium
  ``Hs_eq = min(0.21 U^2 / g, 14 m)`` with ``U^2 = u10^2 + v10^2 + (2 m/s)^2``
  (daily-mean wind plus sub-daily gustiness), with a memory of about a day:
  ``Hs_w(d) = sum_{k=0}^{3} w_k Hs_eq(d - k)``, ``w_k ~ e^{-k}`` normalised.
* Swell varies smoothly: ``Hs_s = S(phi) exp(0.35 N_s - 0.06)`` with
  ``S = 0.8 + 1.6 e^{-((phi + 50)/14)^2} + 0.9 e^{-((phi - 50)/14)^2}`` m and
  ``N_s`` red noise of large-scale modes (6 days).
* ``VHM0 = sqrt(Hs_w^2 + Hs_s^2)``;
  ``VTM02 = 3.5 sqrt(VHM0) (1 + 0.05 N_p) + 2.5 Hs_s^2 / VHM0^2`` s (swell is longer),
  clipped to 1.5-20 s.
* ``VMDR`` (degrees, the direction waves come *from*, 0-360 clockwise from
  north): the energy-weighted mean of the wind's from-direction
  ``(270 - atan2(v10, u10)) mod 360`` and the swell's (from the south-west
  south of 20S, from the north-west north of 20N, blended between).

Land is NaN; there is no sea-ice mask (waves exist at all ocean latitudes).
"""

from __future__ import annotations

import numpy as np

from ocean.synthetic import atmosphere as atm
from ocean.synthetic.noise import STREAMS, exp_kernel, filtered

__all__ = ["MEMORY_WEIGHTS", "wave_series", "equilibrium_height", "waves_day"]

MEMORY_WEIGHTS = np.exp(-np.arange(4.0)) / np.exp(-np.arange(4.0)).sum()


def wave_series(seed: int, days: np.ndarray, cutoff: int | None = None) -> dict[str, np.ndarray]:
    """Swell (6-day) and period (2-day) noise coefficients, ``(len(days), BASIS.size)``."""
    size = atm.BASIS.size
    return {
        "swell": filtered(seed, STREAMS["swell"], days, size, exp_kernel(6.0), cutoff),
        "period": filtered(seed, STREAMS["period"], days, size, exp_kernel(2.0), cutoff),
    }


def equilibrium_height(u10, v10) -> np.ndarray:
    """Fully developed wind-sea height (m) for daily-mean winds."""
    return np.minimum(0.21 * (u10 * u10 + v10 * v10 + 4.0) / atm.GRAVITY, 14.0)


def waves_day(lat, lon, winds: list, swell_coef, period_coef) -> dict[str, np.ndarray]:
    """Wave fields ``(Y, X)``; ``winds`` holds ``(u10, v10)`` of days d, d-1, d-2, d-3."""
    hs_w = sum(w * equilibrium_height(u, v) for w, (u, v) in zip(MEMORY_WEIGHTS, winds))
    la = np.asarray(lat)[:, None]
    swell_scale = 0.8 + 1.6 * np.exp(-((la + 50.0) / 14.0) ** 2) + 0.9 * np.exp(-((la - 50.0) / 14.0) ** 2)
    hs_s = swell_scale * np.exp(0.35 * atm.BASIS.evaluate(swell_coef, lat, lon) - 0.06)
    e_w, e_s = hs_w**2, hs_s**2
    hs = np.sqrt(e_w + e_s)
    period = 3.5 * np.sqrt(hs) * (1.0 + 0.05 * atm.BASIS.evaluate(period_coef, lat, lon)) + 2.5 * e_s / (e_w + e_s)
    u, v = winds[0]
    wind_from = np.deg2rad((270.0 - np.rad2deg(np.arctan2(v, u))) % 360.0)
    blend = 0.5 * (1.0 + np.tanh(la / 20.0))
    swell_from = np.deg2rad(225.0 + 90.0 * blend)
    x = e_w * np.sin(wind_from) + e_s * np.sin(swell_from)
    y = e_w * np.cos(wind_from) + e_s * np.cos(swell_from)
    direction = np.rad2deg(np.arctan2(x, y)) % 360.0
    direction = np.where(direction >= 359.9995, 0.0, direction)  # stays below 360 in float32
    return {"VHM0": hs, "VTM02": np.clip(period, 1.5, 20.0), "VMDR": direction}
