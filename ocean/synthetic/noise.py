"""Counter-based randomness, red noise and grid-independent spatial modes.

Everything random in the synthetic ocean is a pure function of
``(seed, stream, day)``: the innovation of day ``d`` on stream ``s`` is drawn
from ``np.random.default_rng([seed, s, d + OFFSET])``, so any day can be
computed on its own and a day's value never depends on which date range was
requested.

Red noise is an explicitly truncated, exponentially weighted sum of the last
``K`` days' innovations,

    a(d) = sum_{k=0}^{K-1} w_k eps(d - k),   w_k = phi^k / sqrt(sum_j phi^(2j)),
    phi = exp(-1 / tau),

so ``a`` has unit variance and lag-one autocorrelation ``~phi``; cost O(K)
per day. Filters of filters (the ocean's response to weather, and the
"smooth" ocean noise that convolves a 3-day with a slow exponential kernel)
use the convolution of the kernels, evaluated the same way.

Spatial noise is never drawn per grid cell: a field is the sum of a fixed set
of smooth modes on the sphere with random coefficients,

    f(lat, lon) = sum_{n, m} C_nm A_nm c_n(lat) t_m(lat) L_m(lon),

with ``c_n = cos(n * (lat + pi/2))`` (a cosine series in colatitude),
``L_m`` in ``1, cos(m lon), sin(m lon)``, the taper ``t_m = cos(lat)`` for
``m >= 1`` (continuous at the poles) and a red spectrum
``A_nm = (1 + (n^2 + m^2) / k0^2)^(-p/2)`` normalised to unit area-mean
variance. The same coefficients evaluated on any grid give the same values
at the same points. :func:`value_noise` (a hashed lattice, smoothly
interpolated) serves the sub-1/4 degree, seed-independent relief.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ocean.errors import ConfigError

__all__ = [
    "EPOCH",
    "STREAMS",
    "to_days",
    "day_dates",
    "time_coordinate",
    "season_phase",
    "innovation",
    "exp_kernel",
    "smooth_kernel",
    "response_kernel",
    "filtered",
    "SpectralBasis",
    "value_noise",
    "dot",
]

#: Day 0 of the synthetic world; no date before it can be generated.
EPOCH = np.datetime64("1850-01-01", "D")
OFFSET = 1_000_000  # keeps the counter non-negative for the red-noise history before EPOCH
YEAR_DAYS = 365.2425

#: Stream ids: one independent random sequence per process.
STREAMS = {
    "msl": 1, "t2m": 2, "wind_u": 3, "wind_v": 4,  # atmosphere (known to a model with forcing)
    "sst": 11, "heave": 12, "salinity": 13, "front": 14, "eddies": 15,  # ocean-intrinsic
    "enso": 21, "enso_fields": 22,
    "swell": 31, "period": 32, "bgc": 41,
}
ATMOSPHERE_STREAMS = frozenset({1, 2, 3, 4})


def to_days(dates) -> np.ndarray:
    """Dates (str, datetime, sequence or DatetimeIndex) -> int64 days since :data:`EPOCH`.

    Raises :class:`ConfigError` for unparseable dates, times other than
    midnight, or dates before the epoch.
    """
    scalar = isinstance(dates, (str, datetime.date, np.datetime64)) or np.isscalar(dates)
    try:
        idx = pd.DatetimeIndex(pd.to_datetime([dates] if scalar else list(dates)))
    except (ValueError, TypeError, OverflowError) as exc:
        raise ConfigError(f"cannot read dates from {dates!r} ({exc}); expected e.g. '2020-01-01'") from None
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    if idx.size and (idx != idx.normalize()).any():
        bad = idx[idx != idx.normalize()][0]
        raise ConfigError(f"daily fields need dates at midnight, found {bad}; pass dates like '2020-01-01'")
    days = (idx.values.astype("datetime64[D]") - EPOCH).astype(np.int64)
    if days.size and days.min() < 0:
        raise ConfigError(f"the synthetic ocean starts on {EPOCH}; found {idx.min().date()}. "
                          "Choose a date on or after 1850-01-01")
    return days


_NS_LIMIT = np.datetime64("2262-04-11", "D")  # last day datetime64[ns] can hold


def time_coordinate(values) -> np.ndarray:
    """Times as datetime64[ns] (xarray's and pandas' default) when all fit, else datetime64[s].

    Nanosecond timestamps end on 2262-04-11; later dates (centuries-long
    monthly ENSO runs) keep second resolution instead of overflowing.
    """
    v = np.asarray(values).astype("datetime64[s]")
    return v.astype("datetime64[ns]") if v.size == 0 or v.max() < _NS_LIMIT else v


def day_dates(days: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_days`: midnight of each day (see :func:`time_coordinate`)."""
    return time_coordinate(EPOCH + np.asarray(days, dtype=np.int64).astype("timedelta64[D]"))


