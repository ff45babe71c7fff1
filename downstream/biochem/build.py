"""Building the biogeochemistry head for training, and rebuilding it from its model directory."""

from __future__ import annotations

from downstream.biochem.config import BiochemConfig, BiochemTrainConfig
from downstream.biochem.model import BiochemNet, make_net
from downstream.fields import build_field_head
from downstream.frozen import FrozenBackbone
from downstream.registry import HeadBuild
from ocean.checkpoint import ModelMetadata

__all__ = ["build", "rebuild"]


def build(config: BiochemTrainConfig, backbone: FrozenBackbone) -> HeadBuild:
    """The head, its training pairs (backbone cube + BGC truth) and its metadata."""
    net = make_net(config.head, backbone)
    return build_field_head(net, backbone, config, kind="head/biochem", variables=config.head.variables,
                            levels=net.levels)


def rebuild(meta: ModelMetadata, backbone: FrozenBackbone) -> BiochemNet:
    """The architecture of a saved head (weights and buffers are loaded by the caller)."""
    return make_net(BiochemConfig.from_dict(meta.config["head"]), backbone)
