"""Regional downscaling head: backbone forecast -> fine regional T, S, U, V, SSH (docs/downstream.md).

Importing this package registers the head ``downscaling`` (see
:mod:`downstream.registry`). Inputs: the backbone's decoder features over the
region, the coarse forecast fields there and high-resolution bathymetry;
output: the configured variables and levels on the region's fine grid
(Kuroshio, 1/4 -> 1/12 degree by default), land-masked at the fine grid.

    ocean train head downscaling --config configs/train/downscaling_demo.yaml
    ocean forecast --heads downscaling=HEAD_DIR ...
"""

from __future__ import annotations

from pathlib import Path

from downstream.downscaling.build import build, rebuild
from downstream.downscaling.config import DownscalingConfig, DownscalingData, DownscalingTrainConfig, NetConfig
from downstream.downscaling.runner import DownscalingRunner
from downstream.registry import HeadSpec, register_head

__all__ = ["DownscalingConfig", "DownscalingData", "DownscalingTrainConfig", "NetConfig", "SPEC"]

SPEC = register_head(HeadSpec(
    name="downscaling",
    summary="regional downscaling (Kuroshio 1/4 -> 1/12 degree by default): T, S, U, V, SSH on a fine grid",
    config_type=DownscalingTrainConfig,
    build=build,
    rebuild=rebuild,
    runner=DownscalingRunner,
    packaged=(Path(__file__).resolve().parent / "assets" / "demo",),
))
