"""Damaged stores: random bytes in one shard file of a real cube.

``validate`` reads every chunk and names each damaged one (variable, day,
file), exit 3, also with ``--json``; ``--quick`` reads the last days only.
Commands that read the cube (forecast, hindcast) exit 3 naming the store,
the variable and the day instead of a codec traceback; ``append`` refuses
to extend a cube whose last days do not decode.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from forecast_fixtures import synthetic_cube
from ocean.cli import main
from ocean.damage import scan_store
from operations_fixtures import INIT, forecast_args, untrained_model
from pipelines.build import build_cube
from pipelines.recipe import load_recipe
from test_pipeline_support import make_inputs, restore_logging, snapshot, write_era5, write_glorys  # noqa: F401

pytestmark = pytest.mark.usefixtures("restore_logging")


def damage(cube: Path, variable: str, index: int) -> Path:
    """Overwrite 64 bytes of the shard of ``variable`` on day ``index`` with random bytes."""
    shard = next((cube / variable / "c" / str(index)).rglob("*"))
    while shard.is_dir():
        shard = next(shard.iterdir())
    data = bytearray(shard.read_bytes())
    n = min(64, len(data) - 16)
    data[8:8 + n] = np.random.default_rng(index).integers(0, 256, n, dtype=np.uint8).tobytes()
    shard.write_bytes(bytes(data))
    return shard


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    base = tmp_path_factory.mktemp("damaged")
    cube = synthetic_cube(base / "cube.zarr")
    model = untrained_model(cube, base / "model")
    shard = damage(cube, "thetao", 4)  # 2020-01-05 = INIT
    return cube, model, shard


def test_validate_names_every_damaged_chunk(damaged, capsys):
    cube, _, shard = damaged
    capsys.readouterr()
    assert main(["data", "validate", str(cube)]) == 3
    out = capsys.readouterr().out
    assert "damaged chunk: variable 'thetao', day 2020-01-05" in out and str(shard) in out, out
    assert main(["data", "validate", str(cube), "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert any("'thetao', day 2020-01-05" in p and str(shard) in p for p in doc["problems"]), doc
    # --quick reads the metadata and the last days: the damage on day 5 of 12 is not among them
    assert main(["data", "validate", str(cube), "--quick"]) == 0


def test_quick_scan_finds_damage_in_the_last_days(damaged, tmp_path, capsys):
    cube = tmp_path / "cube.zarr"
    shutil.copytree(damaged[0], cube)
    shard = damage(cube, "so", 11)
    assert [(d.variable, d.where, d.file) for d in scan_store(cube, quick=True)] == [
        ("so", "day 2020-01-12", str(shard))]
    capsys.readouterr()
    assert main(["data", "validate", str(cube), "--quick", "--json"]) == 3
    assert "variable 'so', day 2020-01-12" in capsys.readouterr().out


def test_forecast_and_hindcast_exit_3_naming_store_variable_and_day(damaged, tmp_path, caplog):
    cube, model, shard = damaged
    for args in (forecast_args(model, tmp_path / "fc", "--cube", str(cube), "--no-quicklooks",
                               "--forcing-from-cube"),
                 ["hindcast", "--model", str(model), "--cube", str(cube), "--start", "2020-01-03", "--end",
                  INIT, "--every", "2D", "--leads", "2", "--out", str(tmp_path / "hc")]):
        caplog.clear()
        assert main(args) == 3, caplog.text
        text = caplog.text
        assert f"a chunk of the store {cube} does not decode (day {INIT})" in text, text
        assert "variable 'thetao'" in text and str(shard) in text and "Traceback" not in text
        assert "expected chunks that decode" in text
    assert not (tmp_path / "fc").exists() or not any((tmp_path / "fc").glob("forecast_*.zarr"))


def test_append_refuses_a_cube_whose_last_day_is_damaged(tmp_path, capsys):
    root = make_inputs(tmp_path / "inputs")
    cube = root / "cube.zarr"
    build_cube(load_recipe(root / "recipe.yaml"), cube)
    shard = damage(cube, "uo", 2)
    before = snapshot(cube)
    write_glorys(root / "glorys", days=["2020-01-04"])
    write_era5(root / "era5", days=["2020-01-04"])
    capsys.readouterr()
    code = main(["data", "append", str(root / "recipe.yaml"), "--date", "2020-01-04", "--cube", str(cube)])
    err = capsys.readouterr().err
    assert code == 3 and "the store has 1 damaged chunks" in err and str(shard) in err, err
    assert "variable 'uo', day 2020-01-03" in err and "Traceback" not in err
    assert snapshot(cube) == before
