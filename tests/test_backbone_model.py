"""FourierMAE contract tests per preset, masking, rollout, layers, loss and configs."""

from __future__ import annotations

import pytest
import torch

from backbone.config import ModelConfig, get_preset, list_presets
from backbone.layers import PatchEmbed, PatchRecovery, pad_to_patches, sincos_position_embedding
from backbone.loss import area_weights, relative_l2
from backbone.masking import AIGOMS_SCHEDULE, MaskSchedule, random_token_mask
from backbone.model import FourierMAE
from ocean.errors import ConfigError


def _inputs(cfg: ModelConfig, batch: int = 2, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    h, w = cfg.io.grid_shape
    state = torch.randn(batch, cfg.io.state_channels, h, w, generator=g)
    forcing = torch.randn(batch, cfg.io.forcing_channels, h, w, generator=g)
    return state, forcing


def _model(name: str, seed: int = 0) -> FourierMAE:
    torch.manual_seed(seed)
    m = FourierMAE(get_preset(name))
    torch.nn.init.normal_(m.recovery.proj.weight, std=0.02)  # zero-init output would block gradients upstream
    return m


def test_presets_are_registered():
    assert {"tiny", "demo", "aigoms"} <= set(list_presets())
    with pytest.raises(ConfigError, match="registered: aigoms, demo"):
        get_preset("huge")


@pytest.mark.parametrize("name", ["tiny", "demo"])
def test_contract_shape_finite_gradients(name):
    m = _model(name)
    cfg = m.config
    state, forcing = _inputs(cfg, batch=2 if name == "tiny" else 1)
    mask = random_token_mask(state.shape[0], cfg.token_grid, 0.5, torch.Generator().manual_seed(1))
    out = m(state, forcing, mask)
    assert out.shape == state.shape
    assert torch.isfinite(out).all()
    out.square().mean().backward()
    no_grad = [n for n, p in m.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()
               or p.grad.abs().sum() == 0]
    assert no_grad == []
    h, w = cfg.token_grid
    assert m.encode(state, forcing).shape == (state.shape[0], h, w, cfg.encoder.width)
    assert m.features(state, forcing).shape == (state.shape[0], cfg.decoder.width, h, w)


def test_aigoms_preset_matches_the_design_without_allocating():
    cfg = get_preset("aigoms")
    assert cfg.io.in_channels == 66 and cfg.io.out_channels == 61
    assert cfg.token_grid == (90, 180) and cfg.patch == (8, 8)
    assert (cfg.encoder.width, cfg.encoder.depth, cfg.decoder.width, cfg.decoder.depth) == (512, 16, 1024, 8)
    assert (cfg.mixer.num_blocks, cfg.mixer.sparsity, cfg.mixer.mlp_ratio) == (8, 0.01, 4.0)
    with torch.device("meta"):
        m = FourierMAE(cfg)
        state, forcing = torch.empty(1, 61, 720, 1440), torch.empty(1, 5, 720, 1440)
        assert m(state, forcing).shape == (1, 61, 720, 1440)
        assert m.features(state, forcing).shape == (1, 1024, 90, 180)
    assert 100e6 < m.parameter_count() < 130e6


def test_demo_preset_fits_the_shipping_budget():
    m = FourierMAE(get_preset("demo"))
    assert m.parameter_count() * 4 < 20e6  # float32 weights under 20 MB


def test_masked_tokens_are_hidden_from_the_encoder():
    m = _model("tiny").eval()
    cfg = m.config
    state, forcing = _inputs(cfg)
    token_mask = torch.zeros(2, *cfg.token_grid, dtype=torch.bool)
    token_mask[:, 1:3, 2:5] = True
    p, q = cfg.patch
    pixel = token_mask.repeat_interleave(p, 1).repeat_interleave(q, 2)[:, None]  # (B, 1, H, W)
    noisy_state = torch.where(pixel, state + 10 * torch.randn_like(state), state)
    noisy_forcing = torch.where(pixel, forcing - 5.0, forcing)
    with torch.no_grad():
        a = m.encode(state, forcing, token_mask)
        b = m.encode(noisy_state, noisy_forcing, token_mask)
        c = m.encode(noisy_state, noisy_forcing, None)
    assert torch.equal(a, b)  # nothing of a hidden patch reaches the encoder
    assert not torch.allclose(a, c)  # ... while visible inputs do


def test_rollout_is_deterministic_and_equals_repeated_steps():
    m = _model("tiny").eval()
    state, _ = _inputs(m.config)
    forcings = torch.randn(2, 4, 5, 8, 16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        a = torch.stack(list(m.rollout(state, forcings)), 1)
        b = torch.stack(list(m.rollout(state, list(forcings.unbind(1)))), 1)
        x, c = state, []
        for k in range(4):
            x = m.step(x, forcings[:, k])
            c.append(x)
    assert a.shape == (2, 4, 13, 8, 16)
    assert torch.equal(a, b) and torch.equal(a, torch.stack(c, 1))


def test_untrained_residual_model_is_persistence_and_land_is_zero():
    torch.manual_seed(0)
    m = FourierMAE(get_preset("tiny"))
    mask = torch.ones(13, 8, 16)
    mask[:, :2] = 0
    m.set_geography(mask, torch.ones(3, 8, 16))
    state, forcing = _inputs(m.config)
    out = m.step(state * mask, forcing)
    assert torch.equal(out, state * mask)
    m2 = _model("tiny")
    m2.set_geography(mask, torch.ones(3, 8, 16))
    assert (m2.step(state, forcing)[:, :, :2] == 0).all()


def test_patch_embedding_pads_longitude_circularly_and_recovery_crops():
    x = torch.arange(2 * 5 * 7, dtype=torch.float32).reshape(1, 2, 5, 7)
    padded, pads = pad_to_patches(x, (2, 3), periodic_lon=True)
    assert padded.shape == (1, 2, 6, 9) and pads == (0, 1, 1, 1)
    assert torch.equal(padded[..., :5, 0], x[..., -1]) and torch.equal(padded[..., :5, -1], x[..., 0])
    assert (padded[..., 5, :] == 0).all()
    tokens = PatchEmbed(2, 8, (2, 3))(x)
    assert tokens.shape == (1, 3, 3, 8)
    assert PatchRecovery(8, 4, (2, 3), (5, 7))(tokens).shape == (1, 4, 5, 7)


def test_position_embedding_is_periodic_in_longitude():
    h, w, width = 3, 12, 16
    emb = sincos_position_embedding(width, (h, w)).double()
    quarter = width // 4
    j = torch.arange(w + 1, dtype=torch.float64)[:, None]
    angle = 2 * torch.pi * j * torch.arange(1, quarter + 1, dtype=torch.float64)[None] / w  # (w + 1, quarter)
    expected = torch.cat([torch.sin(angle), torch.cos(angle)], dim=1)
    assert torch.allclose(emb[0, :, width // 2:], expected[:w], atol=1e-6)
    assert torch.allclose(expected[w], expected[0], atol=1e-9)  # column w is column 0: no seam
    assert torch.equal(emb[:, 0, width // 2:], emb[:, 0, width // 2:][:1].expand(h, -1))


def test_relative_l2_by_hand():
    target = torch.zeros(1, 2, 1, 2)
    target[0, 0] = torch.tensor([[3.0, 4.0]])
    target[0, 1] = torch.tensor([[1.0, 0.0]])
    pred = target.clone()
    pred[0, 0, 0, 0] += 1.0  # channel 0: error norm 1, target norm 5
    weights = torch.ones(2, 1, 2)
    per = relative_l2(pred, target, weights, per_channel=True)
    assert torch.allclose(per, torch.tensor([0.2, 0.0]), atol=1e-5)
    # land (weight 0) is ignored
    w_land = weights.clone()
    w_land[0, 0, 0] = 0
    assert torch.allclose(relative_l2(pred, target, w_land, per_channel=True)[0], torch.tensor(0.0), atol=1e-5)
    # persistence scores exactly 1 against the tendency
    prev = torch.randn(3, 2, 4, 4)
    nxt = prev + torch.randn(3, 2, 4, 4)
    assert torch.allclose(relative_l2(prev, nxt, torch.ones(2, 4, 4), reference=prev), torch.tensor(1.0))


def test_area_weights_mean_one_over_ocean_zero_on_land():
    area = torch.tensor([[1.0, 1.0], [3.0, 3.0]])
    mask = torch.tensor([[[True, False], [True, True]]])
    w = area_weights(area, mask)
    assert w[0, 0, 1] == 0
    assert torch.allclose(w[mask].mean(), torch.tensor(1.0))
    assert torch.allclose(w[0, 1, 0] / w[0, 0, 0], torch.tensor(3.0))


def test_mask_schedule_and_token_mask():
    assert [AIGOMS_SCHEDULE.ratio(e) for e in range(11)] == [0, 0, .75, .75, .75, .75, .25, .25, .25, 0, 0]
    with pytest.raises(ConfigError, match="start at epoch 0"):
        MaskSchedule(((1, 0.5),))
    m = random_token_mask(3, (4, 5), 0.75, torch.Generator().manual_seed(0))
    assert m.shape == (3, 4, 5) and m.sum(dim=(1, 2)).tolist() == [15, 15, 15]
    assert random_token_mask(3, (4, 5), 0.0) is None


def test_config_round_trip_and_errors():
    cfg = get_preset("demo")
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    changed = cfg.replace(encoder={"depth": 2}, residual=False)
    assert changed.encoder.depth == 2 and changed.encoder.width == cfg.encoder.width and not changed.residual
    with pytest.raises(ConfigError, match="unknown field"):
        ModelConfig.from_dict({**cfg.to_dict(), "dropout": 0.1})
    with pytest.raises(ConfigError, match="not divisible"):
        cfg.replace(encoder={"width": 100})


def _afno_reference(mixer, x: torch.Tensor) -> torch.Tensor:
    """FourCastNet's AFNO2D written with complex arithmetic and four einsums."""
    h, w = x.shape[1:3]
    hf = 2 * h if mixer.lat_padding else h
    spec = torch.fft.rfft2(x, s=(hf, w), dim=(1, 2), norm="ortho")
    spec = spec.reshape(*spec.shape[:3], mixer.num_blocks, mixer.block)
    kept = spec.shape[2] if mixer.fraction >= 1 else max(1, int(-(-spec.shape[2] * mixer.fraction // 1)))
    xr, xi = spec.real[:, :, :kept], spec.imag[:, :, :kept]

    def layer(xr, xi, wt, b):
        r = torch.einsum("...ni,nio->...no", xr, wt[0]) - torch.einsum("...ni,nio->...no", xi, wt[1]) + b[0]
        i = torch.einsum("...ni,nio->...no", xi, wt[0]) + torch.einsum("...ni,nio->...no", xr, wt[1]) + b[1]
        return r, i

    r, i = layer(xr, xi, mixer.w1, mixer.b1)
    r, i = layer(torch.relu(r), torch.relu(i), mixer.w2, mixer.b2)
    out = torch.complex(torch.nn.functional.softshrink(r, mixer.sparsity),
                        torch.nn.functional.softshrink(i, mixer.sparsity))
    full = torch.zeros_like(spec)
    full[:, :, :kept] = out
    y = torch.fft.irfft2(full.reshape(*full.shape[:3], -1), s=(hf, w), dim=(1, 2), norm="ortho")[:, :h]
    return y + x


@pytest.mark.parametrize("lat_padding,fraction", [(True, 1.0), (False, 1.0), (True, 0.5)])
def test_afno_mixer_matches_the_complex_reference(lat_padding, fraction):
    from backbone.layers import AFNOMixer

    torch.manual_seed(0)
    mixer = AFNOMixer(16, num_blocks=4, sparsity=0.01, hard_threshold_fraction=fraction, lat_padding=lat_padding,
                      scale=0.3)
    x = torch.randn(2, 5, 8, 16)
    assert torch.allclose(mixer(x), _afno_reference(mixer, x), atol=1e-5)


@pytest.mark.parametrize("name", ["tiny", "demo", "aigoms"])
def test_model_yaml_files_match_the_registry(name):
    from pathlib import Path

    from backbone.config import resolve_model

    path = Path(__file__).resolve().parents[1] / "configs" / "model" / f"{name}.yaml"
    assert resolve_model(str(path)) == get_preset(name)
