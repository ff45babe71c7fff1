"""Training phases, the DataModule, the CLI (train + export), model directories and Batch prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from backbone.data import CubeDataModule, DataConfig, describe_cube
from backbone.forecaster import Forecaster
from backbone.train import make_module, model_config_for, train_backbone
from backbone.train_config import load_train_config
from ocean.batch import Batch
from ocean.checkpoint import LIGHTNING_METADATA_KEY, load_lightning_checkpoint, read_metadata
from ocean.cli import main
from ocean.cube import open_cube
from ocean.errors import ConfigError, ModelMismatchError
from ocean.grid import Grid
from ocean.levels import Levels

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "configs" / "train" / "tiny.yaml"


def _config(tiny_cube, tmp_path, *extra):
    return load_train_config(TINY, [f"data.cube={tiny_cube}", f"output_dir={tmp_path / 'run'}",
                                    f"export={tmp_path / 'model'}", *extra])


def _batch(tiny_cube, days=3) -> Batch:
    ds = open_cube(tiny_cube).isel(time=slice(0, days)).load()
    forcing = ds[["u10", "v10", "t2m", "msl", "sp"]]
    # the cube's mask goes in explicitly (Batch.from_xarray cannot take it from a dataset with a sample dim)
    return Batch.from_xarray(ds.drop_vars("mask"), ("thetao", "so", "uo", "vo", "zos"), forcing=forcing,
                             mask=ds["mask"])


def test_windows_are_normalised_with_forcing_of_the_target_days(tiny_cube):
    cfg = DataConfig(cube=str(tiny_cube), train=("2020-01-01", "2020-01-06"), val=("2020-01-01", "2020-01-06"),
                     batch_size=2)
    dm = CubeDataModule(cfg, steps=2)
    ds = dm.dataset("train")
    assert len(ds) == 4  # 6 days, windows of 3
    item = ds[1]
    assert item["state"].shape == (3, 13, 8, 16) and item["forcing"].shape == (2, 5, 8, 16)
    info = dm.info
    raw = open_cube(tiny_cube)
    t2m = (raw["t2m"].values[2] - info.forcing_statistics.mean[2]) / info.forcing_statistics.std[2]
    assert np.allclose(item["forcing"][0, 2].numpy(), t2m, atol=1e-5)  # day t+1 of the window starting at 1
    land = ~info.channel_mask
    assert (item["state"].numpy()[:, land] == 0).all()
    theta = (raw["thetao"].values[1, 0] - info.statistics.mean[0]) / info.statistics.std[0]
    ocean = info.channel_mask[0]
    assert np.allclose(item["state"][0, 0].numpy()[ocean], theta[ocean], atol=1e-5)
    assert "_data" not in ds.__getstate__() or ds.__getstate__()["_data"] is None
    with pytest.raises(ConfigError, match="selects no days"):
        CubeDataModule(DataConfig(cube=str(tiny_cube), train=("2030-01-01", "2030-02-01"),
                                  val=("2020-01-01", "2020-01-02"))).dataset("train")


def test_phases_train_and_export_round_trip_is_bit_exact(tiny_cube, tmp_path):
    result = train_backbone(_config(tiny_cube, tmp_path))
    assert set(result.metrics) == {"pretrain", "forecast", "rollout"}
    assert np.isfinite(result.metrics["rollout"]["val/loss"])
    assert "val/loss_step2" in result.metrics["rollout"]
    ckpt = load_lightning_checkpoint(result.checkpoint)
    assert ckpt[LIGHTNING_METADATA_KEY]["kind"] == "backbone"
    fc = Forecaster.load(result.model_dir)
    meta = read_metadata(result.model_dir)
    assert meta.provenance["train_period"] == ["2020-01-01", "2020-01-05"]
    assert meta.channels[0] == "thetao@0.5" and meta.channels[-1] == "zos"
    # the exported weights give exactly the outputs of the checkpointed module
    info = describe_cube(str(tiny_cube))
    module = make_module(_config(tiny_cube, tmp_path), info)
    module.load_state_dict(ckpt["state_dict"])
    module.eval()
    batch = _batch(tiny_cube)
    state = fc.normalise_state(batch.state[:, 0])
    forcing = fc.normalise_forcing(batch.forcing[:, 1])
    with torch.no_grad():
        assert torch.equal(module.model.step(state, forcing), fc.model.step(state, forcing))
    # a second load gives bit-identical predictions
    a = fc.predict(batch, steps=2)
    b = Forecaster.load(result.model_dir).predict(batch, steps=2)
    assert torch.equal(a.state, b.state)
    assert a.state.shape == (1, 2, 13, 8, 16) and a.time[0, 0] == batch.time[0, 1]
    assert (a.state[:, :, ~batch.mask] == 0).all()
    ds = a.to_xarray()
    assert np.isnan(ds["thetao"].values[0, 0, 0, 0, 0])  # land is NaN again on the way out


def test_model_refuses_data_on_other_levels_or_grid(tiny_cube, tmp_path):
    result = train_backbone(_config(tiny_cube, tmp_path, "phases=[{name: forecast, max_steps: 1}]"))
    fc = Forecaster.load(result.model_dir)
    batch = _batch(tiny_cube)
    other_levels = Batch(batch.state, batch.mask, batch.time, batch.grid, Levels((0.5, 10.0, 200.0)),
                         batch.variables, batch.forcing, batch.forcing_variables)
    with pytest.raises(ModelMismatchError, match=r"checkpoint has levels \[0.5, 10.0, 100.0\], "
                                                 r"data has \[0.5, 10.0, 200.0\]"):
        fc.predict(other_levels)
    shifted = Grid(-90.0, -170.0, 8, 16, 22.5, "shifted")
    other_grid = Batch(batch.state, batch.mask, batch.time, shifted, batch.levels, batch.variables,
                       batch.forcing, batch.forcing_variables)
    with pytest.raises(ModelMismatchError, match="checkpoint has grid cube: 8x16.*lon -180..180.*data has grid shifted.*lon -170..190"):
        fc.predict(other_grid)
    fewer = Batch(batch.state[:, :, :12], batch.mask[:12], batch.time, batch.grid, batch.levels,
                  ("thetao", "so", "uo", "vo"), batch.forcing, batch.forcing_variables)
    with pytest.raises(ModelMismatchError, match="checkpoint has variables .*'zos'\\], data has"):
        fc.predict(fewer)


def test_preset_that_does_not_fit_the_cube_is_refused(tiny_cube, tmp_path):
    cfg = _config(tiny_cube, tmp_path, "model=demo")
    with pytest.raises(ModelMismatchError, match=r"preset has grid \(45, 90\), data has \(8, 16\)"):
        model_config_for(cfg, describe_cube(str(tiny_cube)))


def test_cli_train_export_and_resume(tiny_cube, tmp_path):
    run = tmp_path / "run"
    sets = ["--set", f"data.cube={tiny_cube}", "--set", f"output_dir={run}", "--set", "trainer.checkpoint_every_steps=1",
            "--set", "phases=[{name: forecast, max_steps: 2}, {name: rollout, max_steps: 1, rollout_steps: 2}]"]
    assert main(["train", "backbone", "--config", str(TINY), *sets]) == 0
    ckpt = run / "checkpoints" / "rollout.ckpt"
    assert ckpt.is_file() and (run / "checkpoints" / "forecast.ckpt").is_file()
    assert main(["export", str(ckpt), "--out", str(tmp_path / "model")]) == 0
    assert main(["export", str(ckpt), "--out", str(tmp_path / "model")]) == 3  # exists, no --force
    assert read_metadata(tmp_path / "model").provenance["global_step"] == 1
    # resuming after the finished first phase runs only the second; a mid-phase checkpoint continues its phase
    assert main(["train", "backbone", "--config", str(TINY), *sets, "--resume",
                 str(run / "checkpoints" / "forecast.ckpt")]) == 0
    mid = next((run / "checkpoints").glob("forecast-step=*.ckpt"))  # the latest periodic checkpoint
    assert load_lightning_checkpoint(mid)["ocean_phase"] == {"name": "forecast", "done": False}
    assert main(["train", "backbone", "--config", str(TINY), *sets, "--resume", str(mid)]) == 0
    assert main(["train", "backbone", "--config", str(TINY), "--set", "optim.bogus=1"]) == 3


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match="unknown field.*'lr_max'.*known fields"):
        load_train_config(TINY, ["optim.lr_max=1"])
    with pytest.raises(ConfigError, match="not found"):
        load_train_config(tmp_path / "nope.yaml")


def test_skill_of_an_untrained_residual_model_is_persistence(tiny_cube, tmp_path):
    from backbone.evaluate import format_skill, rollout_skill
    from ocean.checkpoint import ModelMetadata

    info = describe_cube(str(tiny_cube))
    module = make_module(_config(tiny_cube, tmp_path), info)
    fc = Forecaster(module.model.eval(), ModelMetadata.from_dict(module.metadata))
    skill = rollout_skill(fc, str(tiny_cube), ("2020-01-01", "2020-01-06"), leads=(1, 3),
                          channels=("thetao@0.5", "zos"), init_every=1)
    assert skill.starts == 3 and skill.model.shape == (2, 2)
    assert np.allclose(skill.model, skill.persistence, rtol=1e-5)
    # persistence at lead 1 by hand: area-weighted over ocean, mean over starts of the squared error
    ds = open_cube(tiny_cube)
    sst = ds["thetao"].isel(depth=0).values
    ocean = np.isfinite(sst[0])
    area = info.grid.cell_area() * ocean
    mse = [np.nansum(area * (sst[t + 1] - sst[t]) ** 2) / area.sum() for t in range(3)]
    assert np.isclose(skill.persistence[0, 0], np.sqrt(np.mean(mse)), rtol=1e-4)
    assert "| thetao@0.5 (degrees_C) | 1 |" in format_skill(skill)


def test_shipped_training_configs_parse():
    from backbone.config import resolve_model

    for name in ("tiny", "demo", "aigoms", "aigoms_ddp"):
        cfg = load_train_config(ROOT / "configs" / "train" / f"{name}.yaml")
        assert resolve_model(cfg.model).name == cfg.model
        assert [p.name for p in cfg.phases] == ["pretrain", "forecast", "rollout"]
        assert cfg.phases[-1].rollout_steps >= 2
