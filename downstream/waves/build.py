"""Building the wave head for training, and rebuilding it from its model directory."""

from __future__ import annotations

from pathlib import Path

from downstream.fields import build_field_head
from downstream.frozen import FrozenBackbone
from downstream.registry import HeadBuild
from downstream.waves.config import WavesConfig, WavesTrainConfig
from downstream.waves.model import WavesNet, make_net
from ocean.checkpoint import ModelMetadata

__all__ = ["build", "rebuild"]


def build(config: WavesTrainConfig, backbone: FrozenBackbone) -> HeadBuild:
    """The head, its training pairs (backbone cube + wave truth) and its metadata."""
    hc, dc = config.head, config.data
    net = make_net(hc, backbone)
    data = {"cube": str(Path(dc.cube).resolve()), "truth": str(Path(dc.truth).resolve()), "train": list(dc.train),
            "val": list(dc.val), "every": dc.every}
    metadata = {"kind": "head/waves", "config": {"head": hc.to_dict(), "data": data},
                "variables": ("VHM0", hc.period, "VMDR"), "grid": backbone.grid, "levels": None,
                "channels": tuple(c.name for c in net.channels),
                "provenance": {"train_period": list(dc.train), "val_period": list(dc.val), "truth": data["truth"]}}
    return build_field_head(net, backbone, cube=dc.cube, truth_path=dc.truth, train=dc.train, val=dc.val,
                            every=dc.every, batch_size=config.schedule.batch_size,
                            val_batch_size=config.schedule.val_batch_size, metadata=metadata)


def rebuild(meta: ModelMetadata, backbone: FrozenBackbone) -> WavesNet:
    """The architecture of a saved head (weights and buffers are loaded by the caller)."""
    return make_net(WavesConfig.from_dict(meta.config["head"]), backbone)
