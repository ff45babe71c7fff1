"""Biogeochemistry head: chl, no3, po4, si, o2 (and nppv) on the model levels (docs/waves_biochem.md).

Importing this package registers the head ``biochem`` (see
:mod:`downstream.registry`). Inputs: the backbone's decoder features, the
day's physical state, the winds, the season and the previous BGC state;
outputs positive by construction (learned in log space), land masked per
level. Readers for CMEMS BIO and CESM/POP output are in
:mod:`downstream.biochem.readers`.

    ocean train head biochem --config configs/train/biochem_demo.yaml
    ocean forecast --heads biochem=HEAD_DIR ...
"""

from __future__ import annotations

from pathlib import Path

from downstream.biochem.build import build, rebuild
from downstream.biochem.config import BiochemConfig, BiochemData, BiochemTrainConfig
from downstream.fields import FieldRunner
from downstream.registry import HeadSpec, register_head

__all__ = ["BiochemConfig", "BiochemData", "BiochemTrainConfig", "SPEC"]

SPEC = register_head(HeadSpec(
    name="biochem",
    summary="biogeochemistry: chl, nutrients and O2 on the model levels from features and the physical state",
    config_type=BiochemTrainConfig,
    build=build,
    rebuild=rebuild,
    runner=FieldRunner,
    packaged=(Path(__file__).resolve().parent / "assets" / "demo",),
))
