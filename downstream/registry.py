"""The head registry: name -> config type, builder, loader and forecast-time runner.

A head package registers one :class:`HeadSpec` when it is imported::

    register_head(HeadSpec(
        name="waves", summary="significant wave height from features + 10 m winds",
        config_type=WavesTrainConfig,          # a HeadTrainConfig subclass (configs/train/waves*.yaml)
        build=build_waves,                     # (config, FrozenBackbone) -> HeadBuild (model + data + metadata)
        rebuild=rebuild_waves,                 # (ModelMetadata, FrozenBackbone) -> HeadModel, for loading
        runner=WavesRunner,                    # (HeadModel, ModelMetadata, ForecastContext) -> HeadRunner
        packaged=(Path(__file__).parent / "assets" / "demo",)))

and is listed in :data:`BUILTIN` so that :func:`get_head` finds it without
an import by the caller. ``ocean train head NAME`` and ``ocean forecast
--heads NAME`` both go through :func:`get_head`; an unknown name is a
:class:`~ocean.errors.ConfigError` (exit 3) that lists the known heads.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ocean.errors import ConfigError

__all__ = ["HeadSpec", "HeadBuild", "register_head", "get_head", "list_heads", "BUILTIN"]

log = logging.getLogger(__name__)

#: Modules that register a head when imported (name -> module).
BUILTIN: dict[str, str] = {
    "downscaling": "downstream.downscaling",
    "waves": "downstream.waves",
    "biochem": "downstream.biochem",
}


@dataclass(frozen=True)
class HeadBuild:
    """What a head's builder returns for a training run.

    ``model`` is the :class:`~downstream.head.HeadModel`; ``datamodule`` a
    LightningDataModule whose batches hold ``features`` (cached, frozen
    backbone) or ``backbone_state``/``backbone_forcing`` (with PEFT) plus the
    head's own inputs and targets; ``metadata`` the fields of the head's
    :class:`~ocean.checkpoint.ModelMetadata` (``grid``, ``variables``,
    ``levels``, ``channels``, ``statistics``, ``config``, ``provenance``).
    """

    model: Any
    datamodule: Any
    metadata: dict


@dataclass(frozen=True)
class HeadSpec:
    """One head: how to configure, build, train, reload and run it inside a forecast."""

    name: str
    summary: str
    config_type: type
    build: Callable[..., HeadBuild]
    rebuild: Callable[..., Any]
    runner: Callable[..., Any]
    packaged: tuple[Path, ...] = ()  # shipped model directories (chosen by backbone hash)

    @property
    def kind(self) -> str:
        """The ``ModelMetadata.kind`` of this head's model directories."""
        return f"head/{self.name}"


_HEADS: dict[str, HeadSpec] = {}


def register_head(spec: HeadSpec) -> HeadSpec:
    if spec.name in _HEADS and _HEADS[spec.name] is not spec:
        raise ValueError(f"head {spec.name!r} is registered twice")
    _HEADS[spec.name] = spec
    return spec


def _discover() -> None:
    for name, module in BUILTIN.items():
        if name not in _HEADS:
            importlib.import_module(module)


def list_heads() -> list[str]:
    _discover()
    return sorted(_HEADS)


def get_head(name: str) -> HeadSpec:
    """The registered head ``name``; an unknown name lists the known ones."""
    _discover()
    try:
        return _HEADS[name]
    except KeyError:
        raise ConfigError(f"unknown head {name!r}; known heads: {', '.join(sorted(_HEADS)) or 'none'}") from None
