"""Physical units and ``ocean.Batch`` around a :class:`FourierMAE`; model directories.

:class:`Forecaster` composes normalise -> model -> denormalise (graphcast's
``InputsAndResiduals`` pattern) and carries the :class:`ModelMetadata`
that says which variables, levels, grid and statistics the weights belong
to. It is what ``ocean forecast`` and the heads load::

    fc = Forecaster.load("MODEL_DIR")            # safetensors + metadata.json
    out = fc.predict(batch, steps=30)             # ocean.Batch in, ocean.Batch out
    for state in fc.rollout(state, forcings): ... # physical tensors

``fc.model`` is the :class:`FourierMAE` (normalised tensors); heads call its
public methods with :meth:`Forecaster.normalise_state` /
:meth:`Forecaster.normalise_forcing` applied first.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from backbone.config import ModelConfig
from backbone.model import FourierMAE
from ocean.batch import Batch
from ocean.checkpoint import (WEIGHTS_FILE, ModelMetadata, check_compatible, check_tensor_shapes, load_model_dir,
                              read_metadata, save_model_dir, tensor_shapes)
from ocean.errors import ConfigError, DataError
from ocean.grid import Grid
from ocean.levels import Levels
from ocean.normalize import Statistics, channel_names
from ocean.variables import get as get_variable

__all__ = ["Forecaster", "build_metadata", "check_config", "approx_parameters", "channel_mask", "static_inputs", "KIND"]

log = logging.getLogger(__name__)

KIND = "backbone"


def channel_mask(variables: Sequence[str], levels: Levels | None, level_mask: np.ndarray) -> np.ndarray:
    """Per-channel ocean mask ``(channels, lat, lon)`` from a per-level mask ``(depth, lat, lon)``."""
    level_mask = np.asarray(level_mask, dtype=bool)
    parts = [level_mask if get_variable(v).is_3d else level_mask[:1] for v in variables]
    return np.concatenate(parts, axis=0)


def static_inputs(level_mask: np.ndarray, count: int) -> np.ndarray:
    """The static input channels: the ocean mask of the first ``count`` levels (1 ocean, 0 land)."""
    if count == 0:
        return np.zeros((0, *level_mask.shape[1:]), dtype=np.float32)
    if count > len(level_mask):
        raise DataError("the model wants more static mask channels than the data have levels",
                        found=len(level_mask), expected=count)
    return np.asarray(level_mask[:count], dtype=np.float32)


#: Sane bounds on what a metadata document may ask to allocate (AI-GOMS: widths 512/1024, 16+8 blocks,
#: 16,200 tokens; these allow 8x that and more, and refuse typos such as a width of 1e9).
MAX_WIDTH, MAX_DEPTH, MAX_TOKEN_FLOATS = 8192, 128, 2 ** 28


def check_config(meta: ModelMetadata, path=None) -> ModelConfig:
    """The metadata's :class:`ModelConfig`, refused (exit 3) when its sizes are impossible.

    Compares the channel counts and grid shape with the metadata's own
    channels and grid, and bounds widths, depths and token-grid sizes, so
    that nothing absurd is allocated before the weights are checked.
    """
    file = None if path is None else Path(path) / "metadata.json"
    try:
        config = ModelConfig.from_dict(meta.config)
    except (ConfigError, TypeError, ValueError, KeyError) as exc:
        raise DataError(f"the model config in the metadata cannot be used ({exc})", file=file,
                        variable="config", expected="a backbone ModelConfig (ocean export writes it)") from exc
    io, problems = config.io, []

    def want(name, found, expected):
        if found != expected:
            problems.append(f"{name} {found} (expected {expected})")

    want("config.io.state_channels", io.state_channels, len(meta.channels))
    if meta.statistics is not None:
        want("statistics channels", len(meta.statistics.channels), len(meta.channels))
    want("config.io.forcing_channels", io.forcing_channels, len(meta.forcing_channels))
    want("config.io.grid_shape", tuple(io.grid_shape), tuple(meta.grid.shape))
    levels = len(meta.levels) if meta.levels is not None else 0
    if not 0 <= io.static_channels <= max(levels, 1):
        problems.append(f"config.io.static_channels {io.static_channels} (expected 0..{levels}, the levels)")
    for name, stack in (("encoder", config.encoder), ("decoder", config.decoder)):
        if not 1 <= stack.width <= MAX_WIDTH:
            problems.append(f"config.{name}.width {stack.width} (expected 1..{MAX_WIDTH})")
        if not 1 <= stack.depth <= MAX_DEPTH:
            problems.append(f"config.{name}.depth {stack.depth} (expected 1..{MAX_DEPTH})")
    if not all(1 <= p <= g for p, g in zip(config.patch, io.grid_shape)):
        problems.append(f"config.patch {tuple(config.patch)} (expected 1..grid {tuple(io.grid_shape)})")
    if not 0 < config.mixer.mlp_ratio <= 16:
        problems.append(f"config.mixer.mlp_ratio {config.mixer.mlp_ratio} (expected 0..16)")
    if not problems:
        h, w = config.token_grid
        floats = h * w * max(config.encoder.width, config.decoder.width)
        if floats > MAX_TOKEN_FLOATS:
            problems.append(f"token grid {h}x{w} x width {max(config.encoder.width, config.decoder.width)} = "
                            f"{floats:.3g} values per position embedding (expected at most {MAX_TOKEN_FLOATS:.3g})")
    if problems:
        raise DataError("the model metadata has impossible sizes", file=file, variable="config",
                        found="; ".join(problems), expected="sizes that agree with the metadata's channels, "
                        "grid and levels, within sane bounds", hint="Re-export the model from its training checkpoint")
    return config


def approx_parameters(config: ModelConfig) -> int:
    """Values a :class:`FourierMAE` of ``config`` holds in its state dict, to within a few percent.

    Patch embedding and recovery, per AFNO block ``4 w^2 / blocks`` (mixer)
    plus ``2 ratio w^2`` (MLP), the bridge, and the mask buffers. Used to
    refuse metadata that would allocate far more than the weights file holds.
    """
    io, (p, q) = config.io, config.patch
    h, w = io.grid_shape

    def stack(s):
        return s.depth * (4 * s.width ** 2 // config.mixer.num_blocks + int(2 * config.mixer.mlp_ratio * s.width ** 2))

    return (io.in_channels * p * q * config.encoder.width + stack(config.encoder) + stack(config.decoder)
            + config.encoder.width * config.decoder.width + config.decoder.width * io.out_channels * p * q
            + (io.out_channels + io.static_channels) * h * w)


def build_metadata(config: ModelConfig, *, variables: Sequence[str], levels: Levels | None, grid: Grid,
                   statistics: Statistics, forcing_variables: Sequence[str],
                   forcing_statistics: Statistics | None, provenance: dict | None = None) -> ModelMetadata:
    """The metadata of a backbone trained on these data."""
    return ModelMetadata(
        kind=KIND, preset=config.name, config=config.to_dict(), variables=tuple(variables), grid=grid,
        levels=levels, forcing_variables=tuple(forcing_variables),
        channels=tuple(channel_names(variables, levels)),
        forcing_channels=tuple(channel_names(forcing_variables, None)),
        statistics=statistics, forcing_statistics=forcing_statistics, provenance=dict(provenance or {}))


class Forecaster(nn.Module):
    """A backbone in physical units: normalise -> :class:`FourierMAE` -> denormalise."""

    def __init__(self, model: FourierMAE, metadata: ModelMetadata):
        super().__init__()
        if metadata.statistics is None:
            raise DataError("the model metadata has no normalisation statistics", expected="statistics")
        self.model = model
        self.metadata = metadata
        self.statistics = metadata.statistics.select(metadata.channels)
        self.forcing_statistics = metadata.forcing_statistics

    # -- model directories -----------------------------------------------------------------
    @classmethod
    def load(cls, path: "str | os.PathLike", device: str = "cpu") -> "Forecaster":
        """Load a model directory written by :meth:`save` or ``ocean export``.

        Everything is verified before a tensor is allocated: the metadata
        (hashes, statistics: :func:`ocean.checkpoint.read_metadata`), the
        sizes in the config against the metadata and sane bounds
        (:func:`check_config`), the tensors' names and shapes in the file's
        header against the architecture built on the ``meta`` device, then
        the weights' sha256.
        """
        meta = read_metadata(path)
        if meta.kind != KIND:
            raise DataError("the model directory holds another kind of model", file=path,
                            found=meta.kind, expected=KIND)
        config = check_config(meta, path)
        found = tensor_shapes(path)
        stored = sum(math.prod(shape) for shape in found.values())
        wanted = approx_parameters(config)
        if wanted > 2 * stored + 2 ** 20:  # the config asks for far more than the file holds: do not build it
            raise DataError("the model metadata describes a much larger model than its weights", file=path,
                            variable="config", found=f"~{wanted:.3g} values from the config",
                            expected=f"about the {stored:.3g} values stored in {WEIGHTS_FILE}",
                            hint="The weights and metadata.json come from different models; re-export it")
        model = FourierMAE(config)
        check_tensor_shapes(path, {k: v.shape for k, v in model.state_dict().items()},
                            f"preset {meta.preset!r} as its metadata describes it")
        state, meta = load_model_dir(path, device=device)
        model.load_state_dict(state, strict=True)
        return cls(model.to(device).eval(), meta)

    def save(self, path: "str | os.PathLike") -> ModelMetadata:
        return save_model_dir(path, self.model.state_dict(), self.metadata)

    # -- normalisation ------------------------------------------------------------------------
    def normalise_state(self, state: torch.Tensor) -> torch.Tensor:
        """Physical ``(b, c, lat, lon)`` -> normalised, land 0."""
        x = self.statistics.normalise(state.to(self._dtype), channel_axis=-3)
        return x * self.model.ocean_mask.to(x.dtype)

    def denormalise_state(self, state: torch.Tensor) -> torch.Tensor:
        x = self.statistics.denormalise(state, channel_axis=-3)
        return x * self.model.ocean_mask.to(x.dtype)

    def normalise_forcing(self, forcing: torch.Tensor) -> torch.Tensor:
        if self.forcing_statistics is None:
            return forcing.to(self._dtype)
        return self.forcing_statistics.normalise(forcing.to(self._dtype), channel_axis=-3)

    @property
    def _dtype(self) -> torch.dtype:
        return self.model.embed.proj.weight.dtype

    # -- forecasting --------------------------------------------------------------------------
    @torch.no_grad()
    def step(self, state: torch.Tensor, forcing: torch.Tensor) -> torch.Tensor:
        """Physical state of day t+1 from day t and the forcing valid on day t+1."""
        return self.denormalise_state(self.model.step(self.normalise_state(state), self.normalise_forcing(forcing)))

    @torch.no_grad()
    def rollout(self, state: torch.Tensor, forcings: "torch.Tensor | Iterable[torch.Tensor]"
                ) -> Iterator[torch.Tensor]:
        """Yield physical states ``(b, c, lat, lon)`` of days t+1, t+2, ... one per forcing."""
        seq = forcings.unbind(dim=1) if isinstance(forcings, torch.Tensor) else forcings
        x = self.normalise_state(state)
        for forcing in seq:
            x = self.model.step(x, self.normalise_forcing(forcing))
            yield self.denormalise_state(x)

    def check(self, batch: Batch) -> None:
        """Refuse a batch whose variables, levels, grid or forcing differ from the model's."""
        self.check_data(batch.variables, batch.levels, batch.grid,
                        batch.forcing_variables if batch.forcing is not None else None)

    def check_data(self, variables, levels: Levels | None, grid: Grid, forcing_variables=None) -> None:
        """Refuse data (e.g. a cube) whose variables, levels, grid or forcing differ from the model's."""
        check_compatible(self.metadata, variables=variables, levels=levels, grid=grid,
                         forcing_variables=forcing_variables)

    @torch.no_grad()
    def predict(self, batch: Batch, forcing: torch.Tensor | None = None, steps: int | None = None) -> Batch:
        """Forecast from ``batch.state[:, 0]``; returns a Batch of the ``steps`` predicted days.

        Forcing for the predicted days is ``forcing`` (b, steps, f, lat, lon)
        or, when not given, ``batch.forcing[:, 1:]`` (a batch holding the
        initial day and the days to predict).
        """
        self.check(batch)
        if forcing is None:
            if batch.forcing is None or batch.forcing.shape[1] < 2:
                raise DataError("no forcing for the days to predict",
                                found=None if batch.forcing is None else tuple(batch.forcing.shape),
                                expected="forcing=(batch, steps, fchannel, lat, lon) or a batch whose forcing "
                                         "covers the initial day and the days to predict")
            forcing = batch.forcing[:, 1:]
        steps = forcing.shape[1] if steps is None else steps
        if forcing.shape[1] < steps:
            raise DataError("not enough forcing days", found=forcing.shape[1], expected=f">= {steps}")
        device = self.model.ocean_mask.device
        states = list(self.rollout(batch.state[:, 0].to(device), forcing[:, :steps].to(device)))
        out = torch.stack(states, dim=1).cpu()  # (B, steps, C, H, W)
        t0 = batch.time[:, :1]
        time = t0 + np.arange(1, steps + 1) * np.timedelta64(1, "D")
        return Batch(out, batch.mask, time, batch.grid, batch.levels, batch.variables,
                     forcing[:, :steps].cpu(), batch.forcing_variables)
