"""The shared head framework: contract, trainable share, backbone hash refusal, PEFT, registry."""

from __future__ import annotations

import shutil

import pytest
import torch

from downstream_fixtures import backbone, fine_cube, train_args, trained_head
from ocean.cli import main
from ocean.errors import ConfigError, ModelMismatchError


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("ds")
    model, cube = backbone(base)
    fine = fine_cube(base / "fine.zarr")
    return {"model": model, "cube": cube, "fine": fine, "head": trained_head(model, cube, fine, base), "base": base}


def _inputs(bb, b=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    h, w = bb.grid.shape
    state = torch.randn(b, len(bb.channels), h, w, generator=g)
    forcing = torch.randn(b, len(bb.metadata.forcing_variables), h, w, generator=g)
    return bb.normalise_state(bb.forecaster.denormalise_state(state)), forcing


def test_contract_shapes_finite_and_gradients_only_in_the_head(setup):
    from downstream.checkpoint import load_head
    from downstream.frozen import FrozenBackbone

    bb = FrozenBackbone.load(setup["model"])
    head, meta = load_head(setup["head"], bb, "downscaling")
    head.train()
    state, forcing = _inputs(bb)
    feats = head.select_features(bb.features(state, forcing))
    out = head(feats, {"state": head.crop_state(state)})
    assert out.shape == (2, len(meta.channels), *meta.grid.shape) and torch.isfinite(out).all()
    target = torch.randn_like(out) * head.out_mask
    loss, metrics = head.loss(out, {"state": head.crop_state(state), "target": target})
    loss.backward()
    assert {"base_loss", "skill"} <= set(metrics)
    trainable = [(n, p) for n, p in head.named_parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for _, p in trainable), [n for n, p in trainable if p.grad is None]
    assert any(p.grad.abs().sum() > 0 for _, p in trainable)
    assert all(not p.requires_grad and p.grad is None for p in bb.parameters())
    # the land of the fine grid is exactly zero in output units, NaN in physical units
    phys = head.to_physical(out.detach())
    assert torch.equal(torch.isnan(phys), (head.out_mask == 0).expand_as(phys))


def test_untrained_head_is_the_interpolation(setup):
    from downstream.downscaling.build import make_net
    from downstream.downscaling.config import DownscalingConfig, NetConfig
    from downstream.frozen import FrozenBackbone

    bb = FrozenBackbone.load(setup["model"])
    net = make_net(DownscalingConfig(levels=(0.5,), net=NetConfig(width=8, coarse_blocks=1, fine_width=8,
                                                                  feature_channels=4)), bb)
    state, forcing = _inputs(bb, b=1)
    halo = net.crop_state(state)
    out = net(net.select_features(bb.features(state, forcing)), {"state": halo})
    assert torch.allclose(out, net.base(net.fill_land(halo)) * net.out_mask)


def test_trainable_share_and_backbone_hash_are_recorded(setup):
    from ocean.checkpoint import read_metadata

    meta = read_metadata(setup["head"])
    bb = read_metadata(setup["model"])
    assert meta.kind == "head/downscaling" and meta.provenance["backbone_sha256"] == bb.weights_sha256
    p = meta.extra["parameters"]
    assert p["trainable_parameters"] + p["frozen_parameters"] == p["total_parameters"]
    assert 0 < p["trainable_share"] < 1 and p["trainable_share"] == pytest.approx(
        p["trainable_parameters"] / p["total_parameters"])
    assert meta.extra["peft"]["method"] == "none"


def test_a_head_refuses_another_backbone_naming_both_hashes(setup, tmp_path, caplog):
    from backbone.forecaster import Forecaster
    from downstream.checkpoint import load_head
    from downstream.frozen import FrozenBackbone

    fc = Forecaster.load(setup["model"])
    with torch.no_grad():
        next(fc.model.parameters()).add_(0.01)
    other = tmp_path / "other"
    fc.save(other)
    bb = FrozenBackbone.load(other)
    want = FrozenBackbone.load(setup["model"]).sha256
    with pytest.raises(ModelMismatchError) as err:
        load_head(setup["head"], bb)
    assert f"trained on backbone sha256 {want[:16]}" in str(err.value)
    assert f"this backbone is {bb.sha256[:16]}" in str(err.value)
    rc = main(["forecast", "--model", str(other), "--init", "2020-01-05", "--out", str(tmp_path / "fc"),
               "--leads", "2", "--heads", f"downscaling={setup['head']}", "--no-quicklooks"])
    assert rc == 3 and want[:16] in caplog.text and not (tmp_path / "fc" / "forecast_2020-01-05.zarr").exists()


def test_unknown_head_is_exit_3_listing_the_known_heads(setup, tmp_path, caplog):
    rc = main(["forecast", "--model", str(setup["model"]), "--init", "2020-01-05", "--out", str(tmp_path),
               "--leads", "2", "--heads", "downscaling,nowcast"])
    from downstream.registry import list_heads

    assert rc == 3 and f"unknown head 'nowcast'; known heads: {', '.join(list_heads())}" in caplog.text
    assert "downscaling" in list_heads()
    caplog.clear()
    args = train_args(setup["model"], setup["cube"], setup["fine"], tmp_path)
    args[2] = "nowcast"
    assert main(args) == 3 and f"known heads: {', '.join(list_heads())}" in caplog.text


def test_lora_trains_only_its_own_tensors(setup):
    from downstream.config import PeftConfig
    from downstream.frozen import FrozenBackbone
    from downstream.head import parameter_report

    bb = FrozenBackbone.load(setup["model"], peft=PeftConfig(method="lora", rank=2))
    before = FrozenBackbone.load(setup["model"])
    state, forcing = _inputs(bb)
    assert torch.allclose(bb.features(state, forcing), before.features(state, forcing))  # B starts at zero
    bb.features(state, forcing).square().mean().backward()
    tuned = {n for n, p in bb.named_parameters() if p.requires_grad}
    assert tuned and all("lora_" in n for n in tuned)
    assert all(p.grad is not None for n, p in bb.named_parameters() if n in tuned)
    assert all(p.grad is None for n, p in bb.named_parameters() if n not in tuned)
    share = parameter_report(torch.nn.Linear(1, 1), bb)["trainable_share"]
    assert 0 < share < 0.2
    with pytest.raises(ConfigError, match="match no linear module"):
        FrozenBackbone.load(setup["model"], peft=PeftConfig(method="lora", targets=("nothing.*",)))


def test_a_lora_head_round_trips(setup, tmp_path):
    from downstream.checkpoint import head_peft, load_head
    from downstream.frozen import FrozenBackbone
    from ocean.checkpoint import read_metadata

    head_dir = trained_head(setup["model"], setup["cube"], setup["fine"], tmp_path, "--set", "peft.method=adapter",
                            "--set", "peft.targets=['decoder.blocks.*']", "--set", "schedule.max_steps=2")
    meta = read_metadata(head_dir)
    peft = head_peft(meta)
    assert peft.method == "adapter" and meta.extra["parameters"]["trainable_share"] > 0
    bb = FrozenBackbone.load(setup["model"], peft=peft)
    head, _ = load_head(head_dir, bb)
    tuned = [n for n, p in bb.named_parameters() if p.requires_grad]
    assert tuned and all(".down." in n or ".up." in n for n in tuned) and head is not None
    shutil.rmtree(head_dir)
