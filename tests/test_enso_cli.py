"""End to end: `ocean train enso`, `ocean enso` and the hindcast scores on a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from downstream.enso.evaluate import SYSTEMS, enso_hindcast, markdown_table
from ocean.cli import main
from test_enso_support import tiny_model_dir  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]


def test_ocean_train_enso_tiny_config(tmp_path):
    out = tmp_path / "run"
    rc = main(["-q", "train", "enso", "--config", str(ROOT / "configs/train/enso_tiny.yaml"),
               "--set", f"output_dir={out}", "--set", f"export={out}/model", "--set", "max_steps=2",
               "--set", "data.synthetic.years=8", "--set", "data.train=[1990-01-01, 1994-12-31]",
               "--set", "data.val=[1995-01-01, 1997-12-31]", "--set", "data.test=[1995-01-01, 1997-12-31]"])
    assert rc == 0
    meta = json.loads((out / "model" / "metadata.json").read_text())
    assert meta["kind"] == "head/enso" and meta["provenance"]["steps"] == 2
    assert meta["provenance"]["data"]["test"] == ["1995-01-01", "1997-12-31"]
    assert (out / "checkpoints" / "enso-final.ckpt").is_file()
    # a model directory from a checkpoint (how a run cut short is exported): same weights, same data
    from downstream.enso.forecaster import EnsoForecaster
    from downstream.enso.train import main as export_main

    export_main(["--config", str(ROOT / "configs/train/enso_tiny.yaml"), "--checkpoint",
                 str(out / "checkpoints" / "enso-final.ckpt"), "--export", str(out / "exported"),
                 "--set", "data.synthetic.years=8", "--set", "data.train=[1990-01-01, 1994-12-31]",
                 "--set", "data.val=[1995-01-01, 1997-12-31]", "--set", "data.test=[1995-01-01, 1997-12-31]",
                 "--train-seconds", "1.5", "--note", "test"])
    a, b = EnsoForecaster.load(out / "model"), EnsoForecaster.load(out / "exported")
    meta = json.loads((out / "exported" / "metadata.json").read_text())
    assert meta["provenance"]["steps"] == 2 and meta["provenance"]["train_seconds"] == 1.5
    assert set(meta["provenance"]["validation"]) == {"val/loss", "val/field_mse", "val/nino34_mse"}
    for (k, v), (k2, v2) in zip(a.network.state_dict().items(), b.network.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    np.testing.assert_array_equal(a.climatology.values, b.climatology.values)


def test_train_config_errors_are_bad_input(tmp_path):
    rc = main(["-q", "train", "enso", "--config", str(ROOT / "configs/train/enso_tiny.yaml"),
               "--set", "data.files={reader: hadisst, temperature: [x.nc]}"])
    assert rc == 3
    rc = main(["-q", "train", "enso", "--config", str(ROOT / "configs/train/enso_tiny.yaml"), "--set", "batchsize=2"])
    assert rc == 3


def test_ocean_enso_outlook_end_to_end(tiny_model_dir, tmp_path):  # noqa: F811
    rc = main(["-q", "enso", "--init", "2003-06", "--model", str(tiny_model_dir), "--out", str(tmp_path)])
    assert rc == 0
    nc, png = tmp_path / "enso_outlook_2003-06.nc", tmp_path / "enso_plume_2003-06.png"
    assert png.stat().st_size > 10_000
    ds = xr.open_dataset(nc)
    assert ds.sizes["lead_time"] == 5 and ds["thetao"].dims == ("lead_time", "depth", "latitude", "longitude")
    assert ds["nino34"].dims == ("lead_time",) and np.isfinite(ds["nino34"]).all()
    assert pd.Timestamp(ds["valid_time"].values[0]) == pd.Timestamp("2003-06-01")
    assert ds["nino34_members"].sizes["member"] == 3
    assert np.isnan(ds["nino34_members"].sel(member=2).values[-2:]).all()  # lagged members end earlier
    assert ds["thetao"].attrs["units"] == "degrees_C" and ds.attrs["Conventions"] == "CF-1.8"
    land = np.isnan(ds["thetao"].isel(lead_time=0, depth=0).values)
    assert land.any() and not land.all()


def test_ocean_enso_bad_options(tiny_model_dir, tmp_path):  # noqa: F811
    with pytest.raises(SystemExit) as bad_month:  # a usage error, refused by the argument parser
        main(["-q", "enso", "--init", "June", "--model", str(tiny_model_dir), "--out", str(tmp_path)])
    assert bad_month.value.code == 2
    assert main(["-q", "enso", "--init", "2003-06", "--model", str(tmp_path / "none"), "--out", str(tmp_path)]) == 3


def test_enso_hindcast_scores_and_files(tiny_model_dir, tmp_path):  # noqa: F811
    scores = enso_hindcast(tiny_model_dir, tmp_path, stride=1)
    assert list(scores["system"].values) == list(SYSTEMS)
    assert scores["acc"].dims == ("system", "lead_time") and scores.sizes["lead_time"] == 5
    assert scores["acc_map"].dims == ("system", "start_month", "lead_time")
    assert int(scores["count"]) == 36 - 4 - 5
    # damped persistence: persistence times r(lead + 1), so the same ACC and a different RMSE
    np.testing.assert_allclose(scores["acc"].sel(system="damped_persistence"),
                               scores["acc"].sel(system="persistence"), atol=1e-6)
    np.testing.assert_allclose(scores["nino34_forecast"].sel(system="damped_persistence"),
                               scores["nino34_forecast"].sel(system="persistence") * scores["damping"])
    assert 0.5 < float(scores["damping"][0]) <= 1.0
    # an untrained residual model is close to persistence of the last month: skilful at lead 1
    assert float(scores["acc"].sel(system="model", lead_time=1)) > 0.8
    for name in ("enso_scores.nc", "enso_skill.png", "enso_scores.md"):
        assert (tmp_path / name).stat().st_size > 200
    assert "| 1 |" in markdown_table(scores)
    back = xr.open_dataset(tmp_path / "enso_scores.nc")
    assert back["nino34_forecast"].dims == ("system", "init_time", "lead_time")


def test_shipped_model_gives_the_default_outlook(tmp_path):
    from downstream.enso.outlook import default_model_dir

    if not (default_model_dir() / "metadata.json").is_file():
        pytest.skip(f"no ENSO model shipped at {default_model_dir()}")
    rc = main(["-q", "enso", "--init", "2020-01", "--out", str(tmp_path), "--members", "1"])
    assert rc == 0
    ds = xr.open_dataset(tmp_path / "enso_outlook_2020-01.nc")
    assert ds.sizes["lead_time"] == 20 and ds["thetao"].shape == (20, 7, 20, 119)
    assert np.isfinite(ds["nino34"]).all() and float(abs(ds["nino34"]).max()) < 4


def test_shipped_model_is_small_half_precision_and_beats_persistence():
    """The shipped model: float16, about 16 MB, and skilful (a regression check on 4 starts; docs/enso.md)."""
    from downstream.enso.outlook import default_model_dir, load_forecaster

    path = default_model_dir()
    if not (path / "metadata.json").is_file():
        pytest.skip(f"no ENSO model shipped at {path}")
    assert (path / "model.safetensors").stat().st_size < 16.5e6
    fc = load_forecaster()
    meta = fc.metadata
    assert meta.extra["weights_dtype"] == "float16" and fc.config.name == "geoformer"
    assert meta.provenance["data"]["synthetic"]["seed"] == 0 and meta.provenance["steps"] > 0
    # 4 starts (2201-01 .. 2203-01, every 8 months) in the test period; the short fitting period keeps it cheap
    period = ("2200-01-01", "2204-09-30")
    scores = enso_hindcast(fc, period=period, fit_period=period, stride=8)
    assert int(scores["count"]) == 4
    rmse = scores["rmse"].sel(lead_time=slice(3, 12)).mean("lead_time")
    assert float(rmse.sel(system="model")) < 0.7 * float(rmse.sel(system="persistence"))
