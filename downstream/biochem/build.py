"""Building the biogeochemistry head for training, and rebuilding it from its model directory."""

from __future__ import annotations

from pathlib import Path

from downstream.biochem.config import BiochemConfig, BiochemTrainConfig
from downstream.biochem.model import BiochemNet, make_net
from downstream.fields import build_field_head
from downstream.frozen import FrozenBackbone
from downstream.registry import HeadBuild
from ocean.checkpoint import ModelMetadata

__all__ = ["build", "rebuild"]


def build(config: BiochemTrainConfig, backbone: FrozenBackbone) -> HeadBuild:
    """The head, its training pairs (backbone cube + BGC truth) and its metadata."""
    hc, dc = config.head, config.data
    net = make_net(hc, backbone)
    data = {"cube": str(Path(dc.cube).resolve()), "truth": str(Path(dc.truth).resolve()), "train": list(dc.train),
            "val": list(dc.val), "every": dc.every}
    metadata = {"kind": "head/biochem", "config": {"head": hc.to_dict(), "data": data},
                "variables": tuple(hc.variables), "grid": backbone.grid, "levels": net.levels,
                "channels": tuple(c.name for c in net.channels),
                "provenance": {"train_period": list(dc.train), "val_period": list(dc.val), "truth": data["truth"]}}
    return build_field_head(net, backbone, cube=dc.cube, truth_path=dc.truth, train=dc.train, val=dc.val,
                            every=dc.every, batch_size=config.schedule.batch_size,
                            val_batch_size=config.schedule.val_batch_size, metadata=metadata)


def rebuild(meta: ModelMetadata, backbone: FrozenBackbone) -> BiochemNet:
    """The architecture of a saved head (weights and buffers are loaded by the caller)."""
    return make_net(BiochemConfig.from_dict(meta.config["head"]), backbone)
