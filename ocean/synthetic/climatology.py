"""Climatological ocean: mean SST, seasonal cycle, thermocline, salinity, profiles.

All functions are analytic in ``lat``, ``lon`` (degrees, broadcasting) and
depth ``z`` (m, positive down); ``phase`` is the phase of the year in
radians (0 at 1 January, :func:`ocean.synthetic.noise.season_phase`).

Equations (lat = phi, degrees unless inside a trigonometric function):

* mean SST  ``T0 = -1.5 + 29.5 cos(phi)^1.6`` plus a warm pool (+1 K at
  0N 150E), an equatorial cold tongue (-3.5 K, centred 110W), an Atlantic
  cold tongue (-1.5 K) and eastern-boundary upwelling (-3 K where land lies
  within 5 degrees to the east at 10-35 degrees of latitude);
* seasonal SST  ``A(phi) cos(phase - phase_peak)`` with ``A = 4 sin(2 phi)``
  (largest at 45 degrees, hemispheres opposite, peak in mid-August in the
  north), decaying with depth as ``exp(-z / 50 m)``;
* thermocline depth ``z_th = 50 + 150 exp(-((|phi| - 24) / 11)^2) +
  60 exp(-(phi / 6)^2) + 55 (1 - 2 s_E) P exp(-(phi / 10)^2)`` with the
  Pacific weight ``P`` and east weight ``s_E`` (deep warm pool, shallow east);
* profile ``T(z) = T_b(z) + (SST - T_b(0)) F(z; z_th)`` where
  ``T_b = 1.5 + (T_sub - 1.5) exp(-z / 800)``, ``T_sub = 4 + 9 cos(phi)^2``
  and ``F = (1 - tanh((z - z_th) / d)) / (1 - tanh(-z_th / d))``,
  ``d = 0.4 z_th + 10`` (``F(0) = 1``: a mixed layer over a tanh thermocline);
* salinity ``S = 34.7 + (S_surf - 34.7) F(z; z_th + 60)`` with a saltier
  subtropics and Atlantic and fresher equator and high latitudes;
* mean dynamic topography ``0.055 m/K (T0 - 15 K)`` (steric-like).
"""

from __future__ import annotations

import numpy as np

from ocean.synthetic.geography import east_pacific_weight, land_weight, pacific_weight

__all__ = [
    "sst_mean",
    "sst_seasonal",
    "thermocline_depth",
    "deep_temperature",
    "profile_shape",
    "salinity_surface",
    "mean_dynamic_topography",
    "SEASON_DECAY_M",
]

SEASON_DECAY_M = 50.0
_PEAK_PHASE_OCEAN = 2 * np.pi * 227 / 365.2425  # mid-August


def _g(x, w):
    return np.exp(-((np.asarray(x, dtype=np.float64)) / w) ** 2)


def _dlon(lon, centre):
    return (np.asarray(lon, dtype=np.float64) - centre + 180.0) % 360.0 - 180.0


def eastern_boundary(lat, lon) -> np.ndarray:
    """Coastal-upwelling weight (0..1): land just east, subtropical latitude."""
    east_land = land_weight(lat, np.asarray(lon) + 5.0)
    return east_land * (1.0 - land_weight(lat, lon)) * _g(np.abs(lat) - 22.0, 10.0)


def sst_mean(lat, lon) -> np.ndarray:
    """Annual-mean SST (degrees C) without fronts or anomalies."""
    lat = np.asarray(lat, dtype=np.float64)
    base = -1.5 + 29.5 * np.cos(np.deg2rad(lat)) ** 1.6
    warm_pool = 1.0 * _g(lat, 12.0) * _g(_dlon(lon, 150.0), 25.0)
    cold_tongue = -3.5 * _g(lat, 4.0) * _g(_dlon(lon, -110.0), 35.0)
    atl_tongue = -1.5 * _g(lat, 4.0) * _g(_dlon(lon, -15.0), 15.0)
    return base + warm_pool + cold_tongue + atl_tongue - 3.0 * eastern_boundary(lat, lon)


def sst_seasonal(lat, phase) -> np.ndarray:
    """Seasonal SST anomaly (K) at the surface; ``phase`` broadcasts against ``lat``."""
    amp = 4.0 * np.sin(2.0 * np.deg2rad(np.asarray(lat, dtype=np.float64)))
    return amp * np.cos(np.asarray(phase) - _PEAK_PHASE_OCEAN)


def thermocline_depth(lat, lon) -> np.ndarray:
    """Climatological thermocline depth (m)."""
    lat = np.asarray(lat, dtype=np.float64)
    tilt = 55.0 * (1.0 - 2.0 * east_pacific_weight(lon)) * pacific_weight(lon) * _g(lat, 10.0)
    return 50.0 + 150.0 * _g(np.abs(lat) - 24.0, 11.0) + 60.0 * _g(lat, 6.0) + tilt


def deep_temperature(lat, z) -> np.ndarray:
    """Background temperature below the thermocline, ``T_b(lat, z)`` (degrees C)."""
    t_sub = 4.0 + 9.0 * np.cos(np.deg2rad(np.asarray(lat, dtype=np.float64))) ** 2
    return 1.5 + (t_sub - 1.5) * np.exp(-np.asarray(z, dtype=np.float64) / 800.0)


def profile_shape(z, z_th) -> np.ndarray:
    """Mixed layer over a tanh thermocline: 1 at the surface, ~0 well below ``z_th``."""
    z_th = np.maximum(np.asarray(z_th, dtype=np.float64), 20.0)
    d = 0.4 * z_th + 10.0
    return (1.0 - np.tanh((np.asarray(z) - z_th) / d)) / (1.0 - np.tanh(-z_th / d))


def salinity_surface(lat, lon) -> np.ndarray:
    """Surface salinity (1e-3)."""
    lat = np.asarray(lat, dtype=np.float64)
    x = np.clip((np.abs(lat) - 45.0) / 25.0, 0.0, 1.0)
    high = x * x * (3.0 - 2.0 * x)
    atlantic = 0.5 * _g(_dlon(lon, -35.0), 30.0) * _g(lat - 10.0, 35.0)
    return (34.5 + 1.4 * _g(np.abs(lat) - 23.0, 11.0) - 0.6 * _g(lat, 7.0) - 1.3 * high
            + atlantic + 0.0 * np.asarray(lon))


def mean_dynamic_topography(lat, lon) -> np.ndarray:
    """Steric-like mean sea surface height (m), without western-boundary fronts."""
    return 0.055 * (sst_mean(lat, lon) - 15.0)
