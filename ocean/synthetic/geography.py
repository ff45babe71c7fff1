"""The synthetic Earth's geography: continents, bathymetry, relief, elevation.

Geography is analytic and seed-independent (every seed shares one land-sea
mask, so models trained on one seed run on another). All functions take
``lat`` and ``lon`` in degrees that broadcast against each other (a grid is
``lat[:, None], lon[None, :]``; points are two equal-length vectors) and
accept longitudes past 180 (dateline-crossing boxes).

Continents are a smooth maximum of ellipses placed roughly where Earth's are,
``E = s log sum_i exp(p_i / s)`` with ``p_i = 1 - (x'/b_i)^2 - (y'/a_i)^2``
in each ellipse's rotated local frame (degrees of arc), plus Antarctica
``p = (-66 - lat) / 6`` and a weak fixed perturbation that roughens the
coasts. Land is ``E > 0`` (~29 % of the globe); ``s = -E`` grows away from
the coast. Sea-floor depth (m, positive down):

    depth = 15 + 135 S(s / 0.05) + 4350 S((s - 0.05) / 0.3)       (shelf, slope, abyss)
            - 2200 ridge_Atlantic - 1800 ridge_EastPacific          (mid-ocean ridges)
            - relief * S(depth / 1500)                              (seamounts, troughs)

with ``S`` the smoothstep. ``relief = 350 b + 1800 max(b - 0.5, 0)`` m, where
``b = tanh(1.5 r)`` and ``r`` is three octaves of hashed value noise with
lattice spacings 0.09, 0.18 and 0.3 degrees: sub-1/4 degree seamounts and
ridges of 20-60 km wavelength. ``b`` is also the pattern of the
small-scale ocean anomalies (see ``ocean.synthetic.physics``), so a
downscaling model can learn it from high-resolution bathymetry.
"""

from __future__ import annotations

import functools

import numpy as np

from ocean.synthetic.noise import SpectralBasis, value_noise

__all__ = [
    "land_potential",
    "is_land",
    "depth_large",
    "relief_pattern",
    "deptho",
    "elevation",
    "land_weight",
    "pacific_weight",
    "east_pacific_weight",
]

# (lat_c, lon_c, a: lat semi-axis, b: lon semi-axis (degrees of arc), rotation deg ccw)
_ELLIPSES = np.array([
    # North America, Central America, Greenland
    (52, -102, 15, 24, -15), (36, -96, 11, 13, 0), (66, -150, 7, 12, 0), (68, -98, 8, 26, 0),
    (19, -100, 6, 6, -30), (11, -85, 6, 2.5, 45), (73, -40, 9, 8, 0),
    # South America
    (-5, -60, 14, 17, 0), (-24, -60, 13, 10, 10), (-44, -69, 10, 4, 0),
    # Europe, Asia
    (50, 15, 11, 18, 10), (62, 100, 12, 42, 0), (44, 80, 13, 30, 0), (32, 110, 11, 12, 0),
    (20, 78, 9, 7, 0), (23, 47, 8, 9, -20), (15, 102, 8, 6, 0), (62, 160, 8, 14, 0),
    # Africa, Australia, New Guinea
    (11, 15, 14, 26, 0), (-12, 26, 18, 13, 0), (-25, 134, 10, 17, 0), (-5, 141, 3, 8, -10),
], dtype=np.float64)

_SOFT = 0.08  # softness of the smooth maximum


_PERTURBATION_BASIS = SpectralBasis(n_lat=10, n_lon=10, k0=5.0, slope=3.0)


@functools.lru_cache(maxsize=1)
def _perturbation_coeffs() -> np.ndarray:
    return np.random.default_rng(20240611).standard_normal(_PERTURBATION_BASIS.size)


def _perturbation(lat, lon) -> np.ndarray:
    """Fixed smooth field (unit variance) roughening the coasts; broadcasts like lat/lon."""
    basis = _PERTURBATION_BASIS
    lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    if lat.ndim == 2 and lon.ndim == 2 and lat.shape[1] == 1 and lon.shape[0] == 1:
        return basis.evaluate(_perturbation_coeffs(), lat[:, 0], lon[0, :])
    lat_b, lon_b = np.broadcast_arrays(lat, lon)
    return basis.evaluate_points(_perturbation_coeffs(), lat_b.ravel(), lon_b.ravel()).reshape(lat_b.shape)


