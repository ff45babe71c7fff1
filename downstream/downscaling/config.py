"""Configuration of the downscaling head (``configs/train/downscaling*.yaml``).

Three sections on top of :class:`~downstream.config.HeadTrainConfig`:

* ``head`` (:class:`DownscalingConfig`): the region, the refinement factor,
  the output variables and levels, the interpolation the head corrects, and
  the network (:class:`NetConfig`);
* ``data`` (:class:`DownscalingData`): the backbone's (coarse, global) cube,
  the regional fine truth cube and the periods.

The head's ``config`` in its model directory is ``{"head": ..., "data": ...}``
as plain data; :meth:`DownscalingConfig.from_dict` rebuilds it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from backbone.config import from_plain
from downstream.config import HeadTrainConfig
from ocean import variables as V
from ocean.errors import ConfigError

__all__ = ["NetConfig", "DownscalingConfig", "DownscalingData", "DownscalingTrainConfig"]


@dataclass(frozen=True)
class NetConfig:
    """The network: residual conv blocks on the coarse halo, transposed-conv upsampling, a fine refinement.

    AI-GOMS's downscaling module is 16 residual conv blocks and 3
    transposed convolutions; those are the defaults here. The CPU demo uses
    fewer, narrower blocks (configs/train/downscaling_demo.yaml).
    """

    width: int = 128  # channels of the coarse residual blocks
    coarse_blocks: int = 16
    upsample_convs: int = 3  # transposed convs: the first one strided by the factor, the rest 3x3
    fine_width: int = 64
    fine_blocks: int = 2  # residual blocks at the fine resolution, after bathymetry joins
    feature_channels: int = 64  # backbone features are projected to this many before upsampling

    def __post_init__(self) -> None:
        if min(self.width, self.fine_width, self.feature_channels, self.upsample_convs) < 1 \
                or min(self.coarse_blocks, self.fine_blocks) < 0:
            raise ConfigError(f"head.net: widths and upsample_convs must be >= 1, block counts >= 0; found {self}")


@dataclass(frozen=True)
class DownscalingConfig:
    """What the head produces and how.

    ``region`` is a name of ``ocean.grid.REGIONS`` (default ``kuroshio``:
    124.7E-180, 21.3-45N) or a box ``{name, lon_min, lon_max, lat_min,
    lat_max}``; ``lon_min > lon_max`` crosses the dateline. The fine grid is
    the region's box of backbone cells refined ``factor`` times (3: 1/4 ->
    1/12 degree). ``levels`` are output depths in metres, a subset of the
    backbone's (None: all of them).
    """

    region: Any = "kuroshio"
    factor: int = 3
    variables: tuple[str, ...] = ("thetao", "so", "uo", "vo", "zos")
    levels: tuple[float, ...] | None = None
    halo: int = 2  # coarse cells read around the box on every side
    base: str = "bicubic"  # the interpolation of the coarse fields that the network corrects
    net: NetConfig = field(default_factory=NetConfig)

    def __post_init__(self) -> None:
        unknown = [v for v in self.variables if v not in V.PROGNOSTIC]
        if unknown or not self.variables:
            raise ConfigError(f"head.variables: {list(self.variables)}; expected a non-empty subset of "
                              f"{list(V.PROGNOSTIC)}")
        if self.base not in ("bicubic", "bilinear"):
            raise ConfigError(f"head.base must be bicubic or bilinear, found {self.base!r}")
        if self.factor < 2:
            raise ConfigError(f"head.factor must be >= 2 (a refinement), found {self.factor}")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["variables"], d["levels"] = list(self.variables), list(self.levels) if self.levels else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "DownscalingConfig":
        return from_plain(cls, d)


@dataclass(frozen=True)
class DownscalingData:
    """Training pairs: the backbone's cube (global, coarse) and the regional fine truth cube.

    The fine cube holds the output variables at the output levels on the
    head's fine grid, ``deptho`` (the high-resolution bathymetry) and
    ``mask``; for the real set-up a 1/12 degree GLORYS cube built by a recipe
    whose grid is ``{region: kuroshio, resolution: 1/12, align: 0.25}``, for
    the synthetic ocean ``downstream.downscaling.truth.synthetic_truth_cube``.
    """

    coarse_cube: str
    fine_cube: str
    train: tuple[str, str]
    val: tuple[str, str]
    residual_samples: int = 256  # training days used to measure the residual scale


@dataclass(frozen=True, kw_only=True)
class DownscalingTrainConfig(HeadTrainConfig):
    data: DownscalingData
    head: DownscalingConfig = field(default_factory=DownscalingConfig)
