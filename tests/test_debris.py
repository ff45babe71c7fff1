"""Crash debris: what a run killed with SIGKILL leaves is cleaned by the next run on the same output.

Every kill lands inside the write: the test waits for the run's temporary
output to appear, kills it, and checks that the temporary (and the dead
run's lock file) really were left behind before the rerun.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from operations_fixtures import INIT, ROOT, forecast_args, ocean_cli, synthetic_cube, untrained_model
from ocean.cube import open_cube
from ocean.forecast_store import open_forecasts
from test_pipeline_support import make_inputs, restore_logging  # noqa: F401

pytestmark = pytest.mark.usefixtures("restore_logging")


def _kill_when(args: list[str], appears, what: str) -> list[Path]:
    """Start ``ocean ARGS``, SIGKILL it as soon as ``appears()`` finds something, return what it found."""
    p = subprocess.Popen([sys.executable, "-m", "ocean.cli", "-q", *args], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    try:
        while not (found := appears()):
            if p.poll() is not None:
                pytest.fail(f"the run ended (exit {p.returncode}) before {what} appeared: {p.stderr.read()[-2000:]}")
            assert time.monotonic() < deadline, f"{what} never appeared"
            time.sleep(0.005)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == -signal.SIGKILL
    left = appears()
    assert left, f"the kill did not land inside the write: {what} is gone"
    return left


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) if folder.exists() else []


def test_a_killed_build_is_cleaned_by_the_next_build_and_by_an_append(tmp_path):
    root = make_inputs(tmp_path, days=pd.date_range("2020-01-01", periods=9, freq="D"),
                       dates="{start: 2020-01-01, end: 2020-01-08}")
    build = ["data", "build", str(root / "recipe.yaml"), "--out", str(root / "cube.zarr"), "--no-progress"]
    left = _kill_when(build, lambda: list(root.glob(".cube.zarr.tmp-*")), "the temporary cube")
    assert _hidden(root) == sorted([".cube.zarr.lock", *(p.name for p in left)])  # debris of the killed run
    done = ocean_cli(*build)
    assert done.returncode == 0, done.stderr
    assert _hidden(root) == [] and open_cube(root / "cube.zarr").sizes["time"] == 8

    _kill_when(build + ["--force"], lambda: list(root.glob(".cube.zarr.tmp-*")), "the replacement cube")
    assert open_cube(root / "cube.zarr").sizes["time"] == 8  # the published cube is untouched
    append = ocean_cli("data", "append", str(root / "recipe.yaml"), "--date", "2020-01-09", "--cube",
                       str(root / "cube.zarr"), "--no-progress")
    assert append.returncode == 0, append.stderr
    assert _hidden(root) == [] and open_cube(root / "cube.zarr").sizes["time"] == 9


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    base = tmp_path_factory.mktemp("debris")
    return untrained_model(synthetic_cube(base / "cube.zarr"), base / "model")


def test_a_killed_forecast_is_cleaned_by_a_rerun_that_finds_it_published(model, tmp_path):
    out = tmp_path / "out"
    first = ocean_cli(*forecast_args(model, out, "--no-quicklooks"))
    assert first.returncode == 0, first.stderr
    store = out / f"forecast_{INIT}.zarr"
    stamp = (store / "zarr.json").stat().st_mtime_ns
    _kill_when(forecast_args(model, out, "--force", "--no-quicklooks", leads=366),
               lambda: list(out.glob(f".forecast_{INIT}.zarr.tmp-*")), "the temporary forecast")
    assert f".forecast_{INIT}.zarr.lock" in _hidden(out)
    again = ocean_cli(*forecast_args(model, out))
    assert again.returncode == 0, again.stderr
    assert "already published" in again.stdout
    assert _hidden(out) == []  # temporary and lock gone
    assert (store / "zarr.json").stat().st_mtime_ns == stamp  # the published forecast is kept as it was
    assert open_forecasts(out).sizes["lead_time"] == 3
    assert sorted(p.name for p in (out / "quicklooks" / INIT).iterdir()) == \
        ["currents_lead001.png", "ssh_lead001.png", "sst_lead001.png"]  # the missing quicklooks were drawn


def test_quicklooks_killed_mid_drawing_are_completed_by_the_rerun(model, tmp_path):
    out = tmp_path / "out"
    looks = out / "quicklooks"
    _kill_when(forecast_args(model, out), lambda: list(looks.glob(f".{INIT}.tmp-*")) if looks.exists() else [],
               "the temporary quicklooks")
    assert (out / f"forecast_{INIT}.zarr").is_dir() and not (looks / INIT).exists()
    again = ocean_cli(*forecast_args(model, out))
    assert again.returncode == 0 and "already published" in again.stdout, again.stderr
    assert _hidden(looks) == [] and _hidden(out) == []
    assert len(list((looks / INIT).glob("*.png"))) == 3
