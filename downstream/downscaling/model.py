"""``DownscalingNet``: coarse forecast + backbone features + fine bathymetry -> fine fields.

Data flow (shapes for the Kuroshio configuration, 1/4 -> 1/12 degree, halo 2)::

    features (b, d_dec, h_tok, w_tok) --select_features: token crop--> (b, d_dec, ht, wt)
        --1x1 conv--> (b, k, ht, wt) --bilinear--> (b, k, 99, 226)              on the coarse halo
    coarse state (b, 61, 99, 226), normalised, land 0 --land filled (nearest ocean)-->
    [state, features, level mask] --3x3 conv, coarse_blocks residual blocks (width w)-->
        --transposed conv (kernel = stride = factor), upsample_convs - 1 more--> (b, w_f, 297, 678)
        --crop the halo--> (b, w_f, 285, 666)
    base = bicubic(coarse state) on the fine grid, in the head's units      (b, c_out, 285, 666)
    [upsampled, base, fine static (depth, relief, mask, sin lat)]
        --3x3 conv, fine_blocks residual blocks, 1x1 conv (zero-initialised)--> residual r
    output = (base + r * residual_scale) * fine mask                         (b, c_out, 285, 666)

Units: the coarse state is normalised with the backbone's statistics; the
output with the fine cube's (``out_mean``, ``out_std``); ``residual_scale``
is the measured std of ``truth - base`` per channel (in output units), so
the network's output is O(1) and the loss weighs channels by how much
interpolation misses. The untrained network is exactly the interpolation.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange, repeat
from torch import nn

from downstream.downscaling.config import DownscalingConfig
from downstream.downscaling.geometry import RegionGeometry, cubic_matrix, linear_matrix
from downstream.frozen import TokenLayout
from downstream.head import HeadModel

__all__ = ["DownscalingNet", "FINE_STATIC"]

#: The fine static input channels.
FINE_STATIC = ("depth_km", "relief_hm", "ocean", "sin_lat")


class ResBlock(nn.Module):
    """``x + conv(gelu(conv(x)))``, the second conv starting small."""

    def __init__(self, width: int):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        nn.init.normal_(self.conv2.weight, std=1e-3)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.gelu(self.conv1(x)))


def _separable(field: torch.Tensor, my: torch.Tensor, mx: torch.Tensor) -> torch.Tensor:
    """``(b, c, h, w)`` -> ``(b, c, y, x)`` with weight matrices ``my (y, h)`` and ``mx (x, w)``."""
    return torch.einsum("yh,bchw,xw->bcyx", my.to(field.dtype), field, mx.to(field.dtype))


class DownscalingNet(HeadModel):
    """See the module docstring. Build with the geometry; :meth:`set_static` fills the data-derived buffers."""

    def __init__(self, config: DownscalingConfig, geometry: RegionGeometry, layout: TokenLayout,
                 backbone_channels: Sequence[str], levels: int, feature_width: int, out_channels: Sequence[str]):
        super().__init__()
        self.config, self.geometry = config, geometry
        self.out_channels = tuple(out_channels)
        missing = [c for c in out_channels if c not in backbone_channels]
        assert not missing, f"output channels {missing} are not backbone channels"  # checked by the builder
        net, f, h = config.net, geometry.factor, geometry.halo
        cb, co = len(backbone_channels), len(out_channels)
        hh, wh = geometry.halo_shape
        hf, wf = geometry.fine.shape
        self.crop_start = h * f
        # -- fixed geometry -------------------------------------------------------------
        rows, cols, ty, tx = geometry.token_crop(layout)
        self.register_buffer("token_rows", torch.as_tensor(rows, dtype=torch.long))
        self.register_buffer("token_cols", torch.as_tensor(cols, dtype=torch.long))
        self.register_buffer("token_my", torch.as_tensor(linear_matrix(ty, len(rows)), dtype=torch.float32))
        self.register_buffer("token_mx", torch.as_tensor(linear_matrix(tx, len(cols)), dtype=torch.float32))
        ys, xs = geometry.fine_positions
        interp = cubic_matrix if config.base == "bicubic" else linear_matrix
        self.register_buffer("base_my", torch.as_tensor(interp(ys, hh), dtype=torch.float32))
        self.register_buffer("base_mx", torch.as_tensor(interp(xs, wh), dtype=torch.float32))
        self.register_buffer("out_index", torch.as_tensor([list(backbone_channels).index(c) for c in out_channels]))
        self.register_buffer("halo_rows", torch.as_tensor(geometry.rows, dtype=torch.long), persistent=False)
        self.register_buffer("halo_cols", torch.as_tensor(geometry.cols, dtype=torch.long), persistent=False)
        lat = torch.as_tensor(np.cos(np.deg2rad(geometry.fine.lat)), dtype=torch.float32)
        self.register_buffer("row_weight", rearrange(lat, "y -> y 1"))
        # -- data-derived (set_static; loaded from the weights) ------------------------------
        self.register_buffer("fill_index", repeat(torch.arange(hh * wh), "n -> c n", c=cb).clone())
        self.register_buffer("coarse_static", torch.zeros(levels, hh, wh))
        self.register_buffer("fine_static", torch.zeros(len(FINE_STATIC), hf, wf))
        self.register_buffer("out_mask", torch.ones(co, hf, wf))
        for name in ("bb_mean", "out_mean"):
            self.register_buffer(name, torch.zeros(co))
        for name in ("bb_std", "out_std", "residual_scale"):
            self.register_buffer(name, torch.ones(co))
        # -- trainable ------------------------------------------------------------------------
        self.project = nn.Conv2d(feature_width, net.feature_channels, 1)
        self.stem = nn.Conv2d(cb + net.feature_channels + levels, net.width, 3, padding=1)
        self.coarse_blocks = nn.Sequential(*[ResBlock(net.width) for _ in range(net.coarse_blocks)])
        ups: list[nn.Module] = [nn.ConvTranspose2d(net.width, net.width, f, stride=f)]
        for _ in range(net.upsample_convs - 1):
            ups += [nn.GELU(), nn.ConvTranspose2d(net.width, net.width, 3, padding=1)]
        ups += [nn.GELU(), nn.Conv2d(net.width, net.fine_width, 1)]
        self.upsample = nn.Sequential(*ups)
        self.fine_stem = nn.Conv2d(net.fine_width + co + len(FINE_STATIC), net.fine_width, 3, padding=1)
        self.fine_blocks = nn.Sequential(*[ResBlock(net.fine_width) for _ in range(net.fine_blocks)])
        self.out = nn.Conv2d(net.fine_width, co, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    # -- static fields ------------------------------------------------------------------------
    @torch.no_grad()
    def set_static(self, *, fill_index: np.ndarray, coarse_static: np.ndarray, fine_static: np.ndarray,
                   out_mask: np.ndarray, bb_mean, bb_std, out_mean, out_std) -> None:
        for name, value in (("fill_index", fill_index), ("coarse_static", coarse_static),
                            ("fine_static", fine_static), ("out_mask", out_mask), ("bb_mean", bb_mean),
                            ("bb_std", bb_std), ("out_mean", out_mean), ("out_std", out_std)):
            buf = getattr(self, name)
            value = torch.as_tensor(np.asarray(value), dtype=buf.dtype)
            if tuple(value.shape) != tuple(buf.shape):
                raise ValueError(f"{name} has shape {tuple(value.shape)}, expected {tuple(buf.shape)}")
            buf.copy_(value)

    @torch.no_grad()
    def set_residual_scale(self, scale: torch.Tensor) -> None:
        self.residual_scale.copy_(torch.clamp(torch.as_tensor(scale, dtype=torch.float32), min=1e-3))

    # -- the pieces ---------------------------------------------------------------------------
    def select_features(self, features: torch.Tensor) -> torch.Tensor:
        """Token crop around the region ``(b, d_dec, ht, wt)`` of the global features."""
        return features.index_select(-2, self.token_rows).index_select(-1, self.token_cols)

    def crop_state(self, state: torch.Tensor) -> torch.Tensor:
        """The coarse halo ``(b, c, hh, wh)`` of a normalised backbone state ``(b, c, lat, lon)``."""
        return state.index_select(-2, self.halo_rows).index_select(-1, self.halo_cols)

    def fill_land(self, state: torch.Tensor) -> torch.Tensor:
        """Land cells take their nearest ocean cell's value (per channel), so interpolation sees no zeros."""
        flat = rearrange(state, "b c h w -> b c (h w)")
        index = repeat(self.fill_index, "c n -> b c n", b=state.shape[0])
        return rearrange(flat.gather(-1, index), "b c (h w) -> b c h w", h=state.shape[-2])

    def base(self, state: torch.Tensor) -> torch.Tensor:
        """Interpolation of the filled coarse halo onto the fine grid, in output units ``(b, c_out, y, x)``."""
        x = _separable(state.index_select(1, self.out_index), self.base_my, self.base_mx)
        physical = x * rearrange(self.bb_std, "c -> c 1 1") + rearrange(self.bb_mean, "c -> c 1 1")
        return (physical - rearrange(self.out_mean, "c -> c 1 1")) / rearrange(self.out_std, "c -> c 1 1")

    def forward(self, features: torch.Tensor, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Fine fields ``(b, c_out, y, x)`` in output units, land 0, from cropped features and ``batch["state"]``."""
        state = self.fill_land(batch["state"])  # (b, c_bb, hh, wh)
        feats = _separable(self.project(features.to(state.dtype)), self.token_my, self.token_mx)
        static = repeat(self.coarse_static, "l h w -> b l h w", b=state.shape[0])
        h = self.coarse_blocks(F.gelu(self.stem(torch.cat([state, feats, static], dim=1))))
        s, (hf, wf) = self.crop_start, self.geometry.fine.shape
        up = self.upsample(h)[..., s:s + hf, s:s + wf]
        base = self.base(state)
        fine = repeat(self.fine_static, "k y x -> b k y x", b=state.shape[0])
        g = self.fine_blocks(F.gelu(self.fine_stem(torch.cat([up, base, fine], dim=1))))
        out = base + self.out(g) * rearrange(self.residual_scale, "c -> c 1 1")
        return out * self.out_mask

    def loss(self, prediction: torch.Tensor, batch: Mapping[str, torch.Tensor]):
        """cos-lat weighted MSE over fine ocean cells, per channel in units of ``residual_scale``.

        Metrics: ``base_loss`` (the same for the interpolation alone) and
        ``skill`` = loss / base_loss (< 1: the head beats interpolation).
        """
        target = batch["target"]
        weight = self.out_mask * self.row_weight
        scale = rearrange(self.residual_scale, "c -> c 1 1")

        def mse(x: torch.Tensor) -> torch.Tensor:
            return (((x - target) / scale) ** 2 * weight).sum() / (weight.sum() * target.shape[0])

        loss = mse(prediction)
        with torch.no_grad():
            base_loss = mse(self.base(self.fill_land(batch["state"])) * self.out_mask)
        return loss, {"base_loss": base_loss, "skill": loss.detach() / base_loss.clamp_min(1e-12)}

    def to_physical(self, output: torch.Tensor) -> torch.Tensor:
        """Output units -> physical, NaN over fine land."""
        x = output * rearrange(self.out_std, "c -> c 1 1") + rearrange(self.out_mean, "c -> c 1 1")
        return torch.where(self.out_mask > 0, x, torch.full_like(x, float("nan")))
