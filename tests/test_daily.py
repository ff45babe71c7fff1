"""``ocean daily``: the cron chain (append the day, then forecast), idempotent."""

from pathlib import Path

import pytest

from forecast_fixtures import synthetic_cube, tiny_model
from ocean.cli import main
from ocean.cube import open_cube
from ocean.forecast_store import open_forecasts

ROOT = Path(__file__).resolve().parents[1]


def test_daily_chain_appends_then_forecasts_and_is_idempotent(tmp_path, capsys):
    from ocean.synthetic import generate

    model = tiny_model(synthetic_cube(tmp_path / "train.zarr"), tmp_path)
    data = tmp_path / "synthetic"
    generate(data, grid="5deg", start="2020-01-01", days=5, progress=False)
    text = (ROOT / "configs" / "data" / "synthetic_4deg.yaml").read_text()
    recipe = tmp_path / "tiny.yaml"  # the tiny model's grid and levels, 4 days
    recipe.write_text(text.replace("grid: 4deg", "grid: 22.5deg").replace("levels: aigoms15", "levels: [0.5, 10, 100]")
                      .replace("end: 2020-01-30}", "end: 2020-01-04}"))
    cube = tmp_path / "cube.zarr"
    common = ["--root", str(data), "--scheduler", "synchronous", "--no-progress"]
    assert main(["data", "build", str(recipe), "--out", str(cube), *common]) == 0
    daily = ["daily", "--recipe", str(recipe), "--date", "2020-01-05", "--cube", str(cube), *common,
             "--model", str(model), "--out", str(tmp_path / "fc"), "--leads", "3", "--no-quicklooks"]
    assert main(daily) == 0
    assert open_cube(cube).sizes["time"] == 5
    fc = open_forecasts(tmp_path / "fc")
    assert str(fc.init_time.values[0])[:10] == "2020-01-05" and fc.sizes["lead_time"] == 3
    capsys.readouterr()
    assert main(daily) == 0  # a rerun changes nothing
    out = capsys.readouterr().out
    assert "already in the cube" in out and "already published" in out


def test_daily_refuses_a_day_it_has_no_files_for(tmp_path, caplog):
    rc = main(["daily", "--recipe", str(ROOT / "configs" / "data" / "synthetic_4deg.yaml"), "--date", "2020-01-05",
               "--cube", str(tmp_path / "missing.zarr"), "--root", str(tmp_path), "--scheduler", "synchronous",
               "--out", str(tmp_path / "fc")])
    assert rc == 3 and "missing.zarr" in caplog.text
    assert not (tmp_path / "fc").exists()
