"""Configuration of the wave head (``configs/train/waves*.yaml``).

Two sections on top of :class:`~downstream.config.HeadTrainConfig`:

* ``head`` (:class:`WavesConfig`): the period variable (``VTM02`` or
  ``VTPK``), the sea-ice rule and the network (:class:`~downstream.fields.FieldNetConfig`);
* ``data`` (:class:`WavesData`): the backbone's cube, the wave truth on the
  backbone's grid (a cube, or CMEMS / ERA5 wave files) and the periods.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from backbone.config import from_plain
from downstream.config import HeadTrainConfig, TruthPairsData
from downstream.fields import FieldNetConfig
from ocean.errors import ConfigError

__all__ = ["WavesConfig", "WavesData", "WavesTrainConfig"]


@dataclass(frozen=True)
class WavesConfig:
    """What the wave head produces: ``VHM0``, a period and ``VMDR`` (as sin/cos inside the model).

    ``ice_sst``: at forecast time cells whose forecast surface temperature is
    below this (degrees C) are sea ice and masked (NaN); ``null`` masks land only.
    """

    period: str = "VTM02"  # VTM02 | VTPK
    ice_sst: float | None = -1.8
    net: FieldNetConfig = field(default_factory=FieldNetConfig)

    def __post_init__(self) -> None:
        if self.period not in ("VTM02", "VTPK"):
            raise ConfigError(f"head.period must be VTM02 or VTPK, found {self.period!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "WavesConfig":
        return from_plain(cls, d)


WavesData = TruthPairsData  # cube + truth, train/val periods (downstream.config)


@dataclass(frozen=True, kw_only=True)
class WavesTrainConfig(HeadTrainConfig):
    data: WavesData
    head: WavesConfig = field(default_factory=WavesConfig)
