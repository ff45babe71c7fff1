"""Daily ocean physics: thetao, so, uo, vo, zos from climatology plus dynamics.

For a day ``d`` and a point, with ``z`` depth (m), ``phi`` latitude:

Sea surface height (m)

    zos_L = MDT + fronts + 0.01 (SST_season + SST_f + SST_n) + g' (dz_ENSO + dz_n)
            + 0.01 SST_ENSO + zeta                                      (large scale)
    zos   = zos_L + zeta_ss,   zeta_ss = L |grad zos_L| b(lat, lon)     (small scale)

where ``zeta`` are the eddies (``ocean.synthetic.eddies``), ``g' = 0.006``,
``b`` the bathymetric relief pattern (``ocean.synthetic.geography``) and
``L = 3 km``: the small-scale anomalies are strongest at fronts and follow
seamounts and ridges, so they are learnable from the coarse state plus
high-resolution bathymetry.

Temperature (degrees C)

    z_th   = z_th,clim + dz_ENSO + zeta / g' + dz_n                  (thermocline heave)
    thetao = T_b(z) + (SST_mean + fronts + SST_ENSO - T_b(0)) F(z; z_th)
             + SST_season e^{-z/50} + (SST_f + SST_n) e^{-z/40}
             + 4 zeta e^{-z/80} + 6 zeta_ss e^{-z/150}

(``F``, ``T_b``: ``ocean.synthetic.climatology``), with a smooth floor at
-1.9 degrees C. ``SST_f`` is the response to the weather's t2m anomaly,
``SST_f(d) = gain sum_k (1 - e^{-1/tau}) e^{-k/tau} t2m'(d - k)``, i.e.
``dSST_f/dt = (gain t2m' - SST_f) / tau`` with ``tau = 8`` days, so a model
that is given the forcing can beat persistence. ``SST_n`` (0.3 K,
``tau = 25`` d) and ``dz_n`` (3 m, ``tau = 30`` d) are ocean-intrinsic red
noise of smooth modes ("smooth" red noise: a 3-day and a slow exponential
kernel convolved, so a day's new information is small). ENSO: ``SST_ENSO = T P_T + D P_D`` and ``dz_ENSO``
from ``ocean.synthetic.enso``. Western-boundary fronts (Kuroshio near 35N
from 125E, Gulf Stream from 34N 78W to 43N 45W) are ``tanh`` steps of
2.5 K and 0.45 m (0.8 degrees wide, fading 10 degrees away from the axis)
whose latitude meanders with red noise (30 days).

Salinity ``so = 34.7 + (S_surf - 34.7) F(z; z_th + 60) + 0.05 N_s e^{-z/100} + 0.5 zeta e^{-z/100}``.

Currents (m s-1) are geostrophic from ``zos`` with the regularised
``1/f -> f / (f^2 + f0^2)`` (``f0 = f(5 degrees)``), decaying with depth,
plus Ekman drift from the daily-mean wind and an equatorial undercurrent:

    (u, v)_g = g/f (-d zos/dy, d zos/dx) (0.1 + 0.9 e^{-z/400})
    u_E + i v_E = 0.02 (u10 + i v10) exp(-i 45deg tanh(phi / 10)) e^{-z/30}
    u_EUC = 0.8 exp(-(phi / 1.5)^2) exp(-((z - z_th) / 50)^2) P(lon)

Gradients are analytic for the noise modes and eddies, and central
differences with a fixed 0.001-degree step for the other analytic terms,
so values at a point never depend on the grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocean.grid import EARTH_RADIUS
from ocean.synthetic import atmosphere as atm
from ocean.synthetic import climatology as clim
from ocean.synthetic import eddies as edd
from ocean.synthetic import enso
from ocean.synthetic.config import SyntheticConfig
from ocean.synthetic.geography import pacific_weight
from ocean.synthetic.noise import STREAMS, SpectralBasis, filtered, response_kernel, season_phase, smooth_kernel

__all__ = ["Known", "OCEAN_BASIS", "DayForcing", "ocean_series", "ocean_day", "front_fields"]

GRAVITY = 9.81
OCEAN_BASIS = SpectralBasis(n_lat=36, n_lon=36, k0=14.0, slope=3.0)
STERIC = 0.01  # m of sea level per K of mixed-layer temperature anomaly
_DELTA = 1e-3  # degrees, step of the numerical gradients
_OMEGA = 7.2921e-5


@dataclass(frozen=True)
class Known:
    """What a forecast knows: innovations after these days are taken as zero.

    ``None`` means everything (the truth). Climatology is
    ``Known(ocean_until=-10**9, forcing_until=-10**9, enso=False)``.
    """

    ocean_until: int | None = None
    forcing_until: int | None = None
    enso: bool = True

    @classmethod
    def climatology(cls) -> "Known":
        return cls(-(10**9), -(10**9), False)


def ocean_series(seed: int, cfg: SyntheticConfig, days: np.ndarray, known: Known) -> dict:
    """Coefficient series for a block of days (vectorised over time).

    Returns ``weather`` and ``response`` (dicts of ``(T, BASIS.size)``),
    ``sst``, ``heave``, ``salinity`` ``(T, OCEAN_BASIS.size)``, ``front``
    ``(T, 4)`` and ``enso`` (an :class:`~ocean.synthetic.enso.EnsoState`).
    """
    oc = cfg.ocean
    cut = known.ocean_until
    size = OCEAN_BASIS.size
    weather = atm.daily_coefficients(seed, cfg.weather, days, known.forcing_until)
    response = atm.daily_coefficients(seed, cfg.weather, days, known.forcing_until,
                                      response=response_kernel(oc.response_tau_days))
    state = enso.daily_state(seed, cfg.enso, days)
    if not known.enso:
        state = enso.EnsoState({k: np.zeros_like(v) for k, v in state.items()})
    return {
        "weather": weather,
        "response": response,
        "sst": filtered(seed, STREAMS["sst"], days, size, smooth_kernel(oc.sst_tau_days), cut),
        "heave": filtered(seed, STREAMS["heave"], days, size, smooth_kernel(oc.heave_tau_days), cut),
        "salinity": filtered(seed, STREAMS["salinity"], days, size, smooth_kernel(oc.salinity_tau_days), cut),
        "front": filtered(seed, STREAMS["front"], days, 4, smooth_kernel(oc.front_tau_days), cut),
        "enso": state,
    }


def front_fields(lat, lon, meander: np.ndarray, amplitude_deg: float):
    """Western-boundary-current fronts: SST (K) and zos (m) steps, ``(Y, X)``.

    ``meander`` holds four unit red-noise values (two per current).
    """
    lat = np.asarray(lat, dtype=np.float64)[:, None] if np.ndim(lat) == 1 else lat
    lon = np.asarray(lon, dtype=np.float64)[None, :] if np.ndim(lon) == 1 else lon
    x = lon % 360.0
    kx = 2 * np.pi * x / 14.0
    # Kuroshio: from the Asian coast (~125E) to ~175E, near 35N.
    env_k = _window(x, 124.0, 172.0, 6.0)
    lat_k = 34.5 + amplitude_deg * (meander[0] * np.sin(kx) + meander[1] * np.cos(kx)) * _window(x, 138, 200, 8)
    # Gulf Stream: leaves the coast near 34N 78W, runs north-east to ~43N 45W.
    xg = (lon + 180.0) % 360.0 - 180.0
    env_g = _window(xg, -80.0, -42.0, 5.0)
    lat_g = 34.0 + 0.24 * (xg + 78.0) + amplitude_deg * (meander[2] * np.sin(kx) + meander[3] * np.cos(kx)) \
        * _window(xg, -72.0, -30.0, 6.0)
    step = (env_k * np.tanh((lat - lat_k) / 0.8) * np.exp(-((lat - lat_k) / 10.0) ** 2)
            + env_g * np.tanh((lat - lat_g) / 0.8) * np.exp(-((lat - lat_g) / 10.0) ** 2))
    return -2.5 * step, -0.45 * step


def _window(x, lo, hi, width):
    return 0.25 * (1.0 + np.tanh((x - lo) / width)) * (1.0 + np.tanh((hi - x) / width))


@dataclass
class DayForcing:
    """One day's atmospheric state as the ocean sees it, ``(Y, X)`` each (daily means)."""

    u10: np.ndarray
    v10: np.ndarray
    t2m: np.ndarray
    msl: np.ndarray
    sp: np.ndarray


