"""Regular latitude-longitude grids, regions, cell areas and land-sea masks.

Conventions (one place):

* latitude ascending, cell centres; longitude in degrees east, ``[-180, 180)``
  for global grids. A regional box that crosses the dateline keeps a
  monotonic longitude that continues past 180 (e.g. 170 ... 190) so that
  slicing and interpolation stay simple; :meth:`Grid.lon_wrapped` gives the
  same values folded into ``[-180, 180)``.
* Grids are slices of a global lattice anchored at (-90, -180): a box is
  snapped outward to that lattice, so a 1/12 degree box nests exactly 3x3 in
  the 1/4 degree box with the same ``align``.
* Cell areas are exact on a sphere of radius :data:`EARTH_RADIUS`:
  ``R^2 * dlon * (sin(lat_n) - sin(lat_s))``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping

import numpy as np

from ocean.levels import Levels

__all__ = [
    "EARTH_RADIUS",
    "Region",
    "REGIONS",
    "Grid",
    "parse_resolution",
    "mask_from_bathymetry",
    "wrap_longitude",
]

EARTH_RADIUS = 6_371_000.0  # m, mean radius (IUGG)


def wrap_longitude(lon):
    """Fold longitudes into ``[-180, 180)``."""
    return (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class Region:
    """A latitude-longitude box; ``lon_min > lon_max`` means it crosses the dateline."""

    name: str
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float

    def __post_init__(self) -> None:
        if not -90 <= self.lat_min < self.lat_max <= 90:
            raise ValueError(
                f"region {self.name!r}: need -90 <= lat_min < lat_max <= 90, "
                f"found lat_min={self.lat_min}, lat_max={self.lat_max}"
            )
        if self.lon_span <= 0 or self.lon_span > 360:
            raise ValueError(f"region {self.name!r}: empty longitude range {self.lon_min}..{self.lon_max}")

    @property
    def is_global(self) -> bool:
        return self.lon_span >= 360 and self.lat_min <= -90 and self.lat_max >= 90

    @property
    def lon_span(self) -> float:
        if self.lon_max - self.lon_min >= 360:
            return 360.0
        return float((self.lon_max - self.lon_min) % 360.0) or 360.0

    @property
    def crosses_dateline(self) -> bool:
        lo = wrap_longitude(self.lon_min)
        return self.lon_span < 360 and lo + self.lon_span > 180.0 + 1e-9

    def contains(self, lat, lon) -> np.ndarray:
        """Boolean array: which ``(lat, lon)`` points (broadcast) lie in the box."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        in_lat = (lat >= self.lat_min) & (lat <= self.lat_max)
        if self.lon_span >= 360:
            return in_lat & np.ones_like(lon, dtype=bool)
        offset = (lon - self.lon_min) % 360.0
        return in_lat & (offset <= self.lon_span + 1e-9)

    def to_dict(self) -> dict:
        return {"name": self.name, "lon_min": self.lon_min, "lon_max": self.lon_max,
                "lat_min": self.lat_min, "lat_max": self.lat_max}

    @classmethod
    def from_dict(cls, d: Mapping) -> "Region":
        return cls(str(d.get("name", "custom")), float(d["lon_min"]), float(d["lon_max"]),
                   float(d["lat_min"]), float(d["lat_max"]))


REGIONS: dict[str, Region] = {
    r.name: r
    for r in [
        Region("global", -180.0, 180.0, -90.0, 90.0),
        Region("tropics", -180.0, 180.0, -23.5, 23.5),
        Region("kuroshio", 124.7, 180.0, 21.3, 45.0),
        Region("gulf_stream", -82.0, -40.0, 25.0, 50.0),
        Region("nino34", -170.0, -120.0, -5.0, 5.0),
        Region("tropical_pacific", 92.0, -30.0, -20.0, 20.0),
    ]
}


def parse_resolution(spec: "str | float") -> float:
    """``"4deg"``, ``"0.25"``, ``"1/12"``, ``"quarter"`` or a number -> degrees."""
    if isinstance(spec, (int, float)):
        res = float(spec)
    else:
        s = str(spec).strip().lower().replace("°", "deg")
        s = {"quarter": "0.25", "twelfth": "1/12"}.get(s, s)
        s = re.sub(r"\s*(deg|degree|degrees)$", "", s)
        try:
            res = float(Fraction(s))
        except (ValueError, ZeroDivisionError):
            raise ValueError(
                f"cannot read a grid resolution from {spec!r}; expected e.g. '4deg', '1deg', "
                "'0.25deg', '1/12' or a number of degrees"
            ) from None
    if not 0 < res <= 90:
        raise ValueError(f"grid resolution must be in (0, 90] degrees, found {res}")
    return res


