"""Locks by real identity: one lock per real path, held under the check, no file left behind.

Real processes throughout: concurrent ``ocean data append`` through a
symlink on a real cube, a holder killed with SIGKILL, and a stress test of
the unlink-on-release scheme (many processes incrementing a counter under
the lock; a lost update would show the scheme is wrong).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ocean.cube import open_cube
from ocean.errors import DataError, LockedError
from ocean.lock import lock_file_of, run_lock, store_lock
from pipelines.build import build_cube
from pipelines.recipe import load_recipe
from test_pipeline_support import make_inputs, restore_logging  # noqa: F401

pytestmark = pytest.mark.usefixtures("restore_logging")
ROOT = Path(__file__).resolve().parents[1]


def test_every_spelling_of_a_store_has_one_lock_file(tmp_path, monkeypatch):
    real = tmp_path / "data" / "cube.zarr"
    real.mkdir(parents=True)
    (tmp_path / "link.zarr").symlink_to(real)
    (tmp_path / "folder").symlink_to(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    spellings = [real, Path("data/cube.zarr"), Path("data/../data/cube.zarr"), tmp_path / "link.zarr",
                 Path("folder/cube.zarr"), Path("data/cube.zarr/")]
    assert {lock_file_of(p) for p in spellings} == {tmp_path / "data" / ".cube.zarr.lock"}
    with store_lock(tmp_path / "link.zarr") as resolved:
        assert resolved == real
        with pytest.raises(LockedError, match="another run holds the lock"):
            with store_lock("folder/cube.zarr"):
                pass
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["cube.zarr"]  # no lock file left


def _hold(path: str, ready) -> None:
    with run_lock(path):
        ready.set()
        time.sleep(600)


def test_a_lock_of_a_killed_holder_is_taken_over_and_removed(tmp_path):
    lock = tmp_path / ".x.lock"
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    p = ctx.Process(target=_hold, args=(str(lock), ready))
    p.start()
    try:
        assert ready.wait(120)
        with pytest.raises(LockedError, match=f"pid {p.pid}"):  # names the holder
            with run_lock(lock):
                pass
        os.kill(p.pid, signal.SIGKILL)
        p.join(30)
        assert lock.exists()  # the dead holder's file stays until the next run
        with run_lock(lock, wait=10):
            assert f"pid {os.getpid()}" in lock.read_text()
        assert not lock.exists()
    finally:
        if p.is_alive():
            p.kill()


def _count(lock: str, counter: str, n: int) -> None:
    for _ in range(n):
        with run_lock(lock, wait=120, poll=0.001):
            value = int(Path(counter).read_text())
            time.sleep(0.001)
            Path(counter).write_text(str(value + 1))


def test_unlink_on_release_never_lets_two_runs_hold_the_lock(tmp_path):
    """Holders unlink the file as they release it; a run that locked an unlinked file must retry."""
    counter = tmp_path / "counter"
    counter.write_text("0")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_count, args=(str(tmp_path / ".c.lock"), str(counter), 40)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0] * 4
    assert counter.read_text() == "160"  # no lost update: never two holders at once
    assert not (tmp_path / ".c.lock").exists()


def test_a_folder_that_cannot_hold_the_lock_is_bad_input_not_a_traceback(tmp_path):
    (tmp_path / "file").write_text("a file where a folder should be")
    with pytest.raises(DataError, match="cannot create the lock file"):
        with store_lock(tmp_path / "file" / "cube.zarr"):
            pass


def test_a_read_only_folder_is_bad_input_not_a_traceback(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(DataError, match="cannot create the lock file.*not writable"):
            with store_lock(folder / "cube.zarr"):
                pass
    finally:
        folder.chmod(0o755)


@pytest.fixture(scope="module")
def cube_template(tmp_path_factory):
    root = make_inputs(tmp_path_factory.mktemp("locks"), days=pd.date_range("2020-01-01", periods=4, freq="D"),
                       dates="{start: 2020-01-01, end: 2020-01-02}")
    build_cube(load_recipe(root / "recipe.yaml"), root / "cube.zarr")
    return root


def test_concurrent_appends_through_a_symlink_write_the_day_once(cube_template, tmp_path):
    """Both runs are started while a third holds the lock, so both wait on it at once, then race."""
    root = shutil.copytree(cube_template, tmp_path / "chain", symlinks=True)
    (root / "link.zarr").symlink_to(root / "cube.zarr")
    args = [sys.executable, "-m", "ocean.cli", "data", "append", str(root / "recipe.yaml"), "--date",
            "2020-01-03", "--wait", "300", "--no-progress", "--cube"]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with store_lock(root / "cube.zarr"):
        procs = [subprocess.Popen(args + [str(root / name)], stdout=subprocess.PIPE, stderr=open(log, "w"),
                                  text=True, cwd=ROOT) for name, log in zip(("cube.zarr", "link.zarr"), logs)]
        deadline = time.monotonic() + 300
        while not all("waiting for the lock" in log.read_text() for log in logs):
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), \
                [log.read_text() for log in logs]
            time.sleep(0.2)
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [log.read_text() for log in logs]
    said = " ".join(outs)
    assert said.count("appended 2020-01-03") == 1 and said.count("already in the cube") == 1, said
    times = [str(t)[:10] for t in open_cube(root / "cube.zarr")["time"].values]
    assert times == ["2020-01-01", "2020-01-02", "2020-01-03"]
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == []  # no lock or temporary left
