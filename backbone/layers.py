"""Shared layers: patch embedding and recovery, AFNO token mixing, MLP, blocks.

Token tensors are channel-last ``(b, h, w, d)`` on the token grid (``h``
latitude rows, ``w`` longitude columns); fields are ``(b, c, lat, lon)``.

* :class:`PatchEmbed` pads a field up to whole patches (longitude
  circularly when the grid is periodic, latitude with zeros split between
  the poles) and maps each ``p x q`` patch to a token with one linear layer
  (the same as a stride-``p`` convolution).
* :class:`PatchRecovery` is the inverse: one linear layer per token to a
  ``p x q`` patch of every output channel (the same as AI-GOMS's transposed
  convolution with kernel = stride = patch), then the padding is cropped.
* :class:`AFNOMixer` is FourCastNet's AFNO2D: a real 2-D FFT over the token
  grid, a block-diagonal complex two-layer MLP on every retained mode,
  soft-shrink, inverse FFT, plus the input. The FFT is periodic in
  longitude (the real geometry). In latitude it is not: with
  ``lat_padding`` the token grid is zero-padded to twice its height before
  the FFT and cropped after, so the North Pole row is not a neighbour of
  the South Pole row.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

__all__ = ["pad_to_patches", "PatchEmbed", "PatchRecovery", "AFNOMixer", "Mlp", "AFNOBlock", "AFNOStack",
           "sincos_position_embedding"]


def pad_to_patches(x: torch.Tensor, patch: tuple[int, int], periodic_lon: bool) -> tuple[torch.Tensor, tuple]:
    """Pad ``x`` (b, c, lat, lon) to whole patches; returns the padded field and the pads.

    Pads are ``(south, north, west, east)``. Longitude is padded circularly
    on a periodic grid (zeros otherwise), latitude with zeros.
    """
    (h, w), (p, q) = x.shape[-2:], patch
    dh, dw = (-h) % p, (-w) % q
    pads = (dh // 2, dh - dh // 2, dw // 2, dw - dw // 2)
    if dw:
        mode = "circular" if periodic_lon else "constant"
        x = F.pad(x, (pads[2], pads[3], 0, 0), mode=mode)
    if dh:
        x = F.pad(x, (0, 0, pads[0], pads[1]))
    return x, pads


class PatchEmbed(nn.Module):
    """Field ``(b, c, lat, lon)`` -> tokens ``(b, h, w, d)``."""

    def __init__(self, in_channels: int, width: int, patch: tuple[int, int], periodic_lon: bool = True):
        super().__init__()
        self.patch = tuple(patch)
        self.periodic_lon = periodic_lon
        self.proj = nn.Linear(in_channels * patch[0] * patch[1], width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, _ = pad_to_patches(x, self.patch, self.periodic_lon)
        p, q = self.patch
        x = rearrange(x, "b c (h p) (w q) -> b h w (p q c)", p=p, q=q)
        return self.proj(x)


class PatchRecovery(nn.Module):
    """Tokens ``(b, h, w, d)`` -> field ``(b, c, lat, lon)`` cropped to ``grid_shape``."""

    def __init__(self, width: int, out_channels: int, patch: tuple[int, int], grid_shape: tuple[int, int]):
        super().__init__()
        self.patch = tuple(patch)
        self.grid_shape = tuple(grid_shape)
        self.out_channels = out_channels
        self.proj = nn.Linear(width, out_channels * patch[0] * patch[1])

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        p, q = self.patch
        x = rearrange(self.proj(tokens), "b h w (p q c) -> b c (h p) (w q)", p=p, q=q, c=self.out_channels)
        (h, w), (hp, wp) = self.grid_shape, x.shape[-2:]
        s, west = (hp - h) // 2, (wp - w) // 2
        return x[..., s:s + h, west:west + w]


class AFNOMixer(nn.Module):
    """Adaptive Fourier neural operator token mixing (FourCastNet AFNO2D).

    ``(b, h, w, d)`` -> ``(b, h, w, d)``. Weights ``w1, w2`` are
    ``(2, blocks, block_size, block_size)`` (real, imaginary parts).
    """

    def __init__(self, width: int, num_blocks: int = 8, sparsity: float = 0.01,
                 hard_threshold_fraction: float = 1.0, lat_padding: bool = True, scale: float = 0.02):
        super().__init__()
        if width % num_blocks:
            raise ValueError(f"width {width} is not divisible by num_blocks {num_blocks}")
        self.num_blocks, self.block = num_blocks, width // num_blocks
        self.sparsity = sparsity
        self.fraction = hard_threshold_fraction
        self.lat_padding = lat_padding
        k = self.block
        self.w1 = nn.Parameter(scale * torch.randn(2, num_blocks, k, k))
        self.b1 = nn.Parameter(scale * torch.randn(2, num_blocks, k))
        self.w2 = nn.Parameter(scale * torch.randn(2, num_blocks, k, k))
        self.b2 = nn.Parameter(scale * torch.randn(2, num_blocks, k))

    @staticmethod
    def _real_form(w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The complex block map as a real one on interleaved (re, im) pairs.

        ``w`` (2, n, k, o), ``b`` (2, n, o) -> ``(n, (k 2), (o 2))`` and
        ``(n, (o 2))``, so that ``[.., (i re/im)] @ W`` is
        ``(xr w0 - xi w1, xr w1 + xi w0)``: one real batched matmul per layer
        instead of four.
        """
        big = torch.stack([torch.stack([w[0], w[1]]), torch.stack([-w[1], w[0]])])  # (2, 2, n, k, o)
        return (rearrange(big, "a c n i o -> n (i a) (o c)"), rearrange(b, "c n o -> n (o c)"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        h, w = x.shape[1:3]
        hf = 2 * h if self.lat_padding else h
        spec = torch.fft.rfft2(x.float(), s=(hf, w), dim=(1, 2), norm="ortho")  # (b, hf, w//2+1, d) complex
        modes = spec.shape[2]
        kept = modes if self.fraction >= 1.0 else max(1, int(math.ceil(modes * self.fraction)))
        z = rearrange(torch.view_as_real(spec[:, :, :kept]), "b y x (n k) c -> b y x n (k c)", n=self.num_blocks)
        w1, b1 = self._real_form(self.w1, self.b1)
        w2, b2 = self._real_form(self.w2, self.b2)
        z = F.relu(torch.einsum("byxni,nio->byxno", z, w1) + b1)
        z = torch.einsum("byxni,nio->byxno", z, w2) + b2
        z = F.softshrink(z, lambd=self.sparsity)
        out = torch.view_as_complex(rearrange(z, "b y x n (k c) -> b y x (n k) c", c=2).contiguous())
        if kept < modes:
            out = F.pad(out, (0, 0, 0, modes - kept))
        y = torch.fft.irfft2(out, s=(hf, w), dim=(1, 2), norm="ortho")[:, :h]
        return y.to(dtype) + x


class Mlp(nn.Module):
    """Linear -> GELU -> Linear, channel-last."""

    def __init__(self, width: int, ratio: float = 4.0):
        super().__init__()
        hidden = int(width * ratio)
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class AFNOBlock(nn.Module):
    """Norm -> AFNO mixing (+ skip) -> norm -> MLP (+ skip): FourCastNet's ``Block`` with double skip."""

    def __init__(self, width: int, num_blocks: int, sparsity: float, mlp_ratio: float, double_skip: bool,
                 lat_padding: bool, hard_threshold_fraction: float = 1.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.mixer = AFNOMixer(width, num_blocks, sparsity, hard_threshold_fraction, lat_padding)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = Mlp(width, mlp_ratio)
        self.double_skip = double_skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        x = self.mixer(self.norm1(x))
        if self.double_skip:
            x = x + residual
            residual = x
        return self.mlp(self.norm2(x)) + residual


class AFNOStack(nn.Module):
    """``depth`` :class:`AFNOBlock` s followed by a final LayerNorm."""

    def __init__(self, width: int, depth: int, mixer) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            AFNOBlock(width, mixer.num_blocks, mixer.sparsity, mixer.mlp_ratio, mixer.double_skip,
                      mixer.lat_padding, mixer.hard_threshold_fraction)
            for _ in range(depth))
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


def sincos_position_embedding(width: int, token_grid: tuple[int, int], periodic_lon: bool = True) -> torch.Tensor:
    """Fixed 2-D sin-cos position embedding ``(h, w, width)`` (MAE), periodic in longitude.

    Half the channels encode the latitude row with MAE's geometric
    frequencies; the other half encode longitude with whole numbers of
    cycles round the globe (``2 pi k j / w``), so column ``w`` equals column
    0 and the embedding has no seam at the dateline.
    """
    h, w = token_grid
    quarter = width // 4
    omega = 1.0 / 10000 ** (np.arange(quarter, dtype=np.float64) / max(quarter, 1))
    lat = np.arange(h, dtype=np.float64)[:, None] * omega[None]  # (h, quarter)
    if periodic_lon:
        cycles = np.arange(1, quarter + 1, dtype=np.float64)
        lon = 2 * np.pi * np.arange(w, dtype=np.float64)[:, None] * cycles[None] / w
    else:
        lon = np.arange(w, dtype=np.float64)[:, None] * omega[None]
    emb_lat = np.concatenate([np.sin(lat), np.cos(lat)], axis=1)  # (h, width/2)
    emb_lon = np.concatenate([np.sin(lon), np.cos(lon)], axis=1)  # (w, width/2)
    emb = np.concatenate([np.broadcast_to(emb_lat[:, None], (h, w, 2 * quarter)),
                          np.broadcast_to(emb_lon[None], (h, w, 2 * quarter))], axis=-1)
    return torch.as_tensor(emb, dtype=torch.float32)
