"""Hourly atmospheric forcing (ERA5 delivers hourly fields).

Hour ``h`` of day ``d``: climatology at ``d + h/24``, weather from the
red-noise coefficients interpolated between noon anchors, the diurnal t2m
cycle and the day's ENSO wind anomaly. The mean of the 24 values equals
:meth:`SyntheticOcean.forcing` (daily) up to the curvature of the seasonal
cycle within a day (below 1e-4 of the field's range).
"""

from __future__ import annotations

import numpy as np

from ocean.synthetic import atmosphere as atm
from ocean.synthetic import enso

__all__ = ["hourly_forcing"]


def hourly_forcing(ctx, day: int) -> dict[str, np.ndarray]:
    """``u10, v10, t2m, msl, sp`` of the 24 hours of ``day``, ``(24, Y, X)`` each."""
    cfg = ctx.config
    coeffs = atm.hourly_coefficients(ctx.seed, cfg.weather, day)
    tau = float(enso.daily_state(ctx.seed, cfg.enso, np.array([day]))["tau"][0])
    u_enso = cfg.enso.wind_per_tau * tau * enso.wind_pattern(ctx.lat[:, None], ctx.lon[None, :])
    out: dict[str, list] = {k: [] for k in ("u10", "v10", "t2m", "msl", "sp")}
    for h in range(24):
        c = atm.climatology(ctx.surface, day + h / 24.0)
        a = atm.anomalies({k: v[h] for k, v in coeffs.items()}, ctx.surface, cfg.weather)
        out["u10"].append(c["u10"] + a["u10"] + u_enso)
        out["v10"].append(c["v10"] + a["v10"])
        out["t2m"].append(c["t2m"] + a["t2m"] + atm.diurnal(ctx.surface, float(h)))
        out["msl"].append(c["msl"] + a["msl"])
        out["sp"].append(c["sp"] + a["msl"] * (c["sp"] / c["msl"]))
    return {k: np.stack(v) for k, v in out.items()}
