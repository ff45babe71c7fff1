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
import os
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from backbone.config import ModelConfig
from backbone.model import FourierMAE
from ocean.batch import Batch
from ocean.checkpoint import ModelMetadata, check_compatible, load_model_dir, save_model_dir
from ocean.errors import DataError
from ocean.grid import Grid
from ocean.levels import Levels
from ocean.normalize import Statistics, channel_names
from ocean.variables import get as get_variable

__all__ = ["Forecaster", "build_metadata", "channel_mask", "static_inputs", "KIND"]

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
        """Load a model directory written by :meth:`save` or ``ocean export``."""
        state, meta = load_model_dir(path, device=device)
        if meta.kind != KIND:
            raise DataError("the model directory holds another kind of model", file=path,
                            found=meta.kind, expected=KIND)
        model = FourierMAE(ModelConfig.from_dict(meta.config))
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise DataError("the weights do not fit the architecture in the metadata", file=path,
                            found=f"missing {missing[:5]}, unexpected {unexpected[:5]}",
                            expected=f"the tensors of preset {meta.preset!r}")
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
