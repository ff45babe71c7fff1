"""The typed training configuration (``configs/train/*.yaml``).

YAML is parsed into these frozen dataclasses at the CLI boundary only
(:func:`load_train_config`); unknown keys are errors that name the known
ones. ``--set key.path=value`` overrides any field (the value is read as
YAML)::

    ocean train backbone --config configs/train/demo.yaml --set optim.lr=5e-4

A run is a sequence of phases, each its own ``Trainer.fit`` on the same
weights: ``pretrain`` (masked, one step), ``forecast`` (one step, no mask),
``rollout`` (2-3 autoregressive steps, gradients through all of them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from backbone.config import from_plain
from backbone.data import DataConfig
from backbone.masking import MaskSchedule
from ocean.errors import ConfigError

__all__ = ["OptimConfig", "PhaseConfig", "LossConfig", "TrainerConfig", "TrainConfig", "load_train_config"]


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with linear warm-up then cosine decay (per phase)."""

    lr: float = 1e-3
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.95)
    warmup_steps: int = 50
    min_lr_ratio: float = 0.05
    grad_clip: float | None = 1.0


@dataclass(frozen=True)
class PhaseConfig:
    """One training phase: its length, window length, masking and learning rate."""

    name: str
    max_steps: int
    rollout_steps: int = 1
    steps_per_epoch: int | None = None  # epoch length (the mask schedule counts epochs); None = whole data
    mask_schedule: tuple[tuple[int, float], ...] = ((0, 0.0),)
    lr: float | None = None  # default: optim.lr
    warmup_steps: int | None = None  # default: optim.warmup_steps
    batch_size: int | None = None  # default: data.batch_size
    max_minutes: float | None = None  # wall-clock safety stop for this phase

    def __post_init__(self) -> None:
        if self.rollout_steps < 1 or self.max_steps < 1:
            raise ConfigError(f"phase {self.name!r}: rollout_steps and max_steps must be >= 1, found "
                              f"{self.rollout_steps} and {self.max_steps}")
        MaskSchedule(self.mask_schedule)  # validates

    @property
    def schedule(self) -> MaskSchedule:
        return MaskSchedule(self.mask_schedule)


@dataclass(frozen=True)
class LossConfig:
    """``space``: "tendency" (relative to the day's change) or "state" (AI-GOMS: relative to the state)."""

    space: str = "tendency"

    def __post_init__(self) -> None:
        if self.space not in ("tendency", "state"):
            raise ConfigError(f"loss.space must be 'tendency' or 'state', found {self.space!r}")


@dataclass(frozen=True)
class TrainerConfig:
    """Lightning Trainer settings; ``precision: auto`` is bf16-mixed on GPU and fp32 on CPU."""

    accelerator: str = "auto"
    devices: Any = "auto"
    num_nodes: int = 1
    strategy: str = "auto"  # auto | ddp | ddp_spawn | fsdp
    precision: str = "auto"
    val_every_steps: int | None = None  # None: validate at the end of each phase
    limit_val_batches: int | float = 1.0
    log_every_steps: int = 20
    seed: int = 0
    threads: int | None = None  # torch intra-op threads (CPU)
    deterministic: bool = False
    progress_bar: bool = False
    checkpoint_every_steps: int | None = None


@dataclass(frozen=True)
class TrainConfig:
    """A whole training run."""

    model: str  # preset name (backbone.config) or a YAML file of a ModelConfig (configs/model/)
    data: DataConfig
    phases: tuple[PhaseConfig, ...]
    output_dir: str
    model_overrides: dict = field(default_factory=dict)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    export: str | None = None  # write a model directory here at the end

    def __post_init__(self) -> None:
        if not self.phases:
            raise ConfigError("a training config needs at least one phase (pretrain, forecast, rollout)")
        names = [p.name for p in self.phases]
        if len(set(names)) != len(names):
            raise ConfigError(f"phase names must be unique, found {names}")

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return from_plain(cls, d)


def _set(d: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    cur = d
    for k in keys[:-1]:
        if isinstance(cur, list):
            cur = cur[int(k)]
        else:
            cur = cur.setdefault(k, {})
    last = keys[-1]
    if isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value


def read_yaml_config(path: "str | os.PathLike", overrides: Sequence[str] = ()) -> dict:
    """A YAML training config as plain data, with ``key.path=value`` overrides applied.

    The one reader behind every ``ocean train`` config (backbone, heads, ENSO).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"training config {path} not found; the shipped ones are in configs/train/")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a training config is a mapping of sections, found {type(raw).__name__}")
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects key.path=value, found {item!r}")
        key, value = item.split("=", 1)
        _set(raw, key.strip(), yaml.safe_load(value))
    return raw


def load_typed_config(path: "str | os.PathLike", config_type: type, overrides: Sequence[str] = (),
                      defaults: dict | None = None):
    """``config_type.from_dict`` of :func:`read_yaml_config`; errors name the file."""
    raw = read_yaml_config(path, overrides)
    for key, value in (defaults or {}).items():
        raw.setdefault(key, value)
    try:
        return config_type.from_dict(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def load_train_config(path: "str | os.PathLike", overrides: Sequence[str] = ()) -> TrainConfig:
    """Read a YAML training config and apply ``key.path=value`` overrides."""
    return load_typed_config(path, TrainConfig, overrides)
