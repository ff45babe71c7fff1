"""Biogeochemistry diagnosed from the day's physics: nutrients, chlorophyll, O2, NPP.

Units as CMEMS BIO: ``chl`` mg m-3, ``no3``, ``po4``, ``si``, ``o2`` mmol m-3,
``nppv`` mg m-3 day-1. Everything is non-negative by construction.

* Upwelling ``U = e^{-(phi/3)^2} (0.3 + 0.9 s_E) clip(-u10 / 6, 0, 1.5)`` (equatorial,
  driven by the day's easterlies, so ENSO and the weather modulate it)
  ``+ 1.2 EB (1 + 0.4 cos(phase - summer))`` (eastern boundaries)
  ``+ 0.6 e^{-((phi + 58)/8)^2}`` (Southern Ocean divergence);
  winter mixing ``M = S((|phi| - 30)/20) max(0, -sign(phi) cos(phase - Aug))``.
* Nitrate follows the thermocline:
  ``no3 = N_d + (N_s - N_d) F(z; z_th)`` with ``N_s = 0.05 + 10 U + 6 M + 12 S((|phi| - 40)/25)``
  and ``N_d = 32 + 8 e^{-((phi + 60)/15)^2} - 8 e^{-((|phi| - 25)/12)^2}``;
  ``po4 = no3 / 15 + 0.1``; ``si = no3 (0.6 + 2 S((-phi - 40)/20)) + 1``.
* Light ``I = max(0.05, cos(phi - declination)) e^{-z/25 m}``.
* Chlorophyll (nutrient-limited, Michaelis-Menten, times light and an
  Eppley temperature factor, with log-normal red noise):
  ``chl = 4.5 no3/(no3 + 2) I/(I + 0.15) 1.066^(T - 20) exp(0.25 N_b - 0.03)``;
  values span ~0.02 (gyres) to ~5 mg m-3 (upwelling) with a deep maximum.
* Oxygen: solubility minus utilisation,
  ``o2 = 366 e^{-0.0201 T} (1 - 0.003 (S - 35)) (1 - u (1 - e^{-z/150}) + 0.03 chl/(chl + 1) e^{-z/30})``
  with ``u = 0.35 + 0.6 e^{-(phi/15)^2} s_E`` (an eastern-Pacific oxygen minimum).
* ``nppv = 18 chl I/(I + 0.15) 1.066^(T - 20)``.
"""

from __future__ import annotations

import numpy as np

from ocean.synthetic import climatology as clim
from ocean.synthetic.geography import east_pacific_weight
from ocean.synthetic.noise import STREAMS, exp_kernel, filtered

__all__ = ["bgc_series", "bgc_day", "BGC_NOISE_TAU"]

BGC_NOISE_TAU = 10.0
_AUG = 2 * np.pi * 227 / 365.2425
_SPRING = 2 * np.pi * 80 / 365.2425


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def bgc_series(seed: int, days: np.ndarray, size: int, cutoff: int | None = None) -> np.ndarray:
    """Chlorophyll noise coefficients, ``(len(days), size)``."""
    return filtered(seed, STREAMS["bgc"], days, size, exp_kernel(BGC_NOISE_TAU), cutoff)


def _surface_nutrients(lat, lon, phase, u10, eastern_boundary):
    la = lat[:, None]
    eq = np.exp(-(la / 3.0) ** 2) * (0.3 + 0.9 * east_pacific_weight(lon)[None, :]) * np.clip(-u10 / 6.0, 0.0, 1.5)
    eb = 1.2 * eastern_boundary * (1.0 + 0.4 * np.cos(phase - _AUG) * np.sign(la))
    so = 0.6 * np.exp(-((la + 58.0) / 8.0) ** 2)
    winter = _smoothstep((np.abs(la) - 30.0) / 20.0) * np.maximum(0.0, -np.sign(la) * np.cos(phase - _AUG))
    upwelling = eq + eb + so
    n_s = 0.05 + 10.0 * upwelling + 6.0 * winter + 12.0 * _smoothstep((np.abs(la) - 40.0) / 25.0)
    n_d = 32.0 + 8.0 * np.exp(-((la + 60.0) / 15.0) ** 2) - 8.0 * np.exp(-((np.abs(la) - 25.0) / 12.0) ** 2)
    return n_s, n_d


def bgc_day(ctx, phys: dict, noise: np.ndarray) -> dict:
    """Biogeochemistry ``(Z, Y, X)`` from one day's physics (``ocean_day`` output).

    ``noise`` is a unit-variance field ``(Y, X)`` (log-normal chlorophyll noise).
    """
    lat, lon, phase = ctx.lat, ctx.lon, phys["phase"]
    z = ctx.depth[:, None, None]
    temp, sal = phys["thetao"], phys["so"]
    n_s, n_d = _surface_nutrients(lat, lon, phase, phys["forcing"].u10, ctx.eastern_boundary)
    shape = clim.profile_shape(z, phys["z_th"][None])
    no3 = n_d[None] + (n_s - n_d)[None] * shape
    decl = np.deg2rad(23.44) * np.sin(phase - _SPRING)
    light0 = np.maximum(0.05, np.cos(np.deg2rad(lat) - decl))[None, :, None]
    light = light0 * np.exp(-z / 25.0)
    light_lim = light / (light + 0.15)
    t_fac = 1.066 ** (np.clip(temp, -2.0, 35.0) - 20.0)
    chl = 4.5 * no3 / (no3 + 2.0) * light_lim * t_fac * np.exp(0.25 * noise - 0.03)[None]
    south = _smoothstep((-lat[:, None] - 40.0) / 20.0)
    util = 0.35 + 0.6 * np.exp(-(lat[:, None] / 15.0) ** 2) * east_pacific_weight(lon)[None, :]
    sat = 366.0 * np.exp(-0.0201 * temp) * (1.0 - 0.003 * (sal - 35.0))
    o2 = sat * (1.0 - util[None] * (1.0 - np.exp(-z / 150.0)) + 0.03 * chl / (chl + 1.0) * np.exp(-z / 30.0))
    return {
        "chl": chl,
        "no3": no3,
        "po4": no3 / 15.0 + 0.1,
        "si": no3 * (0.6 + 2.0 * south)[None] + 1.0,
        "o2": np.maximum(o2, 0.0),
        "nppv": 18.0 * chl * light_lim * t_fac,
    }
