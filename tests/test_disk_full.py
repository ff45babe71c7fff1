"""A full disk and a read-only folder: exit 1 (the environment) or 3 naming the path, existing outputs
unchanged, no debris, for build, append and forecast.

The disk is real: a 4 MiB tmpfs mounted for the test (needs root and a kernel that lets this container
mount; otherwise these tests skip, saying so). ``test_forecast_enospc_injected`` runs everywhere: it makes
the Zarr store's writes under the output root fail with ENOSPC.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from forecast_fixtures import synthetic_cube
from ocean.cli import main
from operations_fixtures import forecast_args, published, untrained_model
from pipelines.build import build_cube
from pipelines.recipe import load_recipe
from test_pipeline_support import make_inputs, restore_logging, snapshot, write_era5, write_glorys  # noqa: F401

pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def small_disk(tmp_path):
    """A real 4 MiB tmpfs at ``tmp_path/disk``, unmounted afterwards."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: a real full disk cannot be made here")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root and mount rights): {done.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` but ``leave`` bytes."""
    st = os.statvfs(disk)
    with open(disk / "filler", "wb") as f:
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))


def _remount_read_only(disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)


def _check_refused(code: int, text: str, path: Path, codes=(1,)) -> None:
    assert code in codes, text
    assert str(path) in text and "Traceback" not in text, text


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = make_inputs(tmp_path_factory.mktemp("disk_inputs"))
    write_glorys(root / "glorys", days=["2020-01-04"])
    write_era5(root / "era5", days=["2020-01-04"])
    return root


def test_build_and_append_on_a_full_disk(small_disk, inputs, capsys):
    recipe = inputs / "recipe.yaml"
    cube = small_disk / "cube.zarr"
    build_cube(load_recipe(recipe), cube)  # (the recipe's dates end on 2020-01-03)
    before, listing = snapshot(cube), published(small_disk)
    fill(small_disk, 200_000)  # room for less than a second cube
    capsys.readouterr()
    code = main(["data", "build", str(recipe), "--out", str(cube), "--force"])
    err = capsys.readouterr().err
    _check_refused(code, err, cube)
    assert "No space left on device" in err and "MiB free" in err
    assert snapshot(cube) == before and published(small_disk) == sorted(listing + ["filler"])  # no debris
    (small_disk / "filler").unlink()
    fill(small_disk, 0)
    code = main(["data", "append", str(recipe), "--date", "2020-01-04", "--cube", str(cube)])
    err = capsys.readouterr().err
    _check_refused(code, err, cube)
    assert snapshot(cube) == before and published(small_disk) == sorted(listing + ["filler"])
    (small_disk / "filler").unlink()
    assert main(["data", "append", str(recipe), "--date", "2020-01-04", "--cube", str(cube)]) == 0
    _remount_read_only(small_disk)
    after = snapshot(cube)
    capsys.readouterr()
    code = main(["data", "build", str(recipe), "--out", str(cube), "--force"])
    err = capsys.readouterr().err
    _check_refused(code, err, small_disk, codes=(1, 3))
    assert "Read-only file system" in err and snapshot(cube) == after


@pytest.fixture(scope="module")
def cube_and_model(tmp_path_factory):
    base = tmp_path_factory.mktemp("disk_fc")
    cube = synthetic_cube(base / "cube.zarr")
    return cube, untrained_model(cube, base / "model")


def test_forecast_on_a_full_disk(small_disk, cube_and_model, caplog):
    cube, model = cube_and_model
    out = small_disk / "forecasts"
    args = ("--cube", str(cube), "--forcing-from-cube", "--no-quicklooks")
    assert main(forecast_args(model, out, *args, "--init", "2020-01-04")) == 0
    listing = published(small_disk)
    kept = snapshot(out)
    fill(small_disk, 0)
    caplog.clear()
    code = main(forecast_args(model, out, *args, "--init", "2020-01-05"))
    _check_refused(code, caplog.text, out / "forecast_2020-01-05.zarr")
    assert "No space left on device" in caplog.text
    assert published(small_disk) == sorted(listing + ["filler"]) and snapshot(out) == kept
    (small_disk / "filler").unlink()
    _remount_read_only(small_disk)
    caplog.clear()
    code = main(forecast_args(model, out, *args, "--init", "2020-01-05"))
    _check_refused(code, caplog.text, small_disk, codes=(1, 3))
    assert published(small_disk) == listing and snapshot(out) == kept


def test_forecast_enospc_injected(cube_and_model, tmp_path, caplog, monkeypatch):
    """Runs without a mount: every Zarr write under the output root fails as on a full disk."""
    from zarr.storage import _local

    cube, model = cube_and_model
    out = tmp_path / "forecasts"
    real_put = _local._put

    def full(path, value, *a, **kw):
        if str(path).startswith(str(out)) and "/c/" in str(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_put(path, value, *a, **kw)

    monkeypatch.setattr(_local, "_put", full)
    caplog.clear()
    code = main(forecast_args(model, out, "--cube", str(cube), "--forcing-from-cube", "--no-quicklooks"))
    _check_refused(code, caplog.text, out / "forecast_2020-01-05.zarr")
    assert "No space left on device" in caplog.text and published(out) == []
