"""3D-Geoformer contract: shapes, gradients, presets, factorised attention and teacher forcing."""

from __future__ import annotations

import time

import pytest
import torch

from downstream.enso.config import GeoformerConfig, get_preset, list_presets
from downstream.enso.model import AxisAttention, Geoformer
from downstream.enso.train_config import TeacherForcing
from ocean.errors import ConfigError


def _batch(cfg, b=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    c, (h, w) = cfg.io.channels, cfg.io.grid_shape
    return (torch.randn(b, cfg.io.input_months, c, h, w, generator=g),
            torch.randn(b, cfg.io.output_months, c, h, w, generator=g))


@pytest.mark.parametrize("name", ["tiny"])
def test_preset_contract_shapes_finite_and_gradients(name):
    cfg = get_preset(name)
    torch.manual_seed(0)
    model = Geoformer(cfg).train()
    x, y = _batch(cfg)
    out = model(x, y, teacher_forcing=0.5, generator=torch.Generator().manual_seed(1))
    assert out.shape == y.shape
    assert torch.isfinite(out).all()
    out.pow(2).mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert not missing, f"no gradient on {missing}"
    pred = model.eval().predict(x)
    assert pred.shape == y.shape and torch.isfinite(pred).all()


def test_full_size_preset_matches_the_published_architecture():
    cfg = get_preset("geoformer")
    assert (cfg.transformer.d_model, cfg.transformer.heads, cfg.transformer.encoder_layers,
            cfg.transformer.decoder_layers, cfg.patch) == (256, 4, 4, 4, (3, 4))
    assert cfg.io.grid_shape == (20, 119) and cfg.padded_shape == (21, 120) and cfg.tokens == 210
    assert cfg.patch_dim == 9 * 3 * 4
    model = Geoformer(cfg)
    n = sum(p.numel() for p in model.parameters())
    assert n == 7_573_612
    # every layer has its own weights (the published code shares one layer's)
    ptrs = {layer.time_attention.query.weight.data_ptr() for layer in model.encoder}
    assert len(ptrs) == 4


def test_full_size_forward_on_one_sample():
    cfg = get_preset("geoformer", dropout=0.0)
    model = Geoformer(cfg).eval()
    x, _ = _batch(cfg, b=1)
    t0 = time.perf_counter()
    with torch.no_grad():
        mem = model.encode(x)
    if time.perf_counter() - t0 > 4:
        pytest.skip("machine too loaded for a full-size forward in a unit test")
    with torch.no_grad():
        out = model.decode(torch.cat([x[:, -1:], torch.zeros(1, 4, 9, 20, 119)], dim=1), mem)
    assert mem.shape == (1, 12, 210, 256) and out.shape == (1, 5, 9, 20, 119)
    assert torch.isfinite(out).all()


def test_config_round_trip_overrides_and_errors():
    cfg = get_preset("geoformer", heads=8, grid_shape=(10, 60))
    assert cfg.transformer.heads == 8 and cfg.io.grid_shape == (10, 60)
    assert GeoformerConfig.from_dict(cfg.to_dict()) == cfg
    assert {"geoformer", "tiny"} <= set(list_presets())
    with pytest.raises(ConfigError, match="not divisible by heads"):
        get_preset("tiny", heads=5)
    with pytest.raises(ConfigError, match="unknown ENSO model preset"):
        get_preset("nope")
    with pytest.raises(ConfigError, match="no field"):
        get_preset("tiny", width=3)


def test_wrong_input_shape_is_refused_with_both_shapes():
    model = Geoformer(get_preset("tiny"))
    with pytest.raises(ValueError, match=r"expected \(batch, 4, 5, 11, 60\)"):
        model.encode(torch.zeros(1, 4, 5, 10, 60))


def test_patchify_round_trip_pads_and_crops():
    model = Geoformer(get_preset("tiny"))
    x = torch.randn(2, 3, 5, 11, 60)
    tokens = model.patchify(x)
    assert tokens.shape == (2, 3, 6 * 15, 5 * 2 * 4)
    assert torch.equal(model.unpatchify(tokens), x)


def test_time_attention_mixes_only_time_and_space_attention_only_space():
    torch.manual_seed(0)
    x = torch.randn(1, 5, 7, 16)
    for axis, moved, same in (("time", (2, 3), lambda d: d[:, :, [i for i in range(7) if i != 3]]),
                              ("space", (2, 3), lambda d: d[:, [i for i in range(5) if i != 2]])):
        att = AxisAttention(16, 2, axis).eval()
        y0 = att(x)
        x1 = x.clone()
        x1[0, moved[0], moved[1]] += 1.0  # perturb one (month, token)
        d = (att(x1) - y0).abs()
        assert torch.all(same(d) < 1e-6), f"{axis} attention leaked across the other axis"
        assert d.max() > 1e-4


def test_layers_attend_time_first_then_space():
    model = Geoformer(get_preset("tiny")).eval()
    calls = []
    for i, layer in enumerate(model.encoder):
        layer.time_attention.register_forward_hook(lambda *a, i=i: calls.append(("enc", i, "time")))
        layer.space_attention.register_forward_hook(lambda *a, i=i: calls.append(("enc", i, "space")))
    for i, layer in enumerate(model.decoder):
        for name in ("time_attention", "space_attention", "cross_attention"):
            getattr(layer, name).register_forward_hook(lambda *a, i=i, n=name: calls.append(("dec", i, n)))
    x, y = _batch(model.config, b=1)
    model(x, y)
    assert calls[:4] == [("enc", 0, "time"), ("enc", 0, "space"), ("enc", 1, "time"), ("enc", 1, "space")]
    assert calls[4:7] == [("dec", 0, "time_attention"), ("dec", 0, "space_attention"), ("dec", 0, "cross_attention")]


def test_decoder_is_causal_and_incremental_decoding_matches_teacher_forcing():
    torch.manual_seed(0)
    model = Geoformer(get_preset("tiny")).eval()
    torch.nn.init.normal_(model.head.weight, std=0.05)  # make the decoder's own contribution visible
    x, y = _batch(model.config, b=1)
    mem = model.encode(x)
    prev = torch.cat([x[:, -1:], y[:, :-1]], dim=1)
    out = model.decode(prev, mem)
    later = prev.clone()
    later[:, 3:] += 1.0
    assert torch.allclose(model.decode(later, mem)[:, :3], out[:, :3], atol=1e-5)
    pred = model.predict(x)
    again = model.decode(torch.cat([x[:, -1:], pred[:, :-1]], dim=1), mem)
    assert torch.allclose(pred, again, atol=1e-4)


def test_teacher_forcing_extremes_and_schedule():
    torch.manual_seed(0)
    model = Geoformer(get_preset("tiny")).eval()
    x, y = _batch(model.config, b=2)
    full = model(x, y, teacher_forcing=1.0)
    assert torch.allclose(full, model.decode(torch.cat([x[:, -1:], y[:, :-1]], 1), model.encode(x)))
    none = model(x, y, teacher_forcing=0.0)
    mem = model.encode(x)
    first = model.decode(torch.cat([x[:, -1:], y[:, :-1]], 1), mem)
    assert torch.allclose(none, model.decode(torch.cat([x[:, -1:], first[:, :-1]], 1), mem), atol=1e-5)
    tf = TeacherForcing(1.0, 0.0, 0.5)
    assert [tf.ratio(p) for p in (0.0, 0.25, 0.5, 0.9)] == [1.0, 0.5, 0.0, 0.0]
    with pytest.raises(ConfigError):
        TeacherForcing(1.5, 0.0, 0.5)
