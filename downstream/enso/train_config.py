"""The typed training configuration of the ENSO model (``configs/train/enso*.yaml``).

YAML is parsed into these frozen dataclasses at the CLI boundary only
(:func:`load_train_config`); unknown keys are errors naming the known ones,
and ``--set key.path=value`` overrides any field (the value read as YAML)::

    ocean train enso --config configs/train/enso.yaml --set max_steps=50

Two phases as in the published 3D-Geoformer, each its own run: pre-training
on long runs (here the synthetic ocean's recharge-oscillator ENSO, standing
in for climate-model runs) and transfer on reanalysis (``init_from`` a
pre-trained model directory, ``data.files`` pointing at GODAS, ORAS5 or SODA
files, a lower learning rate).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Sequence


from backbone.config import from_plain
from backbone.train_config import load_typed_config
from ocean.errors import ConfigError

__all__ = ["SyntheticSource", "FileSource", "DataConfig", "OptimConfig", "TeacherForcing", "LossConfig",
           "TrainConfig", "load_train_config"]

READERS = ("godas", "oras5", "soda", "canonical")


@dataclass(frozen=True)
class SyntheticSource:
    """A run of the synthetic ocean's monthly ENSO fields (Python API, in memory)."""

    seed: int = 0
    start: str = "1850-01"
    years: int = 400


@dataclass(frozen=True)
class FileSource:
    """Monthly files of one reanalysis; stress globs default to the temperature files (SODA)."""

    reader: str
    temperature: tuple[str, ...]
    zonal_stress: tuple[str, ...] = ()
    meridional_stress: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.reader not in READERS:
            raise ConfigError(f"data.files.reader must be one of {list(READERS)}, found {self.reader!r}")
        if not self.temperature:
            raise ConfigError("data.files.temperature needs at least one path or glob")


@dataclass(frozen=True)
class DataConfig:
    """Where the monthly fields come from and how they are split."""

    train: tuple[str, str]
    val: tuple[str, str]
    test: tuple[str, str]
    grid: str = "tropical_pacific@2"
    levels: Any = "enso7"  # a preset name or a list of depths (m)
    synthetic: SyntheticSource | None = None
    files: FileSource | None = None
    climatology: tuple[str, str] | None = None  # default: the training period
    stride: int = 1  # months between training window starts
    val_windows: int = 16  # validation windows, evenly spread over the validation period

    def __post_init__(self) -> None:
        if (self.synthetic is None) == (self.files is None):
            raise ConfigError("data needs exactly one of `synthetic:` (the synthetic ocean) or `files:` "
                              "(reanalysis files)")
        for name in ("train", "val", "test", "climatology"):  # YAML reads unquoted dates as dates
            if getattr(self, name) is not None:
                object.__setattr__(self, name, tuple(str(x) for x in getattr(self, name)))
        for name in ("train", "val", "test"):
            a, b = getattr(self, name)
            if str(a) >= str(b):
                raise ConfigError(f"data.{name} must be [start, end] with start < end, found {[a, b]}")

    @property
    def climatology_period(self) -> tuple[str, str]:
        return tuple(self.climatology or self.train)


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with linear warm-up then cosine decay to ``min_lr_ratio``."""

    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_steps: int = 20
    min_lr_ratio: float = 0.1
    grad_clip: float | None = 1.0


@dataclass(frozen=True)
class TeacherForcing:
    """Probability of feeding the decoder the true previous month, decaying linearly over the run.

    ``ratio(progress)`` with progress the share of the run done (steps or wall time).
    """

    start: float = 1.0
    end: float = 0.0
    decay_fraction: float = 0.8  # reach ``end`` after this share of max_steps

    def __post_init__(self) -> None:
        if not (0 <= self.end <= 1 and 0 <= self.start <= 1 and 0 < self.decay_fraction <= 1):
            raise ConfigError(f"teacher_forcing: start and end in [0, 1] and decay_fraction in (0, 1], found "
                              f"{self.start}, {self.end}, {self.decay_fraction}")

    def ratio(self, progress: float) -> float:
        """The probability at ``progress`` (share of the run done, 0..1)."""
        frac = min(1.0, max(0.0, progress) / self.decay_fraction)
        return float(self.start + (self.end - self.start) * frac)


@dataclass(frozen=True)
class LossConfig:
    """MSE of normalised anomalies over ocean cells plus ``nino34_weight`` x MSE of the Nino3.4 box mean."""

    nino34_weight: float = 1.0


@dataclass(frozen=True)
class TrainConfig:
    """A whole ENSO training run (one phase)."""

    data: DataConfig
    output_dir: str
    model: str = "geoformer"
    model_overrides: dict = field(default_factory=dict)
    init_from: str | None = None  # a model directory (transfer learning)
    export: str | None = None  # write a model directory here at the end
    export_dtype: str = "float32"
    batch_size: int = 4
    max_steps: int = 400
    max_minutes: float | None = None  # wall-time budget; learning rate and teacher forcing follow it too
    val_every_steps: int | None = None  # None: validate at the end only
    checkpoint_every_steps: int | None = 50
    log_every_steps: int = 10
    teacher_forcing: TeacherForcing = field(default_factory=TeacherForcing)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    seed: int = 0
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_steps < 1:
            raise ConfigError(f"batch_size and max_steps must be >= 1, found {self.batch_size}, {self.max_steps}")

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return from_plain(cls, d)


def load_train_config(path: "str | os.PathLike", overrides: Sequence[str] = ()) -> TrainConfig:
    """Read a YAML training config (configs/train/enso*.yaml) and apply ``key.path=value`` overrides."""
    return load_typed_config(path, TrainConfig, overrides)
