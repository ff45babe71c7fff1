"""The biogeochemistry head's module: chl, nutrients, O2 (and NPP) on the model levels.

Inputs per cell (besides the backbone's features and the previous BGC
state): the day's physical state (the backbone's normalised channels, or
the ``state`` variables of the config), ``u10`` and ``v10`` (wind-driven
upwelling) and the season (sine and cosine of the day of the year: light).
Every output channel is learned in log space, so the concentrations are
positive by construction.
"""

from __future__ import annotations

from typing import Mapping

import torch
from einops import repeat

from downstream.biochem.config import FLOORS, BiochemConfig
from downstream.fields import FieldHead, OutputChannel, output_levels
from downstream.frozen import FrozenBackbone
from ocean.errors import ConfigError
from ocean.levels import Levels
from ocean.normalize import split_channel

__all__ = ["BiochemNet", "bgc_channels", "make_net"]


def bgc_channels(config: BiochemConfig, levels: Levels) -> tuple[OutputChannel, ...]:
    return tuple(OutputChannel(f"{v}@{d:g}", v, depth=d, transform="log", floor=FLOORS[v])
                 for v in config.variables for d in levels.depths)


class BiochemNet(FieldHead):
    """See the module docstring."""

    def __init__(self, config: BiochemConfig, backbone: FrozenBackbone):
        levels = output_levels(config.levels, backbone, "biochem")
        channels = list(backbone.channels)
        state = [i for i, c in enumerate(channels) if config.state is None or split_channel(c)[0] in config.state]
        if not state:
            raise ConfigError(f"head.state {list(config.state or [])} names none of the backbone's variables "
                              f"({list(backbone.metadata.variables)})")
        forcing = list(backbone.metadata.forcing_variables)
        winds = [forcing.index(v) for v in ("u10", "v10") if v in forcing]
        have = backbone.metadata.levels
        out = bgc_channels(config, levels)
        super().__init__(config.net, out, len(state) + len(winds) + 2, backbone.token_layout,
                         backbone.feature_width, state_index=state, forcing_index=winds,
                         static_levels=[have.index(d) for d in levels.depths],
                         channel_levels=[have.index(ch.depth) for ch in out])
        self.config, self.levels = config, levels

    def make_inputs(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``(b, state + winds + 2, lat, lon)``: the state and winds (normalised) and the season."""
        state, forcing = batch["state"].float(), batch["forcing"].float()
        season = repeat(batch["doy"].float(), "b k -> b k h w", h=state.shape[-2], w=state.shape[-1])
        return torch.cat([state, forcing, season], dim=1)


def make_net(config: BiochemConfig, backbone: FrozenBackbone) -> BiochemNet:
    return BiochemNet(config, backbone)