def forcing_day(surface: atm.Surface, cfg: SyntheticConfig, day: int, coeffs: dict, tau: float) -> DayForcing:
    """Daily-mean forcing from one day's weather coefficients and ENSO wind-stress index."""
    c = atm.climatology(surface, day + 11.5 / 24.0)
    a = atm.anomalies(coeffs, surface, cfg.weather)
    u_enso = cfg.enso.wind_per_tau * tau * enso.wind_pattern(surface.lat[:, None], surface.lon[None, :])
    msl = c["msl"] + a["msl"]
    return DayForcing(c["u10"] + a["u10"] + u_enso, c["v10"] + a["v10"], c["t2m"] + a["t2m"], msl,
                      c["sp"] + a["msl"] * (c["sp"] / c["msl"]))


def numerical_gradient(fn, lat, lon):
    """Central differences (per radian) of ``fn(lat, lon) -> (Y, X)`` with a fixed step."""
    h = np.deg2rad(2 * _DELTA)
    d_lat = (fn(lat + _DELTA, lon) - fn(lat - _DELTA, lon)) / h
    d_lon = (fn(lat, lon + _DELTA) - fn(lat, lon - _DELTA)) / h
    return d_lat, d_lon


def ocean_day(ctx, i: int, day: int, series: dict, known: Known) -> dict:
    """All ocean fields of one day on the context's grid and levels (NaN not yet applied).

    ``ctx`` is a :class:`ocean.synthetic.model.Context`, ``i`` the day's
    row in ``series`` (:func:`ocean_series`). Returns ``thetao``, ``so``,
    ``uo``, ``vo`` ``(Z, Y, X)``, ``zos`` ``(Y, X)`` and, for the
    biogeochemistry, ``forcing`` (:class:`DayForcing`), ``z_th`` ``(Y, X)``,
    ``enso`` (the day's scalars) and ``phase`` (of the year, radians).
    """
    cfg, lat, lon = ctx.config, ctx.lat, ctx.lon
    t = day + 0.5
    phase = float(season_phase(t))
    st = {k: float(v[i]) for k, v in series["enso"].items()}
    weather = {k: v[i] for k, v in series["weather"].items()}
    forcing = forcing_day(ctx.surface, cfg, day, weather, st["tau"])
    resp = atm.anomalies({k: v[i] for k, v in series["response"].items()}, ctx.surface, cfg.weather)
    sst_f = cfg.ocean.response_gain * resp["t2m"]
    sst_n, dsst_lat, dsst_lon = OCEAN_BASIS.evaluate(series["sst"][i], lat, lon, gradient=True)
    heave, dh_lat, dh_lon = OCEAN_BASIS.evaluate(series["heave"][i], lat, lon, gradient=True)
    sst_n, dsst_lat, dsst_lon = (cfg.ocean.sst_std_k * a for a in (sst_n, dsst_lat, dsst_lon))
    heave, dh_lat, dh_lon = (cfg.ocean.heave_std_m * a for a in (heave, dh_lat, dh_lon))
    eds = edd.alive(ctx.seed, cfg.eddies, day, known.ocean_until)
    zeta, dz_lat, dz_lon = edd.evaluate(eds, day, ctx.grid, gradient=True)
    meander = series["front"][i]

    def dynamic_zos(la, lo):  # time-dependent analytic terms (no noise modes or eddies)
        la2, lo2 = la[:, None], lo[None, :]
        _, zf = front_fields(la, lo, meander, cfg.ocean.front_meander_deg)
        sst_enso = st["T"] * enso.sst_pattern(la2, lo2) + st["D"] * enso.background_pattern(la2, lo2)
        dz_enso = enso.thermocline_anomaly(la2, lo2, st["h"], st["tau"], cfg.enso)
        return zf + STERIC * (clim.sst_seasonal(la2, phase) + sst_enso) + cfg.eddies.reduced_gravity * dz_enso

    gp = cfg.eddies.reduced_gravity
    zos_l = ctx.mdt + dynamic_zos(lat, lon) + STERIC * (sst_f + sst_n) + gp * heave + zeta
    g_lat, g_lon = numerical_gradient(dynamic_zos, lat, lon)
    g_lat, g_lon = g_lat + ctx.mdt_grad[0], g_lon + ctx.mdt_grad[1]
    # The forced SST's steric gradient is left out of the currents (its geostrophic flow is < 1 mm/s).
    g_lat = g_lat + STERIC * dsst_lat + gp * dh_lat + dz_lat
    g_lon = g_lon + STERIC * dsst_lon + gp * dh_lon + dz_lon
    return _assemble(ctx, phase, st, forcing, zos_l, (g_lat, g_lon), sst_f + sst_n, heave, zeta,
                     series["salinity"][i], meander)


