"""The demo end to end: the synthetic ocean's files (5 degree) -> configs/data/synthetic_4deg.yaml
(made 10 degree and 3 days for speed; conservative regridding) -> build, append, validate
through the CLI. Also: the shipped recipes parse."""

from pathlib import Path

import numpy as np
import pytest

from ocean.cli import main
from ocean.cube import cube_grid, cube_levels, open_cube, open_statistics
from ocean.levels import DEFAULT
from pipelines.recipe import load_recipe
from test_pipeline_support import restore_logging  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "configs" / "data").glob("*.yaml"))
pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_shipped_recipes_parse(path, monkeypatch, tmp_path):
    monkeypatch.setenv("OCEAN_DATA", str(tmp_path))
    recipe = load_recipe(path)
    assert recipe.levels.same_as(DEFAULT) and recipe.sources
    assert recipe.statistics[0] >= recipe.dates[0] and recipe.statistics[1] <= recipe.dates[-1]


def test_the_real_set_up_is_the_quarter_degree_fifteen_level_cube(monkeypatch, tmp_path):
    monkeypatch.setenv("OCEAN_DATA", str(tmp_path))
    recipe = load_recipe(ROOT / "configs" / "data" / "glorys12_era5_quarter.yaml")
    assert recipe.grid.shape == (720, 1440) and len(recipe.levels) == 15
    assert {s.kind for s in recipe.sources} >= {"reanalysis", "forcing", "bathymetry"}
    assert recipe.sources[0].files[0].startswith(str(tmp_path))


def test_synthetic_demo_build_append_validate(tmp_path, capsys):
    synthetic = pytest.importorskip("ocean.synthetic")
    data = tmp_path / "synthetic"
    synthetic.generate(data, grid="5deg", start="2020-01-01", days=4, progress=False)
    text = (ROOT / "configs" / "data" / "synthetic_4deg.yaml").read_text()
    assert "grid: 4deg" in text and "end: 2020-01-30}" in text
    recipe = tmp_path / "synthetic_small.yaml"  # coarser and shorter, for the test's sake
    recipe.write_text(text.replace("end: 2020-01-30}", "end: 2020-01-03}").replace("grid: 4deg", "grid: 10deg"))
    cube = tmp_path / "demo.zarr"
    common = ["--root", str(data), "--scheduler", "synchronous", "--no-progress"]
    assert main(["data", "build", str(recipe), "--out", str(cube), *common]) == 0
    assert main(["data", "append", str(recipe), "--date", "2020-01-04", "--cube", str(cube), *common]) == 0
    assert main(["data", "append", str(recipe), "--date", "2020-01-04", "--cube", str(cube), *common]) == 0
    assert main(["data", "validate", str(cube)]) == 0
    out = capsys.readouterr().out
    assert "already in the cube" in out and "valid training cube" in out
    ds = open_cube(cube)
    assert cube_grid(ds).shape == (18, 36) and cube_levels(ds).same_as(DEFAULT) and ds.sizes["time"] == 4
    assert set(ds.data_vars) >= {"thetao", "so", "uo", "vo", "zos", "u10", "v10", "t2m", "msl", "sp", "mask"}
    surface = ds.thetao.isel(time=0, depth=0)
    assert -3 < float(surface.min()) and float(surface.max()) < 40 and 0.5 < float(ds.mask.isel(depth=0).mean()) < 0.9
    assert np.all(np.isfinite(open_statistics(cube).thetao_tendency_std.values))