def _count(span: float, res: float) -> int:
    n = span / res
    if abs(n - round(n)) > 1e-6:
        raise ValueError(f"a span of {span} degrees is not a whole number of {res}-degree cells")
    return int(round(n))


@dataclass(frozen=True)
class Grid:
    """A regular latitude-longitude grid given by its south-west corner and cell counts."""

    lat0: float  # southern edge
    lon0: float  # western edge, in [-180, 180)
    nlat: int
    nlon: int
    res: float  # degrees, same in latitude and longitude
    name: str = "custom"

    def __post_init__(self) -> None:
        if self.nlat < 1 or self.nlon < 1:
            raise ValueError(f"grid {self.name!r} is empty: nlat={self.nlat}, nlon={self.nlon}")
        slack = 0.05 * self.res  # producers' "shifted" grids overhang the poles slightly
        if self.lat0 < -90 - slack or self.lat0 + self.nlat * self.res > 90 + slack:
            raise ValueError(f"grid {self.name!r} leaves [-90, 90] in latitude")
        if self.nlon * self.res > 360 + 1e-6:
            raise ValueError(f"grid {self.name!r} spans more than 360 degrees of longitude")

    # -- constructors -------------------------------------------------------
    @classmethod
    def global_(cls, res: "float | str", name: str | None = None) -> "Grid":
        """Global grid; 1/4 degree gives 720 x 1440."""
        r = parse_resolution(res)
        return cls(-90.0, -180.0, _count(180.0, r), _count(360.0, r), r,
                   name or f"global_{_res_label(r)}")

    @classmethod
    def box(cls, region: "Region | str", res: "float | str", align: "float | str | None" = None,
            name: str | None = None) -> "Grid":
        """Grid covering ``region``, its edges snapped outward to the ``align`` lattice.

        ``align`` defaults to ``res``; give the coarse resolution (e.g. 0.25)
        to make a fine grid nest exactly inside a coarse one.
        """
        reg = REGIONS[region] if isinstance(region, str) else region
        r = parse_resolution(res)
        a = parse_resolution(align) if align is not None else r
        if reg.lon_span >= 360 and reg.lat_min <= -90 and reg.lat_max >= 90:
            return cls.global_(r, name or f"{reg.name}_{_res_label(r)}")
        lat_s = -90.0 + math.floor((reg.lat_min + 90.0) / a + 1e-9) * a
        lat_n = -90.0 + math.ceil((reg.lat_max + 90.0) / a - 1e-9) * a
        if reg.lon_span >= 360:
            lon_w, span = -180.0, 360.0
        else:
            w = float(wrap_longitude(reg.lon_min))
            lon_w = -180.0 + math.floor((w + 180.0) / a + 1e-9) * a
            lon_e = -180.0 + math.ceil((w + reg.lon_span + 180.0) / a - 1e-9) * a
            span = min(lon_e - lon_w, 360.0)
        return cls(lat_s, lon_w, _count(lat_n - lat_s, r), _count(span, r), r,
                   name or f"{reg.name}_{_res_label(r)}")

    @classmethod
    def from_spec(cls, spec: "str | Grid | Mapping") -> "Grid":
        """``"4deg"`` (global), ``"kuroshio@1/12"`` (region@resolution), a dict or a Grid."""
        if isinstance(spec, Grid):
            return spec
        if isinstance(spec, Mapping):
            if "region" in spec:
                reg = spec["region"]
                reg = Region.from_dict(reg) if isinstance(reg, Mapping) else reg
                return cls.box(reg, spec["resolution"], spec.get("align"), spec.get("name"))
            return cls.from_dict(spec)
        s = str(spec)
        if "@" in s:
            region, res = s.split("@", 1)
            if region not in REGIONS:
                raise KeyError(f"unknown region {region!r}; known: {', '.join(sorted(REGIONS))}")
            return cls.box(region, res)
        return cls.global_(s)

    @classmethod
    def from_coords(cls, lat, lon, name: str = "from_data", tol: float = 1e-3) -> "Grid":
        """Recognise the regular grid whose cell centres are ``lat`` and ``lon``."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        if lat.size < 2 or lon.size < 2:
            raise ValueError("need at least 2 latitudes and 2 longitudes to recognise a grid")
        dlat, dlon = np.diff(lat), np.diff(np.unwrap(lon, period=360.0))
        res = float(np.median(dlat))
        if res <= 0:
            raise ValueError(f"latitude must be ascending, found {lat[0]} ... {lat[-1]}")
        if not (np.allclose(dlat, res, atol=tol * res) and np.allclose(dlon, res, atol=tol * res)):
            raise ValueError(
                "coordinates are not a regular grid with equal spacing in latitude and longitude: "
                f"latitude steps {dlat.min():.6g}..{dlat.max():.6g}, longitude steps {dlon.min():.6g}..{dlon.max():.6g}"
            )
        # Snap the resolution to a simple fraction (1/12, 1/4, ...).
        res = float(Fraction(res).limit_denominator(480))
        lon0 = float(wrap_longitude(lon[0] - res / 2))
        return cls(float(lat[0] - res / 2), lon0, lat.size, lon.size, res, name)

    # -- coordinates ----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (self.nlat, self.nlon)

    @property
    def lat(self) -> np.ndarray:
        return self.lat0 + (np.arange(self.nlat) + 0.5) * self.res

    @property
    def lon(self) -> np.ndarray:
        """Monotonic longitudes; values past 180 only for a dateline-crossing box."""
        return self.lon0 + (np.arange(self.nlon) + 0.5) * self.res

    @property
    def lon_wrapped(self) -> np.ndarray:
        return wrap_longitude(self.lon)

    @property
    def lat_bounds(self) -> np.ndarray:
        return np.clip(self.lat0 + np.arange(self.nlat + 1) * self.res, -90.0, 90.0)

    @property
    def lon_bounds(self) -> np.ndarray:
        return self.lon0 + np.arange(self.nlon + 1) * self.res

    @property
    def is_periodic(self) -> bool:
        """True when the grid wraps all the way round in longitude."""
        return abs(self.nlon * self.res - 360.0) < 1e-6

    @property
    def is_global(self) -> bool:
        return self.is_periodic and abs(self.nlat * self.res - 180.0) < 1e-6

    @property
    def region(self) -> Region:
        return Region(self.name, self.lon0, self.lon0 + self.nlon * self.res,
                      self.lat0, self.lat0 + self.nlat * self.res)

    def cell_area(self) -> np.ndarray:
        """Exact spherical cell areas in m^2, shape ``(nlat, nlon)``."""
        sin_b = np.sin(np.deg2rad(self.lat_bounds))
        band = EARTH_RADIUS**2 * np.deg2rad(self.res) * np.diff(sin_b)
        return np.repeat(band[:, None], self.nlon, axis=1)

    def refine(self, factor: int, name: str | None = None) -> "Grid":
        """The same box with each cell split ``factor`` x ``factor``."""
        return Grid(self.lat0, self.lon0, self.nlat * factor, self.nlon * factor,
                    self.res / factor, name or f"{self.name}_x{factor}")

    # -- comparison and serialisation ----------------------------------------
    def same_as(self, other: "Grid", tol: float = 1e-6) -> bool:
        return (self.shape == other.shape and abs(self.res - other.res) < tol
                and abs(self.lat0 - other.lat0) < tol
                and abs(wrap_longitude(self.lon0) - wrap_longitude(other.lon0)) < tol)

    def describe(self) -> str:
        lon_e = self.lon0 + self.nlon * self.res
        return (f"{self.name}: {self.nlat}x{self.nlon} at {_res_label(self.res)} "
                f"(lat {self.lat0:g}..{self.lat0 + self.nlat * self.res:g}, lon {self.lon0:g}..{lon_e:g}"
                f"{', periodic' if self.is_periodic else ''})")

    def to_dict(self) -> dict:
        return {"name": self.name, "lat0": self.lat0, "lon0": self.lon0, "nlat": self.nlat,
                "nlon": self.nlon, "res": self.res}

    @classmethod
    def from_dict(cls, d: Mapping) -> "Grid":
        return cls(float(d["lat0"]), float(d["lon0"]), int(d["nlat"]), int(d["nlon"]),
                   float(d["res"]), str(d.get("name", "custom")))

    def coords(self) -> dict:
        """xarray-ready coordinates with CF attributes."""
        return {
            "latitude": ("latitude", self.lat.astype(np.float64),
                         {"standard_name": "latitude", "long_name": "Latitude",
                          "units": "degrees_north", "axis": "Y"}),
            "longitude": ("longitude", self.lon.astype(np.float64),
                          {"standard_name": "longitude", "long_name": "Longitude",
                           "units": "degrees_east", "axis": "X"}),
        }


def _res_label(res: float) -> str:
    f = Fraction(res).limit_denominator(480)
    if f.denominator == 1:
        return f"{f.numerator}deg"
    if f.numerator == 1:
        return f"1/{f.denominator}deg"
    return f"{res:g}deg"


def mask_from_bathymetry(deptho: np.ndarray, levels: Levels) -> np.ndarray:
    """Ocean mask per level from sea-floor depth (m, positive down; land <= 0 or NaN).

    A cell is ocean at a level when the sea floor lies at or below that
    level's depth. Returns bool ``(len(levels), *deptho.shape)``.
    """
    d = np.nan_to_num(np.asarray(deptho, dtype=np.float64), nan=0.0)
    return d[None, ...] >= levels.values.reshape((-1,) + (1,) * d.ndim)
