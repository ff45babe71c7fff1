"""`ocean data append`: idempotent, gaps refused or recorded, crash-safe."""

import json
import shutil
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import xarray as xr

from ocean.cli import main
from ocean.cube import open_cube
from ocean.errors import DataError
from pipelines.append import append_day
from pipelines.build import build_cube
from pipelines.recipe import load_recipe
from pipelines.validate import validate_cube
import pandas as pd
from test_pipeline_support import make_inputs, restore_logging, snapshot, write_recipe  # noqa: F401

DAYS = pd.date_range("2020-01-01", periods=6, freq="D")
pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture(scope="module")
def chain_template(tmp_path_factory):
    """Six days of files; a cube built from the first two; a reference with the third appended."""
    root = make_inputs(tmp_path_factory.mktemp("chain"), days=DAYS, dates="{start: 2020-01-01, end: 2020-01-02}")
    recipe = root / "recipe.yaml"
    build_cube(load_recipe(recipe), root / "cube.zarr")
    shutil.copytree(root / "cube.zarr", root / "ref.zarr")
    append_day(load_recipe(recipe), root / "ref.zarr", "2020-01-03")
    return root


@pytest.fixture
def chain(chain_template, tmp_path):
    shutil.copytree(chain_template, tmp_path / "chain")
    return tmp_path / "chain"


def _recipe(root, missing="refuse"):
    return load_recipe(write_recipe(root, dates="{start: 2020-01-01, end: 2020-01-02}", missing=missing,
                                    name=f"recipe_{missing.split()[0].strip('{,')}.yaml"))


def test_append_adds_the_day_and_rerunning_changes_nothing(chain, capsys):
    cube = chain / "cube.zarr"
    args = ["data", "append", str(chain / "recipe.yaml"), "--date", "2020-01-03", "--cube", str(cube)]
    assert main(args) == 0
    ds = open_cube(cube)
    assert str(ds.time.values[-1])[:10] == "2020-01-03" and ds.sizes["time"] == 3
    before = snapshot(cube)
    assert main(args) == 0
    assert "already in the cube" in capsys.readouterr().out
    assert snapshot(cube) == before  # bytes unchanged
    assert validate_cube(cube) == []


def test_appended_day_equals_the_same_day_built(chain):
    append_day(_recipe(chain), chain / "cube.zarr", "2020-01-03")
    full = write_recipe(chain, dates="{start: 2020-01-01, end: 2020-01-03}", name="full.yaml")
    ref = open_cube(build_cube(load_recipe(full), chain / "built.zarr").path)
    got = open_cube(chain / "cube.zarr")
    for v in ("thetao", "zos", "t2m", "uo"):
        xr.testing.assert_identical(got[v].load(), ref[v].load())


def test_a_gap_is_refused_unless_allowed_and_then_recorded(chain):
    cube = chain / "cube.zarr"
    before = snapshot(cube)
    with pytest.raises(DataError, match="leaves a gap") as err:
        append_day(_recipe(chain), cube, "2020-01-05")
    assert "2020-01-03..2020-01-04" in str(err.value) and snapshot(cube) == before
    append_day(_recipe(chain, "{policy: skip, max_gap_days: 3}"), cube, "2020-01-05")
    ds = open_cube(cube)
    assert [str(t)[:10] for t in ds.time.values] == ["2020-01-01", "2020-01-02", "2020-01-05"]
    gaps = json.loads(ds.attrs["gaps"])
    assert gaps == [{"start": "2020-01-03", "end": "2020-01-04", "days": 2, "policy": "skip",
                     "missing": ["append gap"]}]
    assert validate_cube(cube) == []  # the hole is recorded, so the time axis is acceptable
    with pytest.raises(DataError, match="before the cube's last day"):
        append_day(_recipe(chain), cube, "2020-01-04")


def test_a_persisted_gap_repeats_the_last_day(chain):
    cube = chain / "cube.zarr"
    append_day(_recipe(chain, "{policy: persist, max_gap_days: 2}"), cube, "2020-01-04")
    ds = open_cube(cube)
    assert ds.sizes["time"] == 4
    xr.testing.assert_identical(ds.thetao.isel(time=2, drop=True).load(), ds.thetao.isel(time=1, drop=True).load())
    assert not np.array_equal(ds.thetao.isel(time=3).values, ds.thetao.isel(time=2).values, equal_nan=True)
    gap = json.loads(ds.attrs["gaps"])[0]
    assert gap["start"] == "2020-01-03" and gap["policy"] == "persist"
    with pytest.raises(DataError, match="max_gap_days"):
        append_day(_recipe(chain, "{policy: persist, max_gap_days: 0}"), cube, "2020-01-06")


def test_a_day_missing_from_a_source_is_refused(chain):
    (chain / "era5" / "era5_20200103.nc").unlink()
    with pytest.raises(DataError, match="missing") as err:
        append_day(_recipe(chain), chain / "cube.zarr", "2020-01-03")
    assert "forcing" in str(err.value)


_KILLER = textwrap.dedent("""
    import os, signal, sys
    from pipelines.append import append_day
    from pipelines.recipe import load_recipe

    recipe, cube, date, stage = sys.argv[1:5]

    def on_stage(name):
        if name == stage:
            os.kill(os.getpid(), signal.SIGKILL)

    append_day(load_recipe(recipe), cube, date, on_stage=on_stage)
""")


@pytest.mark.parametrize("stage", ["data:thetao", "meta:so", "commit"])
def test_a_process_killed_mid_append_leaves_a_readable_cube(chain, stage):
    """SIGKILL after a step of the commit (first data chunk written, an array's metadata
    rewritten, root metadata replaced): the cube opens, with the day absent or complete;
    rerunning the append then gives the same cube as an uninterrupted one."""
    ref = chain / "ref.zarr"
    script = chain / "kill.py"
    script.write_text(_KILLER)
    cube = chain / "cube.zarr"
    proc = subprocess.run([sys.executable, str(script), str(chain / "recipe.yaml"), str(cube), "2020-01-03", stage],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    ds = open_cube(cube)  # readable
    if ds.sizes["time"] == 3:
        assert stage == "commit"
        xr.testing.assert_identical(ds.thetao.load(), open_cube(ref).thetao.load())
    else:
        assert ds.sizes["time"] == 2 and ds.thetao.load().notnull().any()
    if stage == "meta:so":
        assert any("append was interrupted" in p for p in validate_cube(cube))
    append_day(_recipe(chain), cube, "2020-01-03")  # rerun: completes or finds the day
    got, want = open_cube(cube), open_cube(ref)
    assert got.sizes["time"] == 3
    for v in ("thetao", "zos", "t2m", "mask"):
        xr.testing.assert_identical(got[v].load(), want[v].load())
    assert not list(cube.rglob("*.partial"))
    if stage == "meta:so":  # arrays' own metadata had run ahead of the consolidated metadata
        assert validate_cube(cube) == []


def test_an_append_waits_for_another_run_on_the_same_cube(chain, capsys):
    from ocean.lock import run_lock
    from pipelines.append import lock_path

    cube = chain / "cube.zarr"
    before = snapshot(cube)
    with run_lock(lock_path(cube)):
        code = main(["data", "append", str(chain / "recipe.yaml"), "--date", "2020-01-03", "--cube", str(cube)])
    assert code == 4 and "another run holds the lock" in capsys.readouterr().err
    assert snapshot(cube) == before
