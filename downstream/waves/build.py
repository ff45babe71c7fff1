"""Building the wave head for training, and rebuilding it from its model directory."""

from __future__ import annotations

from downstream.fields import build_field_head
from downstream.frozen import FrozenBackbone
from downstream.registry import HeadBuild
from downstream.waves.config import WavesConfig, WavesTrainConfig
from downstream.waves.model import WavesNet, make_net
from ocean.checkpoint import ModelMetadata

__all__ = ["build", "rebuild"]


def build(config: WavesTrainConfig, backbone: FrozenBackbone) -> HeadBuild:
    """The head, its training pairs (backbone cube + wave truth) and its metadata."""
    net = make_net(config.head, backbone)
    return build_field_head(net, backbone, config, kind="head/waves",
                            variables=("VHM0", config.head.period, "VMDR"), levels=None)


def rebuild(meta: ModelMetadata, backbone: FrozenBackbone) -> WavesNet:
    """The architecture of a saved head (weights and buffers are loaded by the caller)."""
    return make_net(WavesConfig.from_dict(meta.config["head"]), backbone)
