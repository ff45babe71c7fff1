"""Typed configs of the ENSO head: the 3D-Geoformer architecture and its presets.

An architecture is a :class:`GeoformerConfig` made of two small sub-configs
(what goes in and out; the transformer), registered by name (timm's
``@register_model``)::

    cfg = get_preset("geoformer")              # the published size
    cfg = get_preset("tiny", heads=1)          # a field of a sub-config overridden
    cfg = GeoformerConfig.from_dict(cfg.to_dict())

The published 3D-Geoformer (Zhou & Zhang 2023) works on 12 input months and
20 output months of 7 temperature levels (5-150 m) plus zonal and
meridional wind stress over 20S-20N, 92E-330E at 2 degrees, cut into 3x4
patches, with d_model 256, 4 heads, a 512-wide feed-forward layer, 4
encoder and 4 decoder layers and dropout 0.2. Its public code shares one
set of weights between the layers of each stack; here every layer has its
own weights (the issue asks for that).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from backbone.config import from_plain
from ocean.errors import ConfigError

__all__ = ["IOSpec", "TransformerSpec", "GeoformerConfig", "register_preset", "get_preset", "list_presets"]


@dataclass(frozen=True)
class IOSpec:
    """Fields in and out: grid shape, channels and months."""

    grid_shape: tuple[int, int] = (20, 119)  # (nlat, nlon) of the data grid (2-degree tropical Pacific)
    channels: int = 9  # thetao at 7 levels + tauuo + tauvo
    input_months: int = 12
    output_months: int = 20
    sst_channel: int = 0  # the channel whose Nino3.4 box mean is the index (thetao at 5 m)


@dataclass(frozen=True)
class TransformerSpec:
    """The space-time factorised transformer."""

    d_model: int = 256
    heads: int = 4
    encoder_layers: int = 4
    decoder_layers: int = 4
    feedforward: int = 512
    dropout: float = 0.2


@dataclass(frozen=True)
class GeoformerConfig:
    """A whole :class:`downstream.enso.model.Geoformer`."""

    io: IOSpec = field(default_factory=IOSpec)
    patch: tuple[int, int] = (3, 4)
    transformer: TransformerSpec = field(default_factory=TransformerSpec)
    name: str = "custom"

    def __post_init__(self) -> None:
        t = self.transformer
        if t.d_model % t.heads:
            raise ConfigError(f"d_model {t.d_model} is not divisible by heads {t.heads}; choose a multiple")
        if t.d_model % 2:
            raise ConfigError(f"d_model must be even (sin-cos time embedding), found {t.d_model}")
        if min(self.patch) < 1 or min(self.io.grid_shape) < 1:
            raise ConfigError(f"patch {self.patch} and grid {self.io.grid_shape} must be positive")
        if min(t.encoder_layers, t.decoder_layers) < 1:
            raise ConfigError(f"need at least one encoder and one decoder layer, found {t.encoder_layers} "
                              f"and {t.decoder_layers}")
        if not 0 <= self.io.sst_channel < self.io.channels:
            raise ConfigError(f"sst_channel {self.io.sst_channel} is not one of the {self.io.channels} channels")

    @property
    def padded_shape(self) -> tuple[int, int]:
        """The grid padded up to whole patches (20x119 -> 21x120 for 3x4 patches)."""
        (h, w), (p, q) = self.io.grid_shape, self.patch
        return (-(-h // p) * p, -(-w // q) * q)

    @property
    def token_grid(self) -> tuple[int, int]:
        (h, w), (p, q) = self.padded_shape, self.patch
        return (h // p, w // q)

    @property
    def tokens(self) -> int:
        return self.token_grid[0] * self.token_grid[1]

    @property
    def patch_dim(self) -> int:
        return self.io.channels * self.patch[0] * self.patch[1]

    def to_dict(self) -> dict:
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: Mapping) -> "GeoformerConfig":
        return from_plain(cls, d)

    def replace(self, **changes: Any) -> "GeoformerConfig":
        """A copy with fields changed; a field of ``io`` or ``transformer`` may be named directly."""
        d = self.to_dict()
        for k, v in changes.items():
            if k in d:
                d[k] = v
            elif k in d["io"]:
                d["io"][k] = v
            elif k in d["transformer"]:
                d["transformer"][k] = v
            else:
                raise ConfigError(f"GeoformerConfig has no field {k!r}; fields: {sorted(d)}, "
                                  f"io.{sorted(d['io'])}, transformer.{sorted(d['transformer'])}")
        return GeoformerConfig.from_dict(d)


def _plain(x):
    if isinstance(x, (tuple, list)):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


_PRESETS: dict[str, Callable[[], GeoformerConfig]] = {}


def register_preset(name: str):
    """Decorator: register a function returning a :class:`GeoformerConfig` under ``name``."""

    def deco(fn: Callable[[], GeoformerConfig]) -> Callable[[], GeoformerConfig]:
        if name in _PRESETS:
            raise ValueError(f"ENSO preset {name!r} is registered twice")
        _PRESETS[name] = fn
        return fn

    return deco


def get_preset(name: str, **overrides: Any) -> GeoformerConfig:
    """The registered config ``name`` with fields overridden."""
    try:
        cfg = _PRESETS[name]()
    except KeyError:
        raise ConfigError(f"unknown ENSO model preset {name!r}; registered: {', '.join(list_presets())}") from None
    return cfg.replace(**overrides) if overrides else cfg


def list_presets() -> list[str]:
    return sorted(_PRESETS)


@register_preset("geoformer")
def geoformer() -> GeoformerConfig:
    """The published 3D-Geoformer size on the 2-degree tropical Pacific (7.6 M parameters)."""
    return GeoformerConfig(IOSpec(), (3, 4), TransformerSpec(), name="geoformer")


@register_preset("tiny")
def tiny() -> GeoformerConfig:
    """Tests: the 4-degree tropical Pacific (11x60) with 3 levels + 2 stresses, 2x4 patches, 2+2 layers."""
    return GeoformerConfig(IOSpec(grid_shape=(11, 60), channels=5, input_months=4, output_months=5),
                           (2, 4), TransformerSpec(d_model=32, heads=2, encoder_layers=2, decoder_layers=2,
                                                   feedforward=48, dropout=0.0), name="tiny")
