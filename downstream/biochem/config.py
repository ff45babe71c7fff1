"""Configuration of the biogeochemistry head (``configs/train/biochem*.yaml``).

Two sections on top of :class:`~downstream.config.HeadTrainConfig`:

* ``head`` (:class:`BiochemConfig`): the output variables and levels, the
  physical channels it reads and the network (:class:`~downstream.fields.FieldNetConfig`);
* ``data`` (:class:`BiochemData`): the backbone's cube, the BGC truth on the
  backbone's grid and levels (a cube, or CMEMS BIO / CESM files) and the periods.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from backbone.config import from_plain
from downstream.config import HeadTrainConfig, TruthPairsData
from downstream.fields import FieldNetConfig
from ocean.errors import ConfigError

__all__ = ["BiochemConfig", "BiochemData", "BiochemTrainConfig", "FLOORS"]

#: Floors of the log transform (units of the catalogue: mg m-3, mmol m-3, mg m-3 day-1).
FLOORS = {"chl": 1e-3, "no3": 1e-3, "po4": 1e-4, "si": 1e-3, "o2": 0.1, "nppv": 1e-3}


@dataclass(frozen=True)
class BiochemConfig:
    """What the head produces: ``variables`` at ``levels`` (backbone depths; None: all of them).

    Every output is learned in log space (``log(max(x, floor))``) and is
    ``exp(.)`` on output, so it is positive by construction. ``state``: the
    backbone variables it reads at every level (None: all of its channels).
    The previous BGC state is an input too: it carries what the physics does
    not determine (bloom anomalies that persist for days).
    """

    variables: tuple[str, ...] = ("chl", "no3", "po4", "si", "o2")
    levels: tuple[float, ...] | None = None
    state: tuple[str, ...] | None = None
    net: FieldNetConfig = field(default_factory=FieldNetConfig)

    def __post_init__(self) -> None:
        unknown = [v for v in self.variables if v not in FLOORS]
        if unknown or not self.variables:
            raise ConfigError(f"head.variables: {list(self.variables)}; expected a non-empty subset of {list(FLOORS)}")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["variables"], d["levels"] = list(self.variables), list(self.levels) if self.levels else None
        d["state"] = list(self.state) if self.state else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "BiochemConfig":
        return from_plain(cls, d)


BiochemData = TruthPairsData  # cube + truth, train/val periods (downstream.config)


@dataclass(frozen=True, kw_only=True)
class BiochemTrainConfig(HeadTrainConfig):
    data: BiochemData
    head: BiochemConfig = field(default_factory=BiochemConfig)
