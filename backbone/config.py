"""Architecture configs (frozen dataclasses) and the preset registry.

A :class:`ModelConfig` is a few small sub-configs (graphcast's
``ModelConfig``/``TaskConfig`` style) instead of a constructor with many
arguments. Named presets live in a registry (timm's ``@register_model``)::

    @register_preset("tiny")
    def tiny() -> ModelConfig: ...

    cfg = get_preset("demo")                    # the registered config
    cfg = get_preset("demo", residual=False)    # top-level field overridden
    cfg = ModelConfig.from_dict(cfg.to_dict())  # round trip (checkpoints)

Input channels are ``state + forcing + static`` (see :class:`IOConfig`):

* ``state``: the normalised prognostic channels in
  :func:`ocean.normalize.channel_names` order (61 for T, S, U, V at 15
  levels plus SSH), land as 0;
* ``forcing``: the normalised atmospheric fields valid at the *target* day
  (``u10, v10, t2m, msl, sp``);
* ``static``: the ocean mask per level (1 ocean, 0 land), the "mask
  channel" of DESIGN.md. ``aigoms`` sets it to 0 so that it keeps AI-GOMS's
  66 inputs / 61 outputs; there land enters only as zeros in the inputs and
  a zeroing of the outputs.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ocean.errors import ConfigError

__all__ = [
    "IOConfig",
    "StackConfig",
    "MixerConfig",
    "ModelConfig",
    "register_preset",
    "get_preset",
    "list_presets",
    "resolve_model",
    "from_plain",
]


@dataclass(frozen=True)
class IOConfig:
    """What goes in and out: grid shape and channel counts."""

    grid_shape: tuple[int, int]  # (nlat, nlon) of the data grid
    state_channels: int  # prognostic channels in and out
    forcing_channels: int = 5  # atmospheric forcing valid at the target day
    static_channels: int = 0  # ocean mask per level (0 = mask only zeroes land)
    periodic_lon: bool = True  # the grid wraps round in longitude

    @property
    def in_channels(self) -> int:
        return self.state_channels + self.forcing_channels + self.static_channels

    @property
    def out_channels(self) -> int:
        return self.state_channels


@dataclass(frozen=True)
class StackConfig:
    """A stack of AFNO blocks: token width and number of blocks."""

    width: int
    depth: int


@dataclass(frozen=True)
class MixerConfig:
    """AFNO token mixing (FourCastNet's AFNO2D; AI-GOMS's settings by default)."""

    num_blocks: int = 8  # block-diagonal complex MLP blocks
    sparsity: float = 0.01  # soft-shrink threshold
    mlp_ratio: float = 4.0
    double_skip: bool = True
    lat_padding: bool = True  # zero-pad the token grid in latitude before the FFT (no pole-to-pole wrap)
    hard_threshold_fraction: float = 1.0  # share of Fourier modes kept


@dataclass(frozen=True)
class ModelConfig:
    """A whole :class:`backbone.model.FourierMAE`."""

    io: IOConfig
    patch: tuple[int, int]
    encoder: StackConfig
    decoder: StackConfig
    mixer: MixerConfig = field(default_factory=MixerConfig)
    residual: bool = True  # predict the normalised daily tendency (scaled by tendency_std)
    name: str = "custom"

    def __post_init__(self) -> None:
        for stack, what in ((self.encoder, "encoder"), (self.decoder, "decoder")):
            if stack.width % self.mixer.num_blocks:
                raise ConfigError(f"{what} width {stack.width} is not divisible by "
                                  f"mixer.num_blocks={self.mixer.num_blocks}; choose a multiple")
            if stack.width % 4:
                raise ConfigError(f"{what} width {stack.width} must be a multiple of 4 "
                                  "(2-D sin-cos position embedding)")
        if min(self.patch) < 1 or min(self.io.grid_shape) < 1:
            raise ConfigError(f"patch {self.patch} and grid {self.io.grid_shape} must be positive")

    @property
    def token_grid(self) -> tuple[int, int]:
        """Tokens in latitude and longitude (the grid is padded up to whole patches)."""
        (h, w), (p, q) = self.io.grid_shape, self.patch
        return (-(-h // p), -(-w // q))

    def to_dict(self) -> dict:
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: Mapping) -> "ModelConfig":
        return from_plain(cls, d)

    def replace(self, **changes: Any) -> "ModelConfig":
        """A copy with fields changed; sub-configs may be given as dicts of changes."""
        out = {}
        for k, v in changes.items():
            if not hasattr(self, k):
                raise ConfigError(f"ModelConfig has no field {k!r}; fields: "
                                  f"{', '.join(f.name for f in dataclasses.fields(self))}")
            cur = getattr(self, k)
            out[k] = dataclasses.replace(cur, **v) if dataclasses.is_dataclass(cur) and isinstance(v, Mapping) \
                else v
        return from_plain(ModelConfig, _plain(dataclasses.asdict(dataclasses.replace(self, **out))))


# -- typed construction from plain data (YAML / JSON) ---------------------------------

def _plain(x):
    if isinstance(x, tuple):
        return [_plain(v) for v in x]
    if isinstance(x, list):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def from_plain(cls, data: Any, where: str = ""):
    """Build dataclass ``cls`` from nested dicts, checking names and coercing tuples.

    Unknown keys are an error that names the known ones, so a typo in a YAML
    file fails loudly instead of being ignored.
    """
    if not dataclasses.is_dataclass(cls):
        return data
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where or cls.__name__}: expected a mapping of fields, found {data!r}")
    import typing

    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where or cls.__name__}: unknown field(s) {unknown}; known fields: {sorted(names)}")
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, f"{where}.{name}" if where else name)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where or cls.__name__}: {exc}") from exc


def _coerce(tp, value, where: str):
    import typing

    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return from_plain(tp, value, where)
    if origin is tuple and value is not None:
        if args and args[-1] is Ellipsis:
            return tuple(_coerce(args[0], v, where) for v in value)
        return tuple(_coerce(a, v, where) for a, v in zip(args, value)) if args else tuple(value)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None:
            return None
        for a in args:
            if a is type(None):
                continue
            if dataclasses.is_dataclass(a) or typing.get_origin(a) is tuple:
                return _coerce(a, value, where)
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is str and isinstance(value, datetime.date):  # YAML reads 2020-01-01 as a date
        return value.isoformat()
    return value


# -- preset registry ------------------------------------------------------------------

_PRESETS: dict[str, Callable[[], ModelConfig]] = {}


def register_preset(name: str) -> Callable[[Callable[[], ModelConfig]], Callable[[], ModelConfig]]:
    """Decorator: register a function returning a :class:`ModelConfig` under ``name``."""

    def deco(fn: Callable[[], ModelConfig]) -> Callable[[], ModelConfig]:
        if name in _PRESETS:
            raise ValueError(f"preset {name!r} is registered twice")
        _PRESETS[name] = fn
        return fn

    return deco


def get_preset(name: str, **overrides: Any) -> ModelConfig:
    """The registered config ``name``, with top-level fields overridden."""
    try:
        cfg = _PRESETS[name]()
    except KeyError:
        raise ConfigError(f"unknown backbone preset {name!r}; registered: {', '.join(list_presets())}") from None
    return cfg.replace(**overrides) if overrides else cfg


def list_presets() -> list[str]:
    return sorted(_PRESETS)


def resolve_model(spec: str, **overrides: Any) -> ModelConfig:
    """A preset name, or the path of a YAML file holding a ``ModelConfig`` (``configs/model/``)."""
    if str(spec).endswith((".yaml", ".yml")):
        from pathlib import Path

        import yaml

        path = Path(spec)
        if not path.is_file():
            raise ConfigError(f"model config {path} not found; presets: {', '.join(list_presets())}")
        try:
            cfg = ModelConfig.from_dict(yaml.safe_load(path.read_text()))
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        return cfg.replace(**overrides) if overrides else cfg
    return get_preset(spec, **overrides)


@register_preset("tiny")
def tiny() -> ModelConfig:
    """Tests: the 8x16 grid with 3 levels of ``tests/conftest.py`` (13 state channels)."""
    return ModelConfig(
        io=IOConfig(grid_shape=(8, 16), state_channels=13, forcing_channels=5, static_channels=3),
        patch=(2, 2),
        encoder=StackConfig(width=32, depth=2),
        decoder=StackConfig(width=48, depth=1),
        mixer=MixerConfig(num_blocks=4),
        residual=True,
        name="tiny",
    )


@register_preset("demo")
def demo() -> ModelConfig:
    """The embedded model: global 4 degrees (45x90), 15 levels, CPU-friendly.

    3x3 patches divide 45x90 exactly (15x30 = 450 tokens, 12 degrees each).
    The per-level ocean mask is an input (15 static channels).
    """
    return ModelConfig(
        io=IOConfig(grid_shape=(45, 90), state_channels=61, forcing_channels=5, static_channels=15),
        patch=(3, 3),
        encoder=StackConfig(width=128, depth=4),
        decoder=StackConfig(width=192, depth=2),
        mixer=MixerConfig(num_blocks=8),
        residual=True,
        name="demo",
    )


@register_preset("aigoms")
def aigoms() -> ModelConfig:
    """AI-GOMS at 1/4 degree: 720x1440, 8x8 patches (90x180 = 16,200 tokens), 66 in / 61 out.

    Encoder 512 x 16 blocks, decoder 1024 x 8, AFNO with 8 blocks, soft-shrink
    0.01, MLP ratio 4, double skip, plain 2-D FFT over the token grid (no
    latitude padding) and direct (non-residual) prediction, as published. No
    static input channels (land is zero in the inputs and zeroed in the
    outputs), which keeps the 66 inputs exact.
    """
    return ModelConfig(
        io=IOConfig(grid_shape=(720, 1440), state_channels=61, forcing_channels=5, static_channels=0),
        patch=(8, 8),
        encoder=StackConfig(width=512, depth=16),
        decoder=StackConfig(width=1024, depth=8),
        mixer=MixerConfig(num_blocks=8, sparsity=0.01, mlp_ratio=4.0, double_skip=True, lat_padding=False),
        residual=False,  # AI-GOMS predicts the next state directly; residual=True is the option
        name="aigoms",
    )