def _assemble(ctx, phase, st, forcing, zos_l, grad, sst_fast, heave, zeta, sal_coef, meander) -> dict:
    cfg, lat, lon = ctx.config, ctx.lat, ctx.lon
    la2, lo2 = lat[:, None], lon[None, :]
    coslat = np.cos(np.deg2rad(la2))
    dy, dx = grad[0] / EARTH_RADIUS, grad[1] / (EARTH_RADIUS * coslat)
    grad_norm = np.hypot(dy, dx)
    ss = cfg.small_scale
    zeta_ss = ss.length_m * grad_norm * ctx.relief
    zos = zos_l + zeta_ss
    dy = dy + ss.length_m * grad_norm * ctx.relief_grad[0] / EARTH_RADIUS
    dx = dx + ss.length_m * grad_norm * ctx.relief_grad[1] / (EARTH_RADIUS * coslat)

    z = ctx.depth[:, None, None]
    sst_front, _ = front_fields(lat, lon, meander, cfg.ocean.front_meander_deg)
    sst_enso = st["T"] * enso.sst_pattern(la2, lo2) + st["D"] * enso.background_pattern(la2, lo2)
    dz_enso = enso.thermocline_anomaly(la2, lo2, st["h"], st["tau"], cfg.enso)
    z_th = ctx.z_th_clim + dz_enso + zeta / cfg.eddies.reduced_gravity + heave
    shape = clim.profile_shape(z, z_th[None])
    slow = ctx.sst_mean + sst_front + sst_enso
    t = (ctx.t_deep + (slow - ctx.t_deep_surface)[None] * shape
         + clim.sst_seasonal(la2, phase)[None] * np.exp(-z / clim.SEASON_DECAY_M)
         + sst_fast[None] * np.exp(-z / 40.0)
         + cfg.eddies.sst_per_m * zeta[None] * np.exp(-z / cfg.eddies.sst_decay_m)
         + ss.sst_per_m * zeta_ss[None] * np.exp(-z / ss.decay_m))
    thetao = np.where(t < -1.0, -1.9 + 0.9 * np.exp((t + 1.0) / 0.9), t)
    sal_noise = cfg.ocean.salinity_std * OCEAN_BASIS.evaluate(sal_coef, lat, lon)
    so = (34.7 + (ctx.s_surf - 34.7)[None] * clim.profile_shape(z, z_th[None] + 60.0)
          + (sal_noise + 0.5 * zeta)[None] * np.exp(-z / 100.0))
    uo, vo = _currents(ctx, z, dy, dx, forcing, z_th)
    return {"thetao": thetao, "so": so, "uo": uo, "vo": vo, "zos": zos, "forcing": forcing,
            "z_th": z_th, "enso": st, "phase": phase}


