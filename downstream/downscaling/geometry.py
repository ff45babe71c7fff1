"""Where the region lies on the backbone's grid and token grid, and interpolation weights.

:class:`RegionGeometry` turns (backbone grid, region box, refinement factor)
into

* ``box``: the coarse cells covering the region, snapped outward to the
  backbone's lattice; ``fine = box.refine(factor)`` nests exactly
  ``factor x factor`` in it (1/12 in 1/4 for the Kuroshio configuration);
* the *halo*: ``halo`` extra coarse cells on every side, as global row and
  column indices into the backbone grid (longitude modulo its width on a
  periodic grid, so a box crossing the dateline reads columns ... 88, 89, 0,
  1 ... of a -180..180 grid; latitude clipped at the poles). Interpolation
  and convolutions near the box's edges see real neighbours, not padding;
* the token crop: the tokens of the backbone's feature grid around the halo
  and the fractional position of every halo cell in it (via
  :class:`~downstream.frozen.TokenLayout`).

Fine longitudes stay monotonic past 180 for a dateline box, as every
regional :class:`~ocean.grid.Grid` does.

Interpolation is separable: ``out = My @ field @ Mx.T`` with weight matrices
from :func:`linear_matrix` or :func:`cubic_matrix` (Keys' cubic convolution,
a = -0.5, the kernel of bicubic image resampling), edges clamped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from downstream.frozen import TokenLayout
from ocean.errors import ConfigError
from ocean.grid import REGIONS, Grid, Region, wrap_longitude

__all__ = ["RegionGeometry", "resolve_region", "linear_matrix", "cubic_matrix"]


def resolve_region(spec) -> Region:
    """A region name (``ocean.grid.REGIONS``) or a mapping ``{lon_min, lon_max, lat_min, lat_max[, name]}``."""
    if isinstance(spec, Region):
        return spec
    if isinstance(spec, str):
        if spec not in REGIONS:
            raise ConfigError(f"unknown region {spec!r}; known: {', '.join(sorted(REGIONS))}, or give a box "
                              "{name, lon_min, lon_max, lat_min, lat_max} (lon_min > lon_max crosses the dateline)")
        return REGIONS[spec]
    try:
        return Region.from_dict(spec)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"cannot make a region from {spec!r} ({exc}); expected a name or "
                          "{name, lon_min, lon_max, lat_min, lat_max}") from None


@dataclass(frozen=True)
class RegionGeometry:
    """A region on a backbone grid; see the module docstring."""

    coarse: Grid
    region: Region
    factor: int
    halo: int
    box: Grid
    fine: Grid
    row0: int  # global row of the box's first row
    col0: int  # global column of the box's first column

    @classmethod
    def build(cls, coarse: Grid, region: Region, factor: int, halo: int = 2) -> "RegionGeometry":
        if factor < 1 or halo < 0:
            raise ConfigError(f"factor must be >= 1 and halo >= 0, found factor={factor}, halo={halo}")
        res = coarse.res
        i0 = math.floor((region.lat_min - coarse.lat0) / res + 1e-9)
        i1 = math.ceil((region.lat_max - coarse.lat0) / res - 1e-9)
        offset = (region.lon_min - coarse.lon0) % 360.0
        j0 = math.floor(offset / res + 1e-9)
        j1 = math.ceil((offset + region.lon_span) / res - 1e-9)
        if coarse.is_periodic:
            j1 = min(j1, j0 + coarse.nlon)
        if i0 < 0 or i1 > coarse.nlat or i1 <= i0 or (not coarse.is_periodic and j1 > coarse.nlon):
            raise ConfigError(f"region {region.name!r} ({region.lat_min}..{region.lat_max} N, "
                              f"{region.lon_min}..{region.lon_max} E) is not inside the backbone grid "
                              f"{coarse.describe()}")
        label = f"{Fraction(res / factor).limit_denominator(480)}deg"
        box = Grid(coarse.lat0 + i0 * res, float(wrap_longitude(coarse.lon0 + j0 * res)), i1 - i0, j1 - j0, res,
                   f"{region.name}_{res:g}deg")
        fine = box.refine(factor, name=f"{region.name}_{label}")
        return cls(coarse, region, int(factor), int(halo), box, fine, i0, j0)

    # -- the coarse halo -------------------------------------------------------------------
    @property
    def halo_shape(self) -> tuple[int, int]:
        return (self.box.nlat + 2 * self.halo, self.box.nlon + 2 * self.halo)

    def _halo_rows(self) -> np.ndarray:
        return np.clip(np.arange(self.row0 - self.halo, self.row0 + self.box.nlat + self.halo), 0,
                       self.coarse.nlat - 1)

    def _halo_cols_continuous(self) -> np.ndarray:
        cols = np.arange(self.col0 - self.halo, self.col0 + self.box.nlon + self.halo)
        return cols if self.coarse.is_periodic else np.clip(cols, 0, self.coarse.nlon - 1)

    @property
    def rows(self) -> np.ndarray:
        """Global backbone-grid rows of the halo (clipped at the poles)."""
        return self._halo_rows()

    @property
    def cols(self) -> np.ndarray:
        """Global backbone-grid columns of the halo (modulo the grid width when periodic)."""
        return self._halo_cols_continuous() % self.coarse.nlon

    def crop(self, field):
        """``field[..., rows, cols]`` of a backbone-grid array or tensor ``(..., lat, lon)``."""
        return field[..., self.rows, :][..., self.cols]

    @property
    def fine_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (row, column) positions of the fine cell centres in the halo array."""
        f, h = self.factor, self.halo
        ys = h + (np.arange(self.fine.nlat) + 0.5) / f - 0.5
        xs = h + (np.arange(self.fine.nlon) + 0.5) / f - 0.5
        return ys, xs

    # -- the token grid ------------------------------------------------------------------
    def token_crop(self, layout: TokenLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(token rows, token columns, halo-row positions, halo-column positions)``.

        The first two index the backbone's feature grid (``features[..., rows,
        :][..., cols]``); the last two are the fractional positions of the
        halo's cells inside that crop, for bilinear upsampling.
        """
        ty, tx = layout.token_coordinate(self._halo_rows().astype(float), self._halo_cols_continuous().astype(float))
        (th, tw) = layout.token_grid
        r = np.arange(math.floor(ty.min()), math.floor(ty.max()) + 2)
        c = np.arange(math.floor(tx.min()), math.floor(tx.max()) + 2)
        rows = np.clip(r, 0, th - 1)
        cols = c % tw if layout.periodic else np.clip(c, 0, tw - 1)
        return rows, cols, ty - r[0], tx - c[0]


def linear_matrix(pos: np.ndarray, n: int) -> np.ndarray:
    """Weights ``(len(pos), n)`` of linear interpolation at fractional positions (clamped to the ends)."""
    pos = np.clip(np.asarray(pos, dtype=np.float64), 0, n - 1)
    i0 = np.minimum(np.floor(pos).astype(int), max(n - 2, 0))
    w = pos - i0
    m = np.zeros((pos.size, n))
    rows = np.arange(pos.size)
    np.add.at(m, (rows, i0), 1 - w)
    np.add.at(m, (rows, np.minimum(i0 + 1, n - 1)), w)
    return m


def _keys(x: np.ndarray, a: float = -0.5) -> np.ndarray:
    x = np.abs(x)
    return np.where(x <= 1, (a + 2) * x**3 - (a + 3) * x**2 + 1,
                    np.where(x < 2, a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a, 0.0))


def cubic_matrix(pos: np.ndarray, n: int) -> np.ndarray:
    """Weights ``(len(pos), n)`` of cubic convolution (Keys, a = -0.5) with edge samples repeated."""
    pos = np.asarray(pos, dtype=np.float64)
    i = np.floor(pos).astype(int)
    t = pos - i
    m = np.zeros((pos.size, n))
    rows = np.arange(pos.size)
    for k in (-1, 0, 1, 2):
        np.add.at(m, (rows, np.clip(i + k, 0, n - 1)), _keys(t - k))
    return m
