"""Westward-propagating eddies and Rossby-wave packets with births and deaths.

Every day ``b`` gives birth to ``N`` features drawn from
``default_rng([seed, stream, b + OFFSET])``: centre latitude (uniform in
area, ``|lat| <= 65``), longitude, lifetime ``L`` (25-110 days), signed
amplitude ``A`` (m of sea surface height; larger near the Kuroshio and Gulf
Stream extensions), meridional radius ``r_y`` and zonal radius ``r_x``,
and, near the equator, a carrier wavenumber ``k`` (a Rossby-wave packet).
A feature alive on day ``d`` (age ``a = d - b + 1/2 < L``) contributes

    zeta = A sin^2(pi a / L) O(centre) g(dy / r_y) g(dx / r_x) cos(k dx + psi)

where ``g(s) = exp(-s^2) (1 - s^2 / 9)^3`` for ``|s| < 3`` (a Gaussian with
compact support, so culling is exact), ``O`` fades features over shallow
water and land (``smoothstep(depth / 1500 m)`` at the centre, interpolated
from a fixed 0.5-degree table), and the
centre drifts west at the long-Rossby-wave-like speed

    c(lat) = c0 / (1 + (lat / lat0)^2) + c_min,   c0 = 0.6 m/s, lat0 = 12 degrees,

i.e. ``lon_c(d) = lon_0 - c a / (R cos lat_0)``. At 4 degrees resolution the
tropical features move about one grid cell in ten days; births and deaths
limit their predictability. The field is separable per feature, so a day
costs one ``(Y, E) @ (E, X)`` product.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ocean.grid import EARTH_RADIUS, Grid
from ocean.synthetic.config import EddyConfig
from ocean.synthetic.geography import depth_large
from ocean.synthetic.noise import OFFSET, STREAMS

__all__ = ["Eddies", "births", "alive", "rossby_speed", "evaluate"]

_KM_PER_DEG = EARTH_RADIUS * np.pi / 180.0 / 1000.0


@dataclass(frozen=True)
class Eddies:
    """Parallel arrays, one entry per feature."""

    birth: np.ndarray
    life: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    amp: np.ndarray
    ry_km: np.ndarray
    rx_km: np.ndarray
    k: np.ndarray  # rad / km
    psi: np.ndarray
    speed: np.ndarray  # m/s westward

    def take(self, idx) -> "Eddies":
        return Eddies(**{f: getattr(self, f)[idx] for f in self.__dataclass_fields__})

    def __len__(self) -> int:
        return self.birth.size


def rossby_speed(lat, cfg: EddyConfig) -> np.ndarray:
    """Westward drift speed (m/s) of features centred at ``lat``."""
    return cfg.speed_equator / (1.0 + (np.asarray(lat) / cfg.speed_lat_scale) ** 2) + cfg.speed_min


def _boost(lat, lon):
    d_k = ((lon - 150.0 + 180.0) % 360.0) - 180.0
    d_g = ((lon + 55.0 + 180.0) % 360.0) - 180.0
    return (np.exp(-((lat - 36.0) / 6.0) ** 2 - (d_k / 20.0) ** 2)
            + np.exp(-((lat - 40.0) / 6.0) ** 2 - (d_g / 20.0) ** 2))


@functools.lru_cache(maxsize=4096)
def births(seed: int, cfg: EddyConfig, day: int) -> Eddies:
    """The features born on ``day``."""
    rng = np.random.default_rng([seed, STREAMS["eddies"], day + OFFSET])
    n = cfg.births_per_day
    s = np.sin(np.deg2rad(cfg.max_lat))
    lat = np.rad2deg(np.arcsin(rng.uniform(-s, s, n)))
    lon = rng.uniform(-180.0, 180.0, n)
    life = rng.integers(cfg.lifetime_days[0], cfg.lifetime_days[1] + 1, n)
    amp = rng.standard_normal(n) * (cfg.amplitude_m + cfg.boost_m * _boost(lat, lon))
    ry = (cfg.radius_km[0] + cfg.radius_km[1] * np.exp(-(lat / 14.0) ** 2)) * rng.uniform(0.7, 1.3, n)
    rx = ry * (1.0 + 1.5 * np.exp(-(lat / 12.0) ** 2))
    is_wave = rng.uniform(size=n) < 0.5 * np.exp(-(lat / 15.0) ** 2)
    k = np.where(is_wave, 2 * np.pi / (2.5 * rx), 0.0)
    psi = np.where(is_wave, rng.uniform(0, 2 * np.pi, n), 0.0)
    return Eddies(np.full(n, day), life, lat, lon, amp, ry, rx, k, psi, rossby_speed(lat, cfg))


def alive(seed: int, cfg: EddyConfig, day: int, born_until: int | None = None) -> Eddies:
    """Features alive on ``day`` (optionally only those born on or before ``born_until``)."""
    last = day if born_until is None else min(day, born_until)
    groups = [births(seed, cfg, b) for b in range(day - cfg.lifetime_days[1] + 1, last + 1)]
    if not groups:
        return births(seed, cfg, day).take(slice(0, 0))
    every = Eddies(**{f: np.concatenate([getattr(g, f) for g in groups])
                      for f in Eddies.__dataclass_fields__})
    return every.take(day - every.birth < every.life)


def _compact_gauss(s):
    """``exp(-s^2) (1 - s^2/9)^3`` on ``|s| < 3`` (0 outside) and its derivative ``d/ds``."""
    s2 = s * s
    q = np.maximum(1.0 - s2 / 9.0, 0.0)
    eq2 = np.exp(-s2) * q * q
    return eq2 * q, -2.0 * s * eq2 * (q + 1.0 / 3.0)


def evaluate(ed: Eddies, day: int, grid: Grid, gradient: bool = False):
    """Eddy sea-surface height ``(Y, X)`` on ``grid``.

    With ``gradient`` also returns ``d/dlat`` and ``d/dlon`` per radian.
    Only the cells inside each feature's compact support are evaluated;
    sums run over features in a fixed order, so a point's value does not
    depend on the grid.
    """
    age = day - ed.birth + 0.5
    cos0 = np.cos(np.deg2rad(ed.lat))
    lon_c = ed.lon - np.rad2deg(ed.speed * 86400.0 * age / (EARTH_RADIUS * cos0))
    amp = ed.amp * np.sin(np.pi * age / ed.life) ** 2 * _ocean_factor(ed.lat, lon_c)
    ry_deg = ed.ry_km / _KM_PER_DEG
    rx_deg = ed.rx_km / (_KM_PER_DEG * cos0)
    # Latitude factor g(dy / r_y) on rows within 3 r_y.
    e_y, j = _window((ed.lat - grid.lat0) / grid.res - 0.5, 3.0 * ry_deg / grid.res, grid.nlat, False)
    sy = (grid.lat[j] - ed.lat[e_y]) / ry_deg[e_y]
    gy, dgy = _compact_gauss(sy)
    # Longitude factor g(dx / r_x) cos(k dx + psi) on columns within 3 r_x.
    centre = ((lon_c - grid.lon0) % 360.0) / grid.res - 0.5
    e_x, i = _window(centre, 3.0 * rx_deg / grid.res, grid.nlon, grid.is_periodic, 360.0 / grid.res)
    dx_km = (((grid.lon[i] - lon_c[e_x] + 180.0) % 360.0) - 180.0) * _KM_PER_DEG * cos0[e_x]
    gx, dgx = _compact_gauss(dx_km / ed.rx_km[e_x])
    phase = ed.k[e_x] * dx_km + ed.psi[e_x]
    hx = gx * np.cos(phase)
    shape_g, shape_h = (grid.nlat, len(ed)), (len(ed), grid.nlon)
    value = _product(gy * amp[e_y], j, e_y, hx, e_x, i, shape_g, shape_h)
    if not gradient:
        return value
    d_lat = _product(dgy * (amp / ry_deg * 180.0 / np.pi)[e_y], j, e_y, hx, e_x, i, shape_g, shape_h)
    km_per_rad = _KM_PER_DEG * cos0[e_x] * 180.0 / np.pi
    dhx = (dgx / ed.rx_km[e_x] * np.cos(phase) - gx * ed.k[e_x] * np.sin(phase)) * km_per_rad
    d_lon = _product(gy * amp[e_y], j, e_y, dhx, e_x, i, shape_g, shape_h)
    return value, d_lat, d_lon


def _window(centre: np.ndarray, half: np.ndarray, n: int, periodic: bool, period: float | None = None):
    """(feature, cell) index pairs of the cells within ``half`` cells of each centre, feature-major.

    ``periodic`` wraps cell indices modulo ``n`` (a global longitude axis);
    otherwise a centre lying a whole ``period`` (in cells) east of the axis is
    moved back by it (a feature just west of a regional box).
    """
    if periodic:
        half = np.minimum(half, (n - 1) / 2.0)
    elif period is not None:
        centre = np.where(centre - half > n - 1, centre - period, centre)
    lo = np.ceil(centre - half).astype(np.int64)
    hi = np.floor(centre + half).astype(np.int64)
    counts = np.maximum(hi - lo + 1, 0)
    feature = np.repeat(np.arange(centre.size), counts)
    cell = np.repeat(lo, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    if periodic:
        return feature, cell % n
    keep = (cell >= 0) & (cell < n)
    return feature[keep], cell[keep]


def _product(g, rows, g_cols, h, h_rows, cols, shape_g, shape_h) -> np.ndarray:
    """``G @ H`` from coordinate lists of the two compactly supported factors."""
    G = sparse.csr_matrix((g, (rows, g_cols)), shape=shape_g)
    H = sparse.csr_matrix((h, (h_rows, cols)), shape=shape_h)
    return (G @ H).toarray()


_LOOKUP_RES = 0.5  # degrees


@functools.lru_cache(maxsize=1)
def _ocean_lookup() -> np.ndarray:
    """``smoothstep(depth / 1500 m)`` on a fixed global 0.5-degree lattice (nodes at multiples of 0.5)."""
    lat = np.arange(-90.0, 90.0 + _LOOKUP_RES / 2, _LOOKUP_RES)
    lon = np.arange(-180.0, 180.0, _LOOKUP_RES)
    x = np.clip(depth_large(lat[:, None], lon[None, :]) / 1500.0, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _ocean_factor(lat, lon):
    """Bilinear interpolation of the lookup at the feature centres (grid-independent)."""
    table = _ocean_lookup()
    y = (np.clip(lat, -90.0, 90.0) + 90.0) / _LOOKUP_RES
    x = ((np.asarray(lon) + 180.0) % 360.0) / _LOOKUP_RES
    j0 = np.minimum(np.floor(y).astype(np.int64), table.shape[0] - 2)
    i0 = np.floor(x).astype(np.int64) % table.shape[1]
    i1 = (i0 + 1) % table.shape[1]
    fy, fx = y - j0, x - np.floor(x)
    return ((table[j0, i0] * (1 - fx) + table[j0, i1] * fx) * (1 - fy)
            + (table[j0 + 1, i0] * (1 - fx) + table[j0 + 1, i1] * fx) * fy)