def season_phase(t_days) -> np.ndarray:
    """Phase of the year, radians, from days since the epoch (0 at 1 January)."""
    return 2.0 * np.pi * (np.asarray(t_days, dtype=np.float64) % YEAR_DAYS) / YEAR_DAYS


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Matrix product that avoids multithreaded BLAS for small products.

    Threaded BLAS on small operands costs more in start-up than it saves (and
    on a busy machine, much more); small products run in ``einsum``'s
    single-threaded loops. The choice depends only on the shapes, so a given
    grid always takes the same path.
    """
    if a.shape[0] * a.shape[1] * b.shape[1] < 20_000_000:
        return np.einsum("ij,jk->ik", a, b)
    return a @ b


@functools.lru_cache(maxsize=2048)  # ~30 MB at most; a 32-day block needs ~1800 entries
def _innovation_cached(seed: int, stream: int, day: int, size: int) -> np.ndarray:
    out = np.random.default_rng([seed, stream, day + OFFSET]).standard_normal(size)
    out.flags.writeable = False
    return out


def innovation(seed: int, stream: int, day: int, size: int) -> np.ndarray:
    """Standard-normal innovations of one day on one stream, shape ``(size,)``."""
    return _innovation_cached(int(seed), int(stream), int(day), int(size))


def exp_kernel(tau: float, length: int | None = None) -> np.ndarray:
    """Truncated exponential kernel ``w_k ~ exp(-k / tau)`` with unit sum of squares.

    ``length`` defaults to ``ceil(5 tau)`` (weights below ``e^-5`` dropped).
    """
    n = int(length if length is not None else max(2, int(np.ceil(5.0 * tau))))
    w = np.exp(-np.arange(n) / float(tau))
    return w / np.sqrt(np.sum(w**2))


def smooth_kernel(tau: float, tau_fast: float = 3.0) -> np.ndarray:
    """Smooth red noise: exponential kernels of ``tau_fast`` and ``tau`` convolved, unit sum of squares.

    The process is differentiable-looking at daily resolution (its lag-0
    weight is ~0.08 for ``tau_fast = 3``, ``tau = 25``), so one day's new
    information is small while its decorrelation time stays ``~tau``.
    """
    h = np.convolve(np.exp(-np.arange(int(np.ceil(6 * tau_fast))) / tau_fast),
                    np.exp(-np.arange(int(np.ceil(5 * tau))) / tau))
    return h / np.sqrt(np.sum(h**2))


def response_kernel(tau: float, length: int | None = None) -> np.ndarray:
    """Discrete damped response ``g_k = (1 - e^{-1/tau}) e^{-k/tau}`` (unit DC gain).

    Convolving a forcing with ``g`` integrates ``dT/dt = F - T / tau`` with a
    one-day step.
    """
    n = int(length if length is not None else max(2, int(np.ceil(5.0 * tau))))
    return (1.0 - np.exp(-1.0 / tau)) * np.exp(-np.arange(n) / float(tau))


def filtered(seed: int, stream: int, days: np.ndarray, size: int, kernel: np.ndarray,
             cutoff: int | None = None) -> np.ndarray:
    """FIR-filtered innovations ``sum_k kernel[k] eps(d - k)`` for each day, ``(len(days), size)``.

    Innovations of days after ``cutoff`` are taken as zero (used for the
    perfect-model forecasts of the benchmark and for climatology). The sum
    runs in a fixed order per day, so values do not depend on the range.
    """
    days = np.asarray(days, dtype=np.int64)
    kernel = np.asarray(kernel, dtype=np.float64)
    out = np.empty((days.size, size))
    if days.size == 0:
        return out
    lo, hi = int(days.min()) - kernel.size + 1, int(days.max())
    if hi - lo + 1 <= 4 * (days.size + kernel.size):
        eps = np.stack([_eps(seed, stream, d, size, cutoff) for d in range(lo, hi + 1)])
        for i, d in enumerate(days):
            j = d - lo  # row of eps(d)
            out[i] = np.einsum("k,kn->n", kernel, eps[j - kernel.size + 1: j + 1][::-1])
        return out
    for i, d in enumerate(days):  # scattered days: fetch each history separately
        hist = np.stack([_eps(seed, stream, int(d) - k, size, cutoff) for k in range(kernel.size)])
        out[i] = np.einsum("k,kn->n", kernel, hist)
    return out


def _eps(seed, stream, day, size, cutoff):
    if cutoff is not None and day > cutoff:
        return np.zeros(size)
    return innovation(seed, stream, day, size)


@dataclass(frozen=True)
class SpectralBasis:
    """Smooth spherical modes with a red spectrum (see the module docstring).

    Coefficients have shape ``(n_lat + 1, 2 * n_lon + 1)``; columns are
    ``[1, cos(lon), sin(lon), cos(2 lon), sin(2 lon), ...]``.
    """

    n_lat: int = 24
    n_lon: int = 24
    k0: float = 8.0
    slope: float = 3.0

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_lat + 1, 2 * self.n_lon + 1)

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    @functools.cached_property
    def amplitude(self) -> np.ndarray:
        """Mode amplitudes ``(n_lat + 1, 2 n_lon + 1)``, unit area-mean variance."""
        n = np.arange(self.n_lat + 1)[:, None]
        m = self._m()[None, :]
        amp = (1.0 + (n**2 + m**2) / self.k0**2) ** (-self.slope / 2.0)
        amp[0, 0] = 0.0
        lat = np.deg2rad(np.linspace(-89.75, 89.75, 360))
        w = np.cos(lat) / np.cos(lat).sum()
        c, _ = self._lat(np.rad2deg(lat))
        taper = np.where(m > 0, np.cos(lat)[:, None], 1.0)  # (Y, M)
        lon_var = np.where(self._m() > 0, 0.5, 1.0)
        var = np.einsum("y,yn,ym,nm,m->", w, c**2, taper**2, amp**2, lon_var)
        return amp / np.sqrt(var)

    def _m(self) -> np.ndarray:
        return np.concatenate([[0], np.repeat(np.arange(1, self.n_lon + 1), 2)])

    def _lat(self, lat_deg):
        theta = np.deg2rad(np.asarray(lat_deg, dtype=np.float64)) + np.pi / 2
        n = np.arange(self.n_lat + 1)
        return np.cos(np.outer(theta, n)), -n * np.sin(np.outer(theta, n))

    def _lon(self, lon_deg):
        lam = np.deg2rad(np.asarray(lon_deg, dtype=np.float64))
        m = self._m()
        phase = np.outer(m, lam)  # (M, X)
        is_sin = (np.arange(m.size) % 2 == 0) & (m > 0)
        val = np.where(is_sin[:, None], np.sin(phase), np.cos(phase))
        der = np.where(is_sin[:, None], m[:, None] * np.cos(phase), -m[:, None] * np.sin(phase))
        return val, der

    def matrices(self, lat, lon) -> tuple[np.ndarray, ...]:
        """Basis matrices on the grid ``lat x lon``: ``c, dc, taper, dtaper`` (Y, .) and ``L, dL`` (M, X)."""
        lat = np.ascontiguousarray(lat, dtype=np.float64)
        lon = np.ascontiguousarray(lon, dtype=np.float64)
        return self._matrices(lat.tobytes(), lon.tobytes())

    @functools.lru_cache(maxsize=64)
    def _matrices(self, lat_bytes: bytes, lon_bytes: bytes):
        lat, lon = np.frombuffer(lat_bytes), np.frombuffer(lon_bytes)
        c, dc = self._lat(lat)
        phi = np.deg2rad(lat)[:, None]
        positive = self._m()[None, :] > 0
        taper = np.where(positive, np.cos(phi), 1.0)
        dtaper = np.where(positive, -np.sin(phi), 0.0)
        L, dL = self._lon(lon)
        return c, dc, taper, dtaper, L, dL

    def evaluate(self, coeffs: np.ndarray, lat, lon, gradient: bool = False):
        """Field on the grid ``lat x lon`` (1-D, degrees) from coefficients.

        ``coeffs`` has shape ``(size,)`` or :attr:`shape`. Returns ``(Y, X)``;
        with ``gradient`` also ``d/dlat`` and ``d/dlon`` per radian.
        """
        C = np.asarray(coeffs).reshape(self.shape) * self.amplitude
        c, dc, taper, dtaper, L, dL = self.matrices(lat, lon)
        cC = dot(c, C)
        P = cC * taper  # (Y, M)
        value = dot(P, L)
        if not gradient:
            return value
        dP = dot(dc, C) * taper + cC * dtaper
        return value, dot(dP, L), dot(P, dL)

    def evaluate_points(self, coeffs: np.ndarray, lat, lon) -> np.ndarray:
        """Field at scattered points (equal-length 1-D ``lat``, ``lon``), shape ``(P,)``."""
        C = np.asarray(coeffs).reshape(self.shape) * self.amplitude
        c, _ = self._lat(lat)
        phi = np.deg2rad(np.asarray(lat, dtype=np.float64))[:, None]
        taper = np.where(self._m()[None, :] > 0, np.cos(phi), 1.0)
        L, _ = self._lon(lon)
        return np.einsum("pm,mp->p", dot(c, C) * taper, L)


# --------------------------------------------------------------------------
# Hashed value noise: a fixed random lattice, smoothly interpolated.
# --------------------------------------------------------------------------

_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _hash_unit(i: np.ndarray, j: np.ndarray, key: int) -> np.ndarray:
    """Uniform values in [-1, 1) from integer lattice indices (splitmix64 finaliser)."""
    with np.errstate(over="ignore"):
        x = (i.astype(np.uint64) * _M1) ^ (j.astype(np.uint64) * _M3) ^ np.uint64(key * 0x632BE5AB + 1)
        x = (x ^ (x >> np.uint64(30))) * _M2
        x = (x ^ (x >> np.uint64(27))) * _M3
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * (2.0 / 2**53) - 1.0


def _fade(t):
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


def value_noise(lat, lon, spacing: float, key: int) -> np.ndarray:
    """Smooth lattice noise in [-1, 1] at points ``(lat, lon)`` (broadcast, degrees).

    The lattice has ``spacing`` degrees (360 / spacing must be whole) and
    wraps in longitude; the quintic fade makes it twice differentiable.
    """
    n_lon = int(round(360.0 / spacing))
    if abs(n_lon * spacing - 360.0) > 1e-9:
        raise ValueError(f"value-noise spacing must divide 360 degrees, found {spacing}")
    lat, lon = np.broadcast_arrays(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
    x = (lon % 360.0) / spacing
    y = (lat + 90.0) / spacing
    i0, j0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = _fade(x - i0), _fade(y - j0)
    i1 = (i0 + 1) % n_lon
    i0 = i0 % n_lon
    v00, v10 = _hash_unit(i0, j0, key), _hash_unit(i1, j0, key)
    v01, v11 = _hash_unit(i0, j0 + 1, key), _hash_unit(i1, j0 + 1, key)
    return (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) + v11 * fx) * fy
