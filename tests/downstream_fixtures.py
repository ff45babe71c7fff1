"""A tiny backbone, fine truth cubes and a trained downscaling head, shared by the downstream tests.

The backbone and its cube are ``forecast_fixtures``' (global 22.5 degree grid,
3 levels, 12 days); a head is trained for a few steps through the CLI with
``configs/train/downscaling_tiny.yaml`` on a fine cube of the synthetic ocean
(the region's box refined 3x: 7.5 degree).
"""

from __future__ import annotations

from pathlib import Path

from forecast_fixtures import DAYS, GRID, LEVELS, ROOT, synthetic_cube, tiny_model

TINY_CONFIG = ROOT / "configs" / "train" / "downscaling_tiny.yaml"
#: A box across the dateline (160E .. 150W); on the 22.5 degree grid its cells run 157.5 .. 225.
DATELINE = {"name": "dateline", "lon_min": 160.0, "lon_max": -150.0, "lat_min": -20.0, "lat_max": 20.0}


def backbone(base: Path) -> tuple[Path, Path]:
    """``(model_dir, cube)`` of the tiny backbone."""
    cube = synthetic_cube(base / "cube.zarr")
    return tiny_model(cube, base), cube


def fine_cube(path: Path, region="kuroshio") -> Path:
    from downstream.downscaling.geometry import RegionGeometry, resolve_region
    from downstream.downscaling.truth import synthetic_truth_cube

    geometry = RegionGeometry.build(GRID, resolve_region(region), 3)
    synthetic_truth_cube(path, grid=geometry.fine, levels=LEVELS, start=str(DAYS[0].date()),
                         end=str(DAYS[-1].date()))
    return path


def train_args(model: Path, cube: Path, fine: Path, out: Path, *extra: str) -> list[str]:
    """``ocean train head downscaling`` arguments for the tiny config."""
    return ["train", "head", "downscaling", "--config", str(TINY_CONFIG), "--set", f"backbone={model}",
            "--set", f"data.coarse_cube={cube}", "--set", f"data.fine_cube={fine}",
            "--set", f"output_dir={out / 'run'}", "--set", f"export={out / 'head'}", *extra]


def trained_head(model: Path, cube: Path, fine: Path, out: Path, *extra: str) -> Path:
    from ocean.cli import main

    assert main(train_args(model, cube, fine, out, *extra)) == 0
    return out / "head"