def _currents(ctx, z, dy, dx, forcing: DayForcing, z_th):
    lat = ctx.lat[:, None]
    f = 2 * _OMEGA * np.sin(np.deg2rad(lat))
    f0 = 2 * _OMEGA * np.sin(np.deg2rad(5.0))
    inv_f = f / (f * f + f0 * f0)
    ug, vg = -GRAVITY * inv_f * dy, GRAVITY * inv_f * dx
    decay = 0.1 + 0.9 * np.exp(-z / 400.0)
    turn = -np.deg2rad(45.0) * np.tanh(lat / 10.0)
    ue = 0.02 * (forcing.u10 * np.cos(turn) - forcing.v10 * np.sin(turn))
    ve = 0.02 * (forcing.u10 * np.sin(turn) + forcing.v10 * np.cos(turn))
    ekman = np.exp(-z / 30.0)
    euc = (0.8 * np.exp(-(lat / 1.5) ** 2) * pacific_weight(ctx.lon)[None, :])[None] \
        * np.exp(-((z - z_th[None]) / 50.0) ** 2)
    uo = np.clip(ug[None] * decay + ue[None] * ekman + euc, -4.5, 4.5)
    vo = np.clip(vg[None] * decay + ve[None] * ekman, -4.5, 4.5)
    return uo, vo
