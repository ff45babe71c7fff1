"""A tiny trained model and cube on the synthetic ocean, shared by the forecast tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ocean.grid import Grid
from ocean.levels import Levels

ROOT = Path(__file__).resolve().parents[1]
GRID = Grid.global_(22.5, name="tiny")
LEVELS = Levels((0.5, 10.0, 100.0), "tiny3")
DAYS = pd.date_range("2020-01-01", periods=12, freq="D")


def synthetic_cube(path: Path, levels: Levels = LEVELS) -> Path:
    from ocean.cube import write_cube
    from ocean.normalize import compute_statistics
    from ocean.synthetic import SyntheticOcean

    so = SyntheticOcean(GRID, levels=levels, seed=0)
    ds = so.physics(DAYS).merge(so.forcing(DAYS))
    ds["mask"] = so.static()["mask"].astype(np.int8)
    return write_cube(ds, path, statistics=compute_statistics(ds.drop_vars("mask")))


def tiny_model(cube: Path, out: Path) -> Path:
    from backbone.train import train_backbone
    from backbone.train_config import load_train_config

    cfg = load_train_config(ROOT / "configs" / "train" / "tiny.yaml", [
        f"data.cube={cube}", f"output_dir={out / 'run'}", f"export={out / 'model'}",
        "data.train=['2020-01-01', '2020-01-08']", "data.val=['2020-01-06', '2020-01-12']",
        "phases=[{name: forecast, max_steps: 2}]"])
    return train_backbone(cfg).model_dir