def land_potential(lat, lon) -> np.ndarray:
    """Continent potential ``E``: positive over land, negative over the ocean."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    coslat = np.cos(np.deg2rad(lat))
    acc = ((-66.0 - lat) / 6.0 + 0.0 * lon) / _SOFT  # Antarctica; then a running log-sum-exp
    for la, lo, a, b, rot in _ELLIPSES:
        dx = ((lon - lo + 180.0) % 360.0 - 180.0) * coslat
        dy = lat - la
        c, s = np.cos(np.deg2rad(rot)), np.sin(np.deg2rad(rot))
        term = 1.0 - ((dx * c + dy * s) / b) ** 2 - ((dy * c - dx * s) / a) ** 2
        acc = np.logaddexp(acc, term / _SOFT)
    return _SOFT * acc + 0.06 * _perturbation(lat, lon)


def is_land(lat, lon) -> np.ndarray:
    return land_potential(lat, lon) > 0.0


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _ridges(lat, lon) -> np.ndarray:
    """Mid-Atlantic ridge and East Pacific rise, in units of their height (0..1)."""
    coslat = np.cos(np.deg2rad(lat))
    atl = -28.0 - 8.0 * np.sin(np.deg2rad(lat) * 3.0)
    d_atl = ((lon - atl + 180.0) % 360.0 - 180.0) * coslat
    in_atl = _smoothstep((lat + 58.0) / 8.0) * _smoothstep((68.0 - lat) / 8.0)
    epr = -110.0 + 0.3 * lat
    d_epr = ((lon - epr + 180.0) % 360.0 - 180.0) * coslat
    in_epr = _smoothstep((lat + 58.0) / 8.0) * _smoothstep((22.0 - lat) / 6.0)
    return 2200.0 * np.exp(-(d_atl / 6.0) ** 2) * in_atl + 1800.0 * np.exp(-(d_epr / 8.0) ** 2) * in_epr


def depth_large(lat, lon, potential=None) -> np.ndarray:
    """Large-scale sea-floor depth (m, positive down; 0 over land)."""
    e = land_potential(lat, lon) if potential is None else potential
    s = -e
    d = 15.0 + 135.0 * _smoothstep(s / 0.05) + 4350.0 * _smoothstep((s - 0.05) / 0.3)
    d = np.maximum(d - _ridges(lat, lon) * _smoothstep((s - 0.1) / 0.3), 15.0)
    return np.where(e > 0.0, 0.0, d)


_RELIEF_OCTAVES = ((0.09, 0.5, 101), (0.18, 1.0, 102), (0.3, 0.7, 103))
_RELIEF_STD = 0.39  # std of the octave sum (measured once on a fixed sample; keeps b in +-1)


def relief_pattern(lat, lon) -> np.ndarray:
    """Small-scale relief pattern ``b`` in (-1, 1): seamounts and ridges of 20-60 km."""
    r = sum(w * value_noise(lat, lon, sp, key) for sp, w, key in _RELIEF_OCTAVES)
    return np.tanh(1.5 * r / _RELIEF_STD / 1.3)


def deptho(lat, lon) -> np.ndarray:
    """Sea-floor depth with sub-1/4 degree relief (m, positive down; 0 over land)."""
    e = land_potential(lat, lon)
    big = depth_large(lat, lon, e)
    b = relief_pattern(lat, lon)
    relief = 350.0 * b + 1800.0 * np.maximum(b - 0.5, 0.0)
    d = np.clip(big - relief * _smoothstep(big / 1500.0), 10.0, 6500.0)
    return np.where(e > 0.0, 0.0, d)


def elevation(lat, lon) -> np.ndarray:
    """Land surface elevation (m; 0 over the ocean), for surface pressure and t2m."""
    e = land_potential(lat, lon)
    mountains = (3500.0 * np.exp(-((lat - 32.0) / 5.0) ** 2 - (((lon - 85.0 + 180) % 360 - 180) / 14.0) ** 2)
                 + 2500.0 * np.exp(-((lat + 22.0) / 18.0) ** 2 - (((lon + 68.0 + 180) % 360 - 180) / 3.0) ** 2)
                 + 1800.0 * np.exp(-((lat - 45.0) / 12.0) ** 2 - (((lon + 112.0 + 180) % 360 - 180) / 6.0) ** 2)
                 + 2500.0 * _smoothstep((-72.0 - lat) / 8.0))
    return np.where(e > 0.0, 200.0 + 800.0 * _smoothstep(e / 0.6) + mountains * _smoothstep(e / 0.2), 0.0)


def land_weight(lat, lon) -> np.ndarray:
    """Smooth land fraction in [0, 1] (0.5 at the coast), for atmospheric blending."""
    return _smoothstep(0.5 + land_potential(lat, lon) / 0.2)


def pacific_weight(lon) -> np.ndarray:
    """1 across the Pacific (130E..80W), falling to 0 outside."""
    x = np.asarray(lon, dtype=np.float64) % 360.0
    return _smoothstep((x - 115.0) / 20.0) * _smoothstep((290.0 - x) / 15.0)


def east_pacific_weight(lon) -> np.ndarray:
    """0 in the west Pacific (<=160E) rising to 1 in the east (>=120W)."""
    x = np.asarray(lon, dtype=np.float64) % 360.0
    return _smoothstep((x - 160.0) / 80.0) * pacific_weight(lon)
