"""Depth levels: the default 15-level set, named presets and any set from config.

Levels are configuration, not constants. ``Levels`` is an immutable,
validated tuple of depths in metres (positive down, strictly increasing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

__all__ = ["Levels", "DEFAULT", "PRESETS", "GLORYS50", "resolve"]

#: The 50 native GLORYS12 depths (m), for reference and the 23-level preset.
GLORYS50: tuple[float, ...] = (
    0.494025, 1.541375, 2.645669, 3.819495, 5.078224, 6.440614, 7.92956, 9.572997,
    11.405, 13.46714, 15.81007, 18.49556, 21.59882, 25.21141, 29.44473, 34.43415,
    40.34405, 47.37369, 55.76429, 65.80727, 77.85385, 92.32607, 109.7293, 130.666,
    155.8507, 186.1256, 222.4752, 266.0403, 318.1274, 380.213, 453.9377, 541.0889,
    643.5668, 763.3331, 902.3393, 1062.44, 1245.291, 1452.251, 1684.284, 1941.893,
    2225.078, 2533.336, 2865.703, 3220.82, 3597.032, 3992.484, 4405.224, 4833.291,
    5274.784, 5727.917,
)


@dataclass(frozen=True)
class Levels:
    """An ordered set of depth levels in metres (positive down)."""

    depths: tuple[float, ...]
    name: str = "custom"

    def __post_init__(self) -> None:
        d = np.asarray(self.depths, dtype=float)
        if d.ndim != 1 or d.size == 0:
            raise ValueError(f"levels must be a non-empty list of depths, found {self.depths!r}")
        if not np.all(np.isfinite(d)) or np.any(d < 0):
            raise ValueError(
                f"levels must be finite depths in metres, positive down; found {list(d)}"
            )
        if np.any(np.diff(d) <= 0):
            raise ValueError(
                f"levels must be strictly increasing (shallow to deep); found {list(d)}"
            )
        object.__setattr__(self, "depths", tuple(float(x) for x in d))

    def __len__(self) -> int:
        return len(self.depths)

    def __iter__(self):
        return iter(self.depths)

    def __getitem__(self, i):
        return self.depths[i]

    @property
    def values(self) -> np.ndarray:
        return np.asarray(self.depths, dtype=np.float64)

    def index(self, depth: float, tol: float = 0.5) -> int:
        """Index of the level nearest ``depth`` (within ``tol`` metres)."""
        i = int(np.argmin(np.abs(self.values - depth)))
        if abs(self.depths[i] - depth) > tol:
            raise KeyError(f"no level within {tol} m of {depth} m; levels are {list(self.depths)}")
        return i

    def same_as(self, other: "Levels", tol: float = 1e-3) -> bool:
        return len(self) == len(other) and bool(np.allclose(self.values, other.values, atol=tol))

    def to_dict(self) -> dict:
        return {"name": self.name, "depths": list(self.depths)}

    @classmethod
    def from_dict(cls, d: dict) -> "Levels":
        return cls(tuple(d["depths"]), d.get("name", "custom"))

    def coord_attrs(self) -> dict[str, str]:
        return {"standard_name": "depth", "long_name": "Depth", "units": "m",
                "positive": "down", "axis": "Z"}


DEFAULT = Levels(
    (0.5, 6, 10, 20, 30, 50, 70, 100, 125, 150, 200, 250, 300, 400, 500), "aigoms15"
)

PRESETS: dict[str, Levels] = {
    "aigoms15": DEFAULT,
    "default": DEFAULT,
    # The top 23 native GLORYS levels (0.5-110 m), as used by XiHe / WenHai-style set-ups.
    "glorys23": Levels(GLORYS50[:23], "glorys23"),
    "glorys50": Levels(GLORYS50, "glorys50"),
    # 3D-Geoformer's upper-ocean levels for ENSO.
    "enso7": Levels((5, 20, 40, 60, 90, 120, 150), "enso7"),
}


def resolve(spec: "str | Sequence[float] | Levels | dict | None") -> Levels:
    """Turn a preset name, a list of depths, a dict or ``None`` into :class:`Levels`."""
    if spec is None:
        return DEFAULT
    if isinstance(spec, Levels):
        return spec
    if isinstance(spec, str):
        try:
            return PRESETS[spec]
        except KeyError:
            raise KeyError(
                f"unknown level set {spec!r}; presets: {', '.join(sorted(PRESETS))}, "
                "or give a list of depths in metres"
            ) from None
    if isinstance(spec, dict):
        return Levels.from_dict(spec)
    if isinstance(spec, Iterable):
        return Levels(tuple(float(x) for x in spec))
    raise TypeError(f"cannot make levels from {spec!r}")
