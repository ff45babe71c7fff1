"""Wave head: significant wave height, a period and the mean direction (docs/waves_biochem.md).

Importing this package registers the head ``waves`` (see
:mod:`downstream.registry`). Inputs: the backbone's decoder features, the
10 m winds of the day and the previous wave state; outputs ``VHM0``,
``VTM02`` (or ``VTPK``) and ``VMDR`` on the backbone's grid, land and sea
ice masked. Readers for the truth (ERA5 / CMEMS wave fields) and for
verification (WAVEWATCH III spectra, NDBC buoys) are in
:mod:`downstream.waves.readers`; buoy scores in :mod:`downstream.waves.verify`.

    ocean train head waves --config configs/train/waves_demo.yaml
    ocean forecast --heads waves=HEAD_DIR ...
"""

from __future__ import annotations

from pathlib import Path

from downstream.fields import FieldRunner
from downstream.registry import HeadSpec, register_head
from downstream.waves.build import build, rebuild
from downstream.waves.config import WavesConfig, WavesData, WavesTrainConfig

__all__ = ["WavesConfig", "WavesData", "WavesTrainConfig", "SPEC"]

SPEC = register_head(HeadSpec(
    name="waves",
    summary="wave decoding: VHM0, VTM02 / VTPK and VMDR from features, 10 m winds and the previous wave state",
    config_type=WavesTrainConfig,
    build=build,
    rebuild=rebuild,
    runner=FieldRunner,
    packaged=(Path(__file__).resolve().parent / "assets" / "demo",),
))
