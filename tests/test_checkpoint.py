"""ocean.checkpoint: model directories (safetensors + metadata.json) and compatibility checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ocean.checkpoint import (METADATA_FILE, WEIGHTS_FILE, ModelMetadata, check_compatible,
                              export_lightning_checkpoint, load_model_dir, read_metadata, save_model_dir)
from ocean.errors import DataError, ModelMismatchError
from ocean.grid import Grid
from ocean.levels import Levels
from ocean.normalize import Statistics, channel_names


@pytest.fixture
def metadata(tiny_grid, tiny_levels) -> ModelMetadata:
    variables = ("thetao", "zos")
    channels = channel_names(variables, tiny_levels)
    n = len(channels)
    stats = Statistics(tuple(channels), np.arange(n, dtype=float), np.ones(n), 0.1 * np.ones(n), ("2020-01-01", "2020-12-31"))
    return ModelMetadata(kind="backbone", preset="tiny", config={"width": 8}, variables=variables,
                         grid=tiny_grid, levels=tiny_levels, forcing_variables=("u10",), channels=tuple(channels),
                         statistics=stats, provenance={"cube": "/data/cube.zarr", "train_period": ["a", "b"]})


def test_round_trip_is_exact_and_hashed(tmp_path, metadata):
    state = {"w": torch.randn(3, 4), "mask": torch.rand(2, 2) > 0.5, "b": torch.zeros(4, dtype=torch.float64)}
    written = save_model_dir(tmp_path / "m", state, metadata)
    assert {p.name for p in (tmp_path / "m").iterdir()} == {WEIGHTS_FILE, METADATA_FILE}
    assert len(written.weights_sha256) == 64 and "torch" in written.versions and written.created
    loaded, meta = load_model_dir(tmp_path / "m")
    assert all(torch.equal(state[k], loaded[k]) and state[k].dtype == loaded[k].dtype for k in state)
    assert meta.to_dict() == written.to_dict()
    assert meta.levels.same_as(metadata.levels) and meta.grid.same_as(metadata.grid)
    assert np.array_equal(meta.statistics.mean, metadata.statistics.mean)
    doc = json.loads((tmp_path / "m" / METADATA_FILE).read_text())
    assert doc["format"] == "ocean-forecast-model/1" and doc["provenance"]["cube"] == "/data/cube.zarr"


def test_modified_weights_are_refused(tmp_path, metadata):
    save_model_dir(tmp_path / "m", {"w": torch.ones(2)}, metadata)
    with open(tmp_path / "m" / WEIGHTS_FILE, "r+b") as f:
        f.seek(-1, 2)
        f.write(b"\x01")
    with pytest.raises(DataError, match="do not match their metadata"):
        load_model_dir(tmp_path / "m")


def test_not_a_model_dir(tmp_path):
    with pytest.raises(DataError, match="not a model directory.*ocean export"):
        read_metadata(tmp_path)


def test_unknown_format_is_refused(tmp_path, metadata):
    save_model_dir(tmp_path / "m", {"w": torch.ones(2)}, metadata)
    doc = json.loads((tmp_path / "m" / METADATA_FILE).read_text())
    doc["format"] = "something-else/9"
    (tmp_path / "m" / METADATA_FILE).write_text(json.dumps(doc))
    with pytest.raises(DataError, match="unsupported model metadata format"):
        read_metadata(tmp_path / "m")


def test_mismatch_names_both_sides(metadata, tiny_grid):
    check_compatible(metadata, variables=("thetao", "zos"), levels=metadata.levels, grid=tiny_grid)
    with pytest.raises(ModelMismatchError) as e:
        check_compatible(metadata, levels=Levels((0.5, 6.0)))
    assert "checkpoint has levels [0.5, 10.0, 100.0], data has [0.5, 6.0]" in str(e.value)
    with pytest.raises(ModelMismatchError) as e:
        check_compatible(metadata, variables=("thetao", "so", "zos"))
    assert "checkpoint has variables ['thetao', 'zos'], data has ['thetao', 'so', 'zos']" in str(e.value)
    with pytest.raises(ModelMismatchError) as e:
        check_compatible(metadata, grid=Grid.global_(4.0))
    msg = str(e.value)
    assert "checkpoint has grid tiny: 8x16" in msg and "data has grid global_4deg: 45x90" in msg
    with pytest.raises(ModelMismatchError, match="forcing variables \\['u10'\\], data has \\['u10', 'v10'\\]"):
        check_compatible(metadata, forcing_variables=("u10", "v10"))


def test_export_refuses_a_foreign_checkpoint(tmp_path):
    torch.save({"state_dict": {"model.w": torch.ones(1)}}, tmp_path / "x.ckpt")
    with pytest.raises(DataError, match="carries no model metadata"):
        export_lightning_checkpoint(tmp_path / "x.ckpt", tmp_path / "out")
    (tmp_path / "bad.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="cannot be read as a training checkpoint"):
        export_lightning_checkpoint(tmp_path / "bad.ckpt", tmp_path / "out")


def test_export_never_unpickles_arbitrary_objects(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("unpickled!",))

    torch.save({"state_dict": {}, "x": Evil()}, tmp_path / "evil.ckpt")
    with pytest.raises(DataError, match="cannot be read"):
        export_lightning_checkpoint(tmp_path / "evil.ckpt", tmp_path / "out")
