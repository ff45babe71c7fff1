"""Exit codes as the README's table says, with one-line messages; tracebacks only with ``-v``.

Each case runs ``ocean`` in a fresh process, as cron does.
"""

from __future__ import annotations

import shutil

import pytest
import torch

from operations_fixtures import ocean_cli, synthetic_cube, untrained_model
from test_pipeline_support import restore_logging  # noqa: F401

pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.mark.parametrize("args,value", [
    (["forecast", "--init", "2020-13-01"], "2020-13-01"),
    (["forecast", "--init", "yesterday"], "yesterday"),
    (["daily", "--recipe", "r.yaml", "--cube", "c.zarr", "--date", "2020-02-30"], "2020-02-30"),
    (["data", "append", "r.yaml", "--cube", "c.zarr", "--date", "20200101"], "20200101"),
    (["hindcast", "--cube", "c.zarr", "--out", "d", "--start", "2020-01-01", "--end", "2020-1-5"], "2020-1-5"),
    (["export-oceanbench", "root", "--out", "x.zarr", "--start", "2020-01-32"], "2020-01-32"),
    (["synthetic", "--out", "d", "--start", "01/02/2020"], "01/02/2020"),
    (["enso", "--init", "2020-13", "--out", "d"], "2020-13"),
])
def test_a_bad_date_is_a_usage_error_at_the_parser(args, value):
    done = ocean_cli(*args)
    assert done.returncode == 2, done.stderr
    assert f"found {value!r}" in done.stderr and ("YYYY-MM-DD" in done.stderr or "YYYY-MM" in done.stderr)
    assert "Traceback" not in done.stderr


def test_a_log_file_in_a_missing_folder_is_a_usage_error(tmp_path):
    done = ocean_cli("--log-file", str(tmp_path / "missing" / "ocean.log"), "forecast", "--dry-run")
    assert done.returncode == 2 and "--log-file" in done.stderr and "missing" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    base = tmp_path_factory.mktemp("codes")
    return untrained_model(synthetic_cube(base / "cube.zarr"), base / "model")


def test_a_tensor_of_the_wrong_shape_exits_3_with_a_traceback_only_with_v(model, tmp_path):
    from safetensors.torch import load_file

    from operations_fixtures import untrained_model as export

    state = load_file(str(model / "model.safetensors"))
    state["embed.proj.weight"] = torch.zeros(3, 3)
    bad = export(synthetic_cube(tmp_path / "cube.zarr"), tmp_path / "bad", state=state)
    args = ["forecast", "--model", str(bad), "--init", "2020-01-05", "--out", str(tmp_path / "out"), "--leads", "1"]
    done = ocean_cli(*args)
    assert done.returncode == 3
    assert "embed.proj.weight (3, 3)" in done.stderr and str(bad) in done.stderr
    assert "Traceback" not in done.stderr
    verbose = ocean_cli("-v", *args)
    assert verbose.returncode == 3 and "Traceback" in verbose.stderr


def test_impossible_sizes_exit_3_at_once(model, tmp_path):
    import json

    from operations_fixtures import edit_metadata

    from ocean.checkpoint import metadata_sha256

    bad = shutil.copytree(model, tmp_path / "m")

    def widen(doc):
        doc["config"]["encoder"]["width"] = 1_000_000_000
        doc["metadata_sha256"] = metadata_sha256(doc)

    edit_metadata(bad, widen)
    done = ocean_cli("forecast", "--model", str(bad), "--init", "2020-01-05", "--out", str(tmp_path / "o"))
    assert done.returncode == 3 and "config.encoder.width = 1000000000" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and json.loads((bad / "metadata.json").read_text())


def test_an_unlockable_cube_folder_exits_3(tmp_path):
    from test_pipeline_support import make_inputs

    root = make_inputs(tmp_path)
    (root / "file").write_text("not a folder")
    done = ocean_cli("data", "append", str(root / "recipe.yaml"), "--date", "2020-01-03", "--cube",
                     str(root / "file" / "cube.zarr"))
    assert done.returncode == 3 and "cannot create the lock file" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_an_unexpected_error_is_one_line_and_exit_1(monkeypatch, caplog):
    """Anything that is not a user error is a failure (exit 1), logged in one line; -v adds the traceback."""
    import ocean.workflows.forecast as wf
    from ocean.cli import main

    def broken(req):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(wf, "run_forecast", broken)
    assert main(["forecast", "--dry-run"]) == 1
    assert "failed: ZeroDivisionError: a bug (run with -v for the traceback)" in caplog.text
    assert "Traceback" not in caplog.text
    caplog.clear()
    assert main(["-v", "forecast", "--dry-run"]) == 1 and "Traceback" in caplog.text
