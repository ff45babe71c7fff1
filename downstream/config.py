"""Typed training configuration shared by every head (``configs/train/<head>*.yaml``).

A head's training config is a frozen dataclass that extends
:class:`HeadTrainConfig` with its own ``data`` and ``head`` sections; YAML is
parsed into it at the CLI boundary only (:func:`load_head_config`), with
unknown keys refused by name and ``--set key.path=value`` overrides::

    ocean train head downscaling --config configs/train/downscaling_demo.yaml --set schedule.max_steps=50

The optimiser and Trainer sections are the backbone's own
(:class:`backbone.train_config.OptimConfig`, :class:`TrainerConfig`), so a
head run reads like a backbone run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, TypeVar

from backbone.config import from_plain
from backbone.train_config import OptimConfig, TrainerConfig, load_typed_config
from ocean.errors import ConfigError

__all__ = ["PeftConfig", "ScheduleConfig", "HeadTrainConfig", "load_head_config"]

C = TypeVar("C", bound="HeadTrainConfig")


@dataclass(frozen=True)
class PeftConfig:
    """Parameter-efficient tuning of the backbone; ``none`` keeps it entirely frozen.

    ``lora``: low-rank updates ``W + (alpha / rank) B A`` on the ``nn.Linear``
    layers whose qualified names match ``targets`` (fnmatch patterns over
    ``named_modules()``); ``adapter``: a zero-initialised bottleneck MLP added
    to the output of every module matching ``targets`` (Houlsby-style
    adapters after whole blocks). Either way the head still consumes the
    backbone only through ``features``.
    """

    method: str = "none"  # none | lora | adapter
    rank: int = 4
    alpha: float = 8.0
    adapter_width: int = 16
    targets: tuple[str, ...] = ("decoder.blocks.*.mlp.fc1", "decoder.blocks.*.mlp.fc2")

    def __post_init__(self) -> None:
        if self.method not in ("none", "lora", "adapter"):
            raise ConfigError(f"peft.method must be none, lora or adapter, found {self.method!r}")
        if self.method != "none" and (self.rank < 1 or self.adapter_width < 1 or not self.targets):
            raise ConfigError(f"peft: rank and adapter_width must be >= 1 and targets non-empty, found "
                              f"rank={self.rank}, adapter_width={self.adapter_width}, targets={self.targets}")

    @property
    def enabled(self) -> bool:
        return self.method != "none"


@dataclass(frozen=True)
class ScheduleConfig:
    """How long to train: steps and a wall-clock budget (the cosine decay follows the larger fraction)."""

    max_steps: int = 1000
    max_minutes: float | None = None
    batch_size: int = 16
    val_batch_size: int | None = None
    val_every_steps: int | None = None  # None: validate at the end only
    limit_val_batches: int | float = 1.0

    def __post_init__(self) -> None:
        if self.max_steps < 1 or self.batch_size < 1:
            raise ConfigError(f"schedule: max_steps and batch_size must be >= 1, found {self.max_steps} "
                              f"and {self.batch_size}")


@dataclass(frozen=True)
class TruthPairsData:
    """Training pairs of a field head: the backbone's cube and the head's truth on the same grid.

    ``train``/``val`` are inclusive date ranges; ``every`` uses every n-th
    day of them (fewer, less correlated samples).
    """

    cube: str
    truth: str
    train: tuple[str, str]
    val: tuple[str, str]
    every: int = 1


@dataclass(frozen=True, kw_only=True)
class HeadTrainConfig:
    """What every head's run has; a head subclasses it and adds ``data`` and ``head``.

    ``backbone`` is a backbone model directory; the head records its
    ``weights_sha256`` and refuses any other backbone when loaded.
    """

    backbone: str
    output_dir: str
    export: str | None = None  # write the head's model directory here at the end
    peft: PeftConfig = field(default_factory=PeftConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    name: str = ""  # the run's name (recorded as the head's preset)

    @classmethod
    def from_dict(cls: type[C], d: dict) -> C:
        return from_plain(cls, d)


def load_head_config(path: "str | os.PathLike", config_type: type[C], overrides: Sequence[str] = ()) -> C:
    """Read a head's YAML training config into ``config_type``, applying ``key.path=value`` overrides."""
    return load_typed_config(path, config_type, overrides, defaults={"name": Path(path).stem})
