"""ENSO model directories: safetensors + metadata.json round trip, float16 weights, mismatch refusal."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from downstream.enso.data import Layout
from downstream.enso.forecaster import KIND, EnsoForecaster
from ocean.checkpoint import METADATA_FILE, WEIGHTS_FILE
from ocean.errors import DataError, ModelMismatchError
from test_enso_support import make_tiny_forecaster, tiny_fields


def test_round_trip_gives_the_same_forecast(tmp_path):
    fc = make_tiny_forecaster()
    meta = fc.save(tmp_path / "m", provenance={"note": "test"})
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == sorted([WEIGHTS_FILE, METADATA_FILE])
    doc = json.loads((tmp_path / "m" / METADATA_FILE).read_text())
    assert doc["kind"] == KIND and doc["levels"]["depths"] == [5.0, 60.0, 150.0]
    assert doc["extra"]["climatology_period"] == ["2000-01-01", "2005-12-31"]
    assert doc["channels"] == list(fc.layout.channels) and doc["statistics"]["channels"] == doc["channels"]
    back = EnsoForecaster.load(tmp_path / "m")
    assert back.metadata.weights_sha256 == meta.weights_sha256
    fields = tiny_fields()
    a = fc.forecast(fields, "2002-01")
    b = back.forecast(fields, "2002-01")
    np.testing.assert_allclose(a["thetao"].values, b["thetao"].values, atol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(back.climatology.values, fc.climatology.values)


def test_float16_weights_halve_the_file_and_barely_change_forecasts(tmp_path):
    fc = make_tiny_forecaster()
    torch.nn.init.normal_(fc.network.head.weight, std=0.05)
    fc.save(tmp_path / "f32")
    fc.save(tmp_path / "f16", dtype="float16")
    s32, s16 = ((tmp_path / d / WEIGHTS_FILE).stat().st_size for d in ("f32", "f16"))
    assert s16 < 0.75 * s32
    back = EnsoForecaster.load(tmp_path / "f16")
    assert all(p.dtype == torch.float32 for p in back.network.parameters())
    fields = tiny_fields()
    a, b = fc.forecast(fields, "2002-01"), back.forecast(fields, "2002-01")
    assert np.nanmax(np.abs(a["thetao"].values - b["thetao"].values)) < 0.02


def test_mismatched_grid_or_levels_are_refused_with_both_sides(tmp_path):
    fc = make_tiny_forecaster()
    fc.save(tmp_path / "m")
    back = EnsoForecaster.load(tmp_path / "m")
    other = Layout.from_spec("tropical_pacific@2", "enso7")
    with pytest.raises(ModelMismatchError) as err:
        back.check(other, what="the GODAS inputs")
    text = str(err.value)
    assert "checkpoint has levels [5.0, 60.0, 150.0], the GODAS inputs has [5.0, 20.0" in text
    assert "tropical_pacific_4deg" in text and "tropical_pacific_2deg" in text
    fields_2deg = tiny_fields().isel(latitude=slice(0, 10))
    with pytest.raises(ModelMismatchError, match="expects grid"):
        back.forecast(fields_2deg, "2002-01")


def test_not_a_model_or_tampered_weights_are_refused(tmp_path):
    with pytest.raises(DataError, match="not a model directory"):
        EnsoForecaster.load(tmp_path)
    fc = make_tiny_forecaster()
    fc.save(tmp_path / "m")
    w = tmp_path / "m" / WEIGHTS_FILE
    w.write_bytes(w.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(DataError, match="do not match their metadata"):
        EnsoForecaster.load(tmp_path / "m")


def test_missing_input_months_are_named(tmp_path):
    fc = make_tiny_forecaster()
    with pytest.raises(DataError, match="the 4 months 1999-09..1999-12 before init 2000-01"):
        fc.forecast(tiny_fields(), "2000-01")
