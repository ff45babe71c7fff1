"""Stores whose codecs build Python objects are refused before any chunk is decoded.

The store is a real Zarr v2 store with a ``pickle`` filter whose chunk holds
a payload (it creates a marker file when unpickled). With numcodecs told to
allow pickle decoding, decoding the chunk with the filter its metadata names
runs the payload (the test shows it), while ``ocean info``, ``ocean forecast
--cube`` and ``open_forecasts`` refuse the store (exit 3) and the payload
never runs.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from operations_fixtures import ROOT
from ocean.errors import DataError
from ocean.zarr_safety import check_store

ALLOW = {"NUMCODECS_ALLOW_UNSAFE_PICKLE_DECODE": "1"}


class Payload:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # runs when unpickled: creates the marker file


def pickle_store(path: Path, marker: Path, *, filter_id: str = "pickle", consolidated: bool = True,
                 dtype: str = "|O") -> Path:
    """A Zarr v2 group with coordinate ``time`` and an object array ``thetao`` filtered by ``filter_id``,
    as zarr-python 2 writes an object array with ``object_codec=Pickle()``."""
    path.mkdir(parents=True)
    (path / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    (path / ".zattrs").write_text(json.dumps({"cube_format": "ocean-forecast-cube/1"}))
    arrays = {
        "time": ({"chunks": [1], "compressor": None, "dtype": "<i8", "fill_value": None, "filters": None,
                  "order": "C", "shape": [1], "zarr_format": 2},
                 {"_ARRAY_DIMENSIONS": ["time"], "units": "days since 2020-01-01", "calendar": "standard"},
                 np.zeros(1, dtype="<i8").tobytes()),
        "thetao": ({"chunks": [1], "compressor": None, "dtype": dtype, "fill_value": None,
                    "filters": [{"id": filter_id, "protocol": 5}], "order": "C", "shape": [1], "zarr_format": 2},
                   {"_ARRAY_DIMENSIONS": ["time"]},
                   pickle.dumps(np.array([Payload(str(marker))], dtype=object), protocol=5)),
    }
    meta = {".zgroup": {"zarr_format": 2}, ".zattrs": {"cube_format": "ocean-forecast-cube/1"}}
    for name, (zarray, zattrs, chunk) in arrays.items():
        (path / name).mkdir()
        (path / name / ".zarray").write_text(json.dumps(zarray))
        (path / name / ".zattrs").write_text(json.dumps(zattrs))
        (path / name / "0").write_bytes(chunk)
        meta[f"{name}/.zarray"], meta[f"{name}/.zattrs"] = zarray, zattrs
    if consolidated:
        (path / ".zmetadata").write_text(json.dumps({"metadata": meta, "zarr_consolidated_format": 1}))
    return path


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, **(env or {})})


def test_the_store_is_real_its_chunk_runs_the_payload_when_decoded(tmp_path):
    """Decoding the chunk with the filter its metadata names (numcodecs, allowed to) runs the payload."""
    store = pickle_store(tmp_path / "evil.zarr", tmp_path / "ran")
    code = ("import json, numcodecs; from pathlib import Path; p = Path(%r) / 'thetao'; "
            "numcodecs.get_codec(json.loads((p / '.zarray').read_text())['filters'][0]).decode((p / '0').read_bytes())"
            % str(store))
    done = _run("-c", code, env=ALLOW)
    assert (tmp_path / "ran").exists(), done.stderr


@pytest.mark.parametrize("command", [
    ["info", "{store}"],
    ["info", "{store}", "--json"],
    ["forecast", "--cube", "{store}", "--out", "{out}", "--leads", "1"],
])
def test_ocean_refuses_it_before_decoding(tmp_path, command):
    store = pickle_store(tmp_path / "evil.zarr", tmp_path / "ran")
    args = [a.format(store=store, out=tmp_path / "out") for a in command]
    done = _run("-m", "ocean.cli", *args, env=ALLOW)
    assert done.returncode == 3, (done.returncode, done.stderr[-3000:])
    assert "decodes to Python objects" in done.stderr and "codec pickle" in done.stderr
    assert "variable 'thetao'" in done.stderr and str(store) in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "ran").exists()  # the payload never ran
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("filter_id,consolidated", [("pickle", False), ("json2", True), ("msgpack2", True),
                                                    ("numcodecs.pickle", True)])
def test_object_codecs_in_any_metadata_document_are_refused(tmp_path, filter_id, consolidated):
    store = pickle_store(tmp_path / "s.zarr", tmp_path / "ran", filter_id=filter_id, consolidated=consolidated)
    with pytest.raises(DataError, match="decodes to Python objects"):
        check_store(store)


def test_open_forecasts_refuses_it(tmp_path):
    from ocean.forecast_store import open_forecasts

    pickle_store(tmp_path / "root" / "forecast_2020-01-01.zarr", tmp_path / "ran")
    with pytest.raises(DataError, match="codec pickle"):
        open_forecasts(tmp_path / "root")
    assert not (tmp_path / "ran").exists()


def test_object_dtype_without_a_string_codec_is_refused_and_strings_and_numbers_pass(tmp_path):
    store = pickle_store(tmp_path / "s.zarr", tmp_path / "ran", filter_id="vlen-utf8", dtype="|O")
    check_store(store)  # strings: decoded to str only
    zarray = json.loads((store / "thetao" / ".zarray").read_text())
    zarray["filters"] = None
    (store / "thetao" / ".zarray").write_text(json.dumps(zarray))
    (store / ".zmetadata").unlink()
    with pytest.raises(DataError, match="object data type"):
        check_store(store)


def test_the_project_s_own_stores_pass(tmp_path):
    from operations_fixtures import synthetic_cube

    check_store(synthetic_cube(tmp_path / "cube.zarr"))


def test_numcodecs_is_pinned():
    from importlib.metadata import version

    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert pins.get("numcodecs") == version("numcodecs")
