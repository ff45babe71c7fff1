"""What goes out is checked: model directories before anything is built, every lead before it is written.

Each case is a real model directory and a real cube broken in one way; the
forecast must exit 3 with a message naming what was wrong and publish
nothing (no store, no temporary, no lock file, no quicklooks).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from operations_fixtures import (INIT, ROOT, edit_metadata, forecast_args, hot_cube, published, synthetic_cube,
                                 untrained_model)
from ocean.checkpoint import METADATA_FILE, read_metadata, seal_model_dir
from ocean.cli import main
from ocean.errors import DataError
from ocean.forecast_store import list_forecasts, open_forecasts


@pytest.fixture(scope="module")
def cube(tmp_path_factory):
    return synthetic_cube(tmp_path_factory.mktemp("ops") / "cube.zarr")


@pytest.fixture(scope="module")
def good(cube, tmp_path_factory):
    return untrained_model(cube, tmp_path_factory.mktemp("good") / "model")


def _refused(model, out, caplog, *words, extra=()):
    rc = main(forecast_args(model, out, *extra))
    assert rc == 3, caplog.text
    for w in words:
        assert w in caplog.text, (w, caplog.text)
    assert published(out) == [], published(out)  # nothing published, nothing left behind
    caplog.clear()


def test_a_sound_model_publishes_and_leaves_only_the_forecast(good, tmp_path):
    assert main(forecast_args(good, tmp_path)) == 0
    names = published(tmp_path)
    assert f"forecast_{INIT}.zarr" in names and f"quicklooks/{INIT}" in names
    assert not [n for n in names if ".lock" in n or ".tmp-" in n]  # no lock file, no temporary
    assert np.isfinite(open_forecasts(tmp_path).thetao.values).any()


def test_an_empty_weights_hash_is_refused_not_skipped(good, tmp_path, caplog):
    model = shutil.copytree(good, tmp_path / "m")
    edit_metadata(model, lambda d: d.update(weights_sha256=""))
    with pytest.raises(DataError, match="does not name its weights"):
        read_metadata(model)
    _refused(model, tmp_path / "out", caplog, "weights_sha256", "''", str(model))


def test_replaced_weights_are_refused(good, tmp_path, caplog):
    from safetensors.torch import load_file, save_file

    model = shutil.copytree(good, tmp_path / "m")
    state = load_file(str(model / "model.safetensors"))
    state = {k: v * 1e9 if v.is_floating_point() else v for k, v in state.items()}
    save_file(state, str(model / "model.safetensors"))
    _refused(model, tmp_path / "out", caplog, "weights do not match their metadata")
    edit_metadata(model, lambda d: d.update(weights_sha256=""))  # and hiding it by blanking the hash
    _refused(model, tmp_path / "out", caplog, "does not name its weights")


def test_an_edited_metadata_file_is_refused(good, tmp_path, caplog):
    model = shutil.copytree(good, tmp_path / "m")
    edit_metadata(model, lambda d: d["statistics"]["std"].__setitem__(0, 0.0))
    _refused(model, tmp_path / "out", caplog, "metadata.json was modified after export", "metadata_sha256")
    edit_metadata(model, lambda d: d.pop("metadata_sha256"))  # removing the hash does not help
    _refused(model, tmp_path / "out", caplog, "carries no hash of itself", "ocean export --seal")


@pytest.mark.parametrize("field,value,words", [
    ("std", 0.0, ("std <= 0", "thetao@0.5=0", "divide by zero")),
    ("mean", 1e30, ("impossible for thetao@0.5", "mean 1e+30", "[-3, 40]")),
    ("std", float("nan"), ("non-finite std", "thetao@0.5")),
])
def test_impossible_statistics_are_refused_even_when_sealed(good, tmp_path, caplog, field, value, words):
    """As a faulty export would write them: consistent hashes, impossible numbers."""
    from ocean.checkpoint import metadata_sha256

    model = shutil.copytree(good, tmp_path / "m")

    def break_and_reseal(doc):
        doc["statistics"][field][0] = value
        doc["metadata_sha256"] = metadata_sha256(doc)

    edit_metadata(model, break_and_reseal)
    _refused(model, tmp_path / "out", caplog, str(model / METADATA_FILE), *words)


def test_impossible_sizes_are_refused_before_anything_is_allocated(good, cube, tmp_path, caplog):
    meta = read_metadata(good)
    config = json.loads(json.dumps(meta.config))
    config["encoder"]["width"] = 1_000_000_000  # 2.9 TB if it were built
    model = untrained_model(cube, tmp_path / "m", state={}, config=config)
    _refused(model, tmp_path / "out", caplog, "impossible size", "config.encoder.width = 1000000000")
    config = json.loads(json.dumps(meta.config))
    config["io"]["state_channels"] += 1
    model = untrained_model(cube, tmp_path / "m2", state={}, config=config)
    _refused(model, tmp_path / "out", caplog, "config.io.state_channels", f"(expected {len(meta.channels)})")
    config = json.loads(json.dumps(meta.config))
    config["encoder"]["width"] = 1024  # plausible, but the file holds a 32-wide model
    model = untrained_model(cube, tmp_path / "m3", state=_state(good), config=config)
    _refused(model, tmp_path / "out", caplog, "describes a much larger model than its weights")


def test_a_head_of_impossible_size_is_refused_before_it_is_built(tmp_path):
    """Heads too: any size in the config (width, blocks, layers, channels, ...) is bounded."""
    from ocean.checkpoint import metadata_sha256

    head = shutil.copytree(ROOT / "downstream" / "waves" / "assets" / "demo", tmp_path / "waves")

    def widen(doc):
        doc["config"]["head"]["net"]["width"] = 10 ** 9
        doc["metadata_sha256"] = metadata_sha256(doc)

    edit_metadata(head, widen)
    with pytest.raises(DataError, match=r"config.head.net.width = 1000000000"):
        read_metadata(head)


def _state(model_dir):
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_a_tensor_of_the_wrong_shape_is_refused(good, cube, tmp_path, caplog):
    state = _state(good)
    state["bridge.weight"] = torch.zeros(state["bridge.weight"].shape[0], state["bridge.weight"].shape[1] + 4)
    model = untrained_model(cube, tmp_path / "m", state=state)
    _refused(model, tmp_path / "out", caplog, "do not fit the architecture", "bridge.weight",
             str(tuple(state["bridge.weight"].shape)))
    state = _state(good)
    del state["recovery.proj.bias"]
    model = untrained_model(cube, tmp_path / "m2", state=state)
    _refused(model, tmp_path / "out", caplog, "missing ['recovery.proj.bias']")


def test_garbage_output_is_refused_naming_model_variable_lead_and_values(good, cube, tmp_path, caplog):
    """Sealed, consistent, but the weights make a forecast that is not physical: nothing is published."""
    state = _state(good)
    state["recovery.proj.bias"] = torch.full_like(state["recovery.proj.bias"], 1e6)  # a huge daily tendency
    model = untrained_model(cube, tmp_path / "m", state=state)
    _refused(model, tmp_path / "out", caplog, f"model tiny ({model})", "the forecast at lead 1 (2020-01-06)",
             "outside the physical range", "variable 'thetao'", "min ", "max ", "Nothing was published")
    state["recovery.proj.bias"] = torch.full_like(state["recovery.proj.bias"], float("nan"))
    model = untrained_model(cube, tmp_path / "m2", state=state)
    _refused(model, tmp_path / "out", caplog, "the forecast at lead 1", "is not finite in ocean cells", "NaN")


def test_an_initial_state_of_400_degrees_is_refused(good, cube, tmp_path, caplog):
    hot = hot_cube(cube, tmp_path / "hot.zarr")
    _refused(good, tmp_path / "out", caplog, f"cube {hot}", "variable 'thetao'", f"the initial state on {INIT}",
             "max 400", "[-3, 40]", extra=("--cube", str(hot)))
    assert main(forecast_args(good, tmp_path / "ok", "--cube", str(hot), "--init", "2020-01-04",
                              "--no-quicklooks", "--forcing-from-cube")) == 0  # the other days are fine


def test_a_head_field_that_is_not_physical_is_refused():
    import pandas as pd
    import xarray as xr

    from ocean.workflows.forecast import _check_head

    values = np.full((1, 3, 4, 5), 2.0, dtype=np.float32)
    values[0, :, 0, 0] = np.nan  # land / sea ice: allowed
    ds = xr.Dataset({"VHM0": (("init_time", "lead_time", "latitude", "longitude"), values)},
                    attrs={"head": "head/waves", "head_sha256": "ab" * 32})
    _check_head("waves", ds, pd.Timestamp(INIT))
    values[0, 2, 1, 1] = 45.0
    with pytest.raises(DataError) as e:
        _check_head("waves", ds, pd.Timestamp(INIT))
    assert all(w in str(e.value) for w in ("head waves", "'VHM0'", "lead 3 (2020-01-08)", "max 45", "[-1.5, 31.5]"))
    values[0, 1] = np.nan
    with pytest.raises(DataError, match="lead 2 .*all 20 cells NaN"):
        _check_head("waves", ds, pd.Timestamp(INIT))


def test_a_forecast_may_overshoot_the_range_by_the_margin_only():
    """Model error (the demo model forecasts -3.08 degC in a few winter cells) is not garbage; data must be in range."""
    from ocean.quality import OUTPUT_MARGIN, check_field

    ocean = np.ones((2, 3), dtype=bool)
    cold = np.full((2, 3), 10.0)
    cold[0, 0] = -3.08
    check_field(cold, "thetao", ocean=ocean, what="a forecast", margin=OUTPUT_MARGIN)
    with pytest.raises(DataError, match="min -3.08"):
        check_field(cold, "thetao", ocean=ocean, what="an initial state")
    cold[0, 0] = -6.0  # beyond 5 % of the 43 degC range
    with pytest.raises(DataError, match=r"\[-5.15, 42.15\] degrees_C .*widened by 5%"):
        check_field(cold, "thetao", ocean=ocean, what="a forecast", margin=OUTPUT_MARGIN)


def test_shipped_models_load_and_a_copy_elsewhere_needs_a_seal(tmp_path, caplog):
    from ocean.workflows.forecast import default_model_dir

    shipped = default_model_dir()
    read_metadata(shipped)  # loads: inside the package (sealed or not)
    copy = shutil.copytree(shipped, tmp_path / "copy")
    edit_metadata(copy, lambda d: d.pop("metadata_sha256", None))
    with pytest.raises(DataError, match="carries no hash of itself"):
        read_metadata(copy)
    assert main(["export", "--seal", str(copy)]) == 0
    assert read_metadata(copy).weights_sha256 == read_metadata(shipped).weights_sha256
    edit_metadata(copy, lambda d: d.update(preset="other"))
    with pytest.raises(DataError, match="modified after export"):
        read_metadata(copy)
    assert list_forecasts(tmp_path) == []
