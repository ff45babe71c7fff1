"""The wave head's module: significant height, a period and the mean direction from features + 10 m winds.

Inputs per cell (besides the backbone's features and the previous wave
state): ``u10``, ``v10`` (normalised with the backbone's forcing
statistics), the wind speed and its square (the fully developed wind sea
grows as ``U^2``). Outputs: ``VHM0`` and the period in log space (positive
by construction), ``VMDR`` as its sine and cosine.
"""

from __future__ import annotations

from typing import Mapping

import torch

from downstream.fields import FieldHead, OutputChannel
from downstream.frozen import FrozenBackbone
from downstream.waves.config import WavesConfig
from ocean.errors import ConfigError
from ocean.normalize import split_channel

__all__ = ["WavesNet", "wave_channels", "make_net"]


def wave_channels(config: WavesConfig) -> tuple[OutputChannel, ...]:
    return (OutputChannel("VHM0", "VHM0", transform="log", floor=0.01),
            OutputChannel(config.period, config.period, transform="log", floor=0.1),
            OutputChannel("VMDR_sin", "VMDR", component="sin"),
            OutputChannel("VMDR_cos", "VMDR", component="cos"))


class WavesNet(FieldHead):
    """See the module docstring; ``ice_sst`` masks sea ice at forecast time."""

    def __init__(self, config: WavesConfig, backbone: FrozenBackbone):
        forcing = list(backbone.metadata.forcing_variables)
        missing = [v for v in ("u10", "v10") if v not in forcing]
        if missing:
            raise ConfigError(f"the wave head needs 10 m winds in the backbone's forcing; it has {forcing}")
        index = [forcing.index("u10"), forcing.index("v10")]
        super().__init__(config.net, wave_channels(config), 4, backbone.token_layout, backbone.feature_width,
                         forcing_index=index, static_levels=[0])
        self.config = config
        stats = backbone.metadata.forcing_statistics.select(["u10", "v10"])
        self.register_buffer("wind_mean", torch.as_tensor(stats.mean, dtype=torch.float32), persistent=False)
        self.register_buffer("wind_std", torch.as_tensor(stats.std, dtype=torch.float32), persistent=False)
        sst = [i for i, c in enumerate(backbone.channels) if split_channel(c)[0] == "thetao"]
        self.sst_index = sst[0] if sst else None

    def make_inputs(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``(b, 4, lat, lon)``: u10, v10 (normalised), speed / 10 m/s, speed^2 / 100 m2/s2."""
        f = batch["forcing"].float()
        wind = f * self._c(self.wind_std) + self._c(self.wind_mean)  # (b, 2, h, w) m/s
        speed2 = (wind ** 2).sum(dim=1, keepdim=True)
        return torch.cat([f, speed2.sqrt() / 10.0, speed2 / 100.0], dim=1)

    def extra_mask(self, state: torch.Tensor) -> torch.Tensor | None:
        """Sea ice ``(b, lat, lon)``: forecast surface temperature below ``ice_sst``."""
        if self.config.ice_sst is None or self.sst_index is None:
            return None
        return torch.nan_to_num(state[:, self.sst_index], nan=99.0) < self.config.ice_sst


def make_net(config: WavesConfig, backbone: FrozenBackbone) -> WavesNet:
    return WavesNet(config, backbone)
