"""Tunable constants of the synthetic ocean, grouped in small frozen dataclasses.

Every number that shapes the synthetic world's variability lives here, so the
benchmark (``benchmarks/synthetic_predictability.py``) and docs/synthetic.md
can name them. The defaults are the tuned values the documented figures come
from; change them only together with those figures.

Time scales are in days (months for ENSO), lengths in metres unless the name
says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "WeatherConfig",
    "OceanNoiseConfig",
    "EddyConfig",
    "EnsoConfig",
    "SmallScaleConfig",
    "SyntheticConfig",
    "DEFAULT_CONFIG",
]


@dataclass(frozen=True)
class WeatherConfig:
    """Atmospheric weather noise: red noise of spatially smooth modes."""

    tau_days: float = 4.0  # e-folding time of the weather red noise
    msl_std_pa: float = 1100.0  # pressure-anomaly amplitude at the poles (sin^2 lat profile)
    msl_std_tropics_pa: float = 250.0
    t2m_std_k: float = 1.6  # independent t2m anomaly: t2m_std_k (0.5 + 0.8 sin^2 lat) (1 + land)
    t2m_advection_k_per_ms: float = 0.25  # warm advection: t2m' += a * sign(lat) * v'
    tropical_wind_std: float = 1.6  # non-geostrophic wind noise near the equator, m s-1
    surface_wind_factor: float = 0.7  # surface wind / geostrophic wind
    friction_angle_deg: float = 20.0  # cross-isobar turning towards low pressure


@dataclass(frozen=True)
class OceanNoiseConfig:
    """Ocean-intrinsic noise and the upper ocean's response to the air.

    The intrinsic noises are "smooth" red noise (a 3-day and a ``tau``-day
    exponential kernel convolved, ``ocean.synthetic.noise.smooth_kernel``).
    """

    sst_tau_days: float = 25.0
    sst_std_k: float = 0.3
    heave_tau_days: float = 30.0  # thermocline heave noise (also seen in zos)
    heave_std_m: float = 3.0
    salinity_tau_days: float = 40.0
    salinity_std: float = 0.05
    response_tau_days: float = 8.0  # damping time of SST anomalies forced by t2m anomalies
    response_gain: float = 0.5  # SST anomaly per K of (low-passed) t2m anomaly
    front_tau_days: float = 30.0  # western-boundary-current meander red noise
    front_meander_deg: float = 1.2


@dataclass(frozen=True)
class EddyConfig:
    """Westward-propagating eddies and Rossby-wave packets with finite lifetimes."""

    births_per_day: int = 16
    lifetime_days: tuple[int, int] = (25, 110)
    max_lat: float = 65.0
    speed_equator: float = 0.6  # m s-1 westward, c(lat) = c0 / (1 + (lat / lat0)^2) + c_min
    speed_lat_scale: float = 12.0  # degrees
    speed_min: float = 0.02
    amplitude_m: float = 0.06  # zos amplitude scale (std of the signed amplitudes)
    boost_m: float = 0.10  # extra amplitude near the western-boundary-current extensions
    radius_km: tuple[float, float] = (90.0, 350.0)  # mid-latitude radius, extra tropical radius
    sst_per_m: float = 4.0  # surface temperature imprint, K per m of eddy zos
    sst_decay_m: float = 80.0
    reduced_gravity: float = 0.006  # g'/g: thermocline heave = zos / (g'/g)


@dataclass(frozen=True)
class EnsoConfig:
    """Recharge oscillator (monthly) plus a slow Pacific background mode.

    ``dT/dt = R T + gamma h + c tau + xi_T``, ``dh/dt = -r h - a tau``,
    ``tau = b T + sigma_tau zeta`` (rates per month, T in K, h in m, tau in
    N m-2). The slow background ``D`` is AR(1) with time scale
    ``background_tau_months``; the Nino3.4 anomaly is ``T + D``.
    """

    R: float = -0.030
    gamma: float = 0.00534
    r: float = 0.025
    c_tau: float = 3.0  # K per month per N m-2
    a_tau: float = 160.0  # m per month per N m-2 (westerly anomalies discharge the west)
    b_tau: float = 0.015  # N m-2 per K: wind-stress feedback
    sigma_T: float = 0.08  # K per month^0.5
    sigma_h: float = 0.8  # m per month^0.5
    sigma_tau: float = 0.003  # N m-2 (westerly wind bursts, monthly)
    background_tau_months: float = 96.0
    background_std_k: float = 0.55
    spinup_years: int = 60
    tilt_m_per_n_m2: float = 1500.0  # east-minus-west thermocline tilt anomaly per N m-2
    wind_per_tau: float = 80.0  # u10 anomaly (m s-1) per N m-2 of stress anomaly
    monthly_noise_k: float = 0.12  # monthly-mean weather residual in the ENSO fields


@dataclass(frozen=True)
class SmallScaleConfig:
    """Sub-1/4 degree, topographically steered anomalies."""

    length_m: float = 3000.0  # zos_ss = length * |grad zos_large| * b(bathymetry)
    sst_per_m: float = 6.0  # thetao_ss = sst_per_m * zos_ss * exp(-z / decay)
    decay_m: float = 150.0


@dataclass(frozen=True)
class SyntheticConfig:
    """All tunables of :class:`ocean.synthetic.SyntheticOcean`."""

    weather: WeatherConfig = field(default_factory=WeatherConfig)
    ocean: OceanNoiseConfig = field(default_factory=OceanNoiseConfig)
    eddies: EddyConfig = field(default_factory=EddyConfig)
    enso: EnsoConfig = field(default_factory=EnsoConfig)
    small_scale: SmallScaleConfig = field(default_factory=SmallScaleConfig)


DEFAULT_CONFIG = SyntheticConfig()
