"""The 3D-Geoformer: an encoder-decoder transformer with space-time factorised attention.

Tensors in and out are normalised anomalies ``(batch, month, channel, lat,
lon)`` with land as 0 (the fixed regional grid's learned per-patch position
embedding tells the model where land is, so no mask channel is needed).

* **Patches.** The grid is zero-padded at its northern and eastern edges up
  to whole patches (20x119 -> 21x120 for 3x4 patches: 7x30 = 210 tokens per
  month); a patch of all channels is one token (``9 x 3 x 4 = 108`` values
  -> ``d_model``). Outputs are cropped back to the grid.
* **Embedding.** Linear patch embedding + sin-cos month position + a
  learned embedding per spatial token, then LayerNorm (as published).
* **Factorised attention.** Every layer attends along time first (each
  spatial token sees its own months), then along space (each month sees all
  its tokens), then a feed-forward layer: TimeSformer's "divided" attention.
  Decoder layers add a causal mask on their time attention and a
  cross-attention along time into the encoder's months at the same spatial
  token (as in the published code). Pre-norm residual blocks (the published
  code is post-norm; pre-norm needs no long warm-up, which matters on CPU).
  Every layer has its own weights.
* **Residual output.** Each decoder position predicts the change from the
  month it was given (its output head starts near zero, so an untrained
  model is nearly persistence); the published model predicts the fields themselves.
  With the few thousand training windows a CPU can afford, starting from
  persistence and learning tendencies is what makes training converge.
* **Decoding.** The decoder's input is the last input month followed by
  the target months shifted by one; at inference the model runs
  autoregressively for ``output_months`` months with a key/value cache on the
  time attention (space and cross attention are per month), which gives
  exactly the teacher-forced result for the same inputs at the cost of one
  decoder pass.
* **Teacher forcing** (:meth:`Geoformer.forward` with ``targets``):
  scheduled sampling as in the published code: a first decoder pass without
  gradients on the true previous months, then each previous month is the
  truth with probability ``teacher_forcing`` and that first pass's
  prediction otherwise; the loss is taken on the second pass.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from downstream.enso.config import GeoformerConfig, TransformerSpec

__all__ = ["Geoformer", "AxisAttention", "EncoderLayer", "DecoderLayer", "sincos_table"]

_AXIS_PATTERNS = {  # (b, t, s, d) -> (batch of sequences, heads, sequence, head dim)
    "time": ("b t s (h e) -> b s h t e", "b s h t e -> b t s (h e)"),
    "space": ("b t s (h e) -> b t h s e", "b t h s e -> b t s (h e)"),
}


def sincos_table(n: int, d: int) -> torch.Tensor:
    """Sin-cos position table ``(n, d)`` (Vaswani et al.)."""
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    table = torch.zeros(n, d)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)
    return table


class AxisAttention(nn.Module):
    """Multi-head attention along one axis (``"time"`` or ``"space"``) of ``(b, t, s, d)`` tokens."""

    def __init__(self, d_model: int, heads: int, axis: str, dropout: float = 0.0):
        super().__init__()
        if axis not in _AXIS_PATTERNS:
            raise ValueError(f"axis must be 'time' or 'space', found {axis!r}")
        self.axis, self.heads, self.dropout = axis, heads, dropout
        self.query = nn.Linear(d_model, d_model)
        self.key_value = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def keys_values(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-head keys and values of ``source`` ``(b, t, s, d)``."""
        split, _ = _AXIS_PATTERNS[self.axis]
        k, v = self.key_value(source).chunk(2, dim=-1)
        return rearrange(k, split, h=self.heads), rearrange(v, split, h=self.heads)

    def forward(self, x: torch.Tensor, source: torch.Tensor | None = None, causal: bool = False,
                kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """``x`` ``(b, t, s, d)`` attends to ``source`` (default ``x``) or to precomputed ``kv``."""
        split, merge = _AXIS_PATTERNS[self.axis]
        q = rearrange(self.query(x), split, h=self.heads)
        k, v = kv if kv is not None else self.keys_values(x if source is None else source)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.out(rearrange(o, merge))


class FeedForward(nn.Sequential):
    def __init__(self, d_model: int, hidden: int, dropout: float):
        super().__init__(nn.Linear(d_model, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, d_model))


class EncoderLayer(nn.Module):
    """Time attention, then space attention, then feed-forward (pre-norm residuals)."""

    def __init__(self, spec: TransformerSpec):
        super().__init__()
        d = spec.d_model
        self.norm_time, self.time_attention = nn.LayerNorm(d), AxisAttention(d, spec.heads, "time", spec.dropout)
        self.norm_space, self.space_attention = nn.LayerNorm(d), AxisAttention(d, spec.heads, "space", spec.dropout)
        self.norm_ff, self.feed_forward = nn.LayerNorm(d), FeedForward(d, spec.feedforward, spec.dropout)
        self.drop = nn.Dropout(spec.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (b, t, s, d)
        x = x + self.drop(self.time_attention(self.norm_time(x)))
        x = x + self.drop(self.space_attention(self.norm_space(x)))
        return x + self.drop(self.feed_forward(self.norm_ff(x)))


class DecoderLayer(nn.Module):
    """Causal time attention, space attention, time cross-attention into the encoder, feed-forward."""

    def __init__(self, spec: TransformerSpec):
        super().__init__()
        d = spec.d_model
        self.norm_time, self.time_attention = nn.LayerNorm(d), AxisAttention(d, spec.heads, "time", spec.dropout)
        self.norm_space, self.space_attention = nn.LayerNorm(d), AxisAttention(d, spec.heads, "space", spec.dropout)
        self.norm_cross, self.cross_attention = nn.LayerNorm(d), AxisAttention(d, spec.heads, "time", spec.dropout)
        self.norm_ff, self.feed_forward = nn.LayerNorm(d), FeedForward(d, spec.feedforward, spec.dropout)
        self.drop = nn.Dropout(spec.dropout)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        """``x`` ``(b, t, s, d)``; with ``cache`` (incremental decoding) ``x`` is the newest month only."""
        h = self.norm_time(x)
        if cache is None:
            x = x + self.drop(self.time_attention(h, causal=True))
        else:  # incremental: the one new month attends to every cached month and itself
            assert x.shape[1] == 1, "incremental decoding takes one month at a time"
            k, v = self.time_attention.keys_values(h)
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=-2), torch.cat([cache["v"], v], dim=-2)
            cache["k"], cache["v"] = k, v
            x = x + self.drop(self.time_attention(h, kv=(k, v)))
        x = x + self.drop(self.space_attention(self.norm_space(x)))
        kv = None
        if cache is not None:
            if "memory_kv" not in cache:
                cache["memory_kv"] = self.cross_attention.keys_values(memory)
            kv = cache["memory_kv"]
        x = x + self.drop(self.cross_attention(self.norm_cross(x), source=memory, kv=kv))
        return x + self.drop(self.feed_forward(self.norm_ff(x)))


class Embedding(nn.Module):
    """Patch tokens ``(b, t, s, p)`` -> ``(b, t, s, d)``: linear + month position + spatial embedding."""

    def __init__(self, patch_dim: int, d_model: int, tokens: int, months: int):
        super().__init__()
        self.linear = nn.Linear(patch_dim, d_model)
        self.space = nn.Parameter(torch.randn(tokens, d_model) * 0.02)
        self.register_buffer("time", sincos_table(months, d_model), persistent=False)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        t = x.shape[1]
        if offset + t > self.time.shape[0]:
            raise ValueError(f"{offset + t} months exceed the {self.time.shape[0]} this embedding was built for")
        return self.norm(self.linear(x) + self.time[offset:offset + t, None, :] + self.space)


class Geoformer(nn.Module):
    """3D-Geoformer on normalised anomalies ``(batch, month, channel, lat, lon)``."""

    def __init__(self, config: GeoformerConfig):
        super().__init__()
        self.config = config
        spec, p = config.transformer, config.patch_dim
        self.source_embedding = Embedding(p, spec.d_model, config.tokens, config.io.input_months)
        self.target_embedding = Embedding(p, spec.d_model, config.tokens, config.io.output_months)
        self.encoder = nn.ModuleList(EncoderLayer(spec) for _ in range(spec.encoder_layers))
        self.decoder = nn.ModuleList(DecoderLayer(spec) for _ in range(spec.decoder_layers))
        self.norm = nn.LayerNorm(spec.d_model)
        self.head = nn.Linear(spec.d_model, p)
        nn.init.normal_(self.head.weight, std=1e-3)  # residual output: an untrained model is ~persistence
        nn.init.zeros_(self.head.bias)

    # -- shapes ---------------------------------------------------------------
    def _check(self, x: torch.Tensor, months: int | None, what: str) -> None:
        c, (h, w) = self.config.io.channels, self.config.io.grid_shape
        if x.ndim != 5 or x.shape[2:] != (c, h, w) or (months is not None and x.shape[1] != months):
            want = f"(batch, {months if months is not None else 'months'}, {c}, {h}, {w})"
            raise ValueError(f"{what} has shape {tuple(x.shape)}, expected {want} (batch, month, channel, lat, lon)")

    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """``(b, t, c, h, w)`` -> ``(b, t, s, c*p*q)``, zero-padding to whole patches."""
        (h, w), (hp, wp), (p, q) = self.config.io.grid_shape, self.config.padded_shape, self.config.patch
        x = F.pad(x, (0, wp - w, 0, hp - h))
        return rearrange(x, "b t c (y p) (x q) -> b t (y x) (c p q)", p=p, q=q)

    def unpatchify(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(b, t, s, c*p*q)`` -> ``(b, t, c, h, w)``, cropping the padding."""
        (h, w), (p, q), (ny, nx) = self.config.io.grid_shape, self.config.patch, self.config.token_grid
        x = rearrange(tokens, "b t (y x) (c p q) -> b t c (y p) (x q)", y=ny, x=nx, p=p, q=q)
        return x[..., :h, :w]

    # -- encoder / decoder -----------------------------------------------------
    def encode(self, inputs: torch.Tensor) -> torch.Tensor:
        """Input months ``(b, T_in, c, h, w)`` -> memory ``(b, T_in, s, d)``."""
        self._check(inputs, self.config.io.input_months, "inputs")
        x = self.source_embedding(self.patchify(inputs))
        for layer in self.encoder:
            x = layer(x)
        return x

    def decode(self, previous: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Teacher-forced decoder: previous months ``(b, t, c, h, w)`` -> next months, same shape."""
        x = self.target_embedding(self.patchify(previous))
        for layer in self.decoder:
            x = layer(x, memory)
        return previous + self.unpatchify(self.head(self.norm(x)))

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor | None = None, teacher_forcing: float = 1.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Training (``targets`` given, scheduled sampling) or inference (autoregressive).

        ``inputs`` ``(b, T_in, c, h, w)``, ``targets`` ``(b, T_out, c, h, w)``;
        returns the predicted ``(b, T_out, c, h, w)``.
        """
        if targets is None:
            return self.predict(inputs)
        self._check(targets, self.config.io.output_months, "targets")
        memory = self.encode(inputs)
        previous = torch.cat([inputs[:, -1:], targets[:, :-1]], dim=1)
        if teacher_forcing < 1.0:
            with torch.no_grad():
                first = self.decode(previous, memory.detach())
            keep = torch.rand(targets.shape[0], targets.shape[1] - 1, 1, 1, 1, generator=generator,
                              device=targets.device) < teacher_forcing
            mixed = torch.where(keep, targets[:, :-1], first[:, :-1])
            previous = torch.cat([inputs[:, -1:], mixed], dim=1)
        return self.decode(previous, memory)

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, months: int | None = None) -> torch.Tensor:
        """Autoregressive forecast of ``months`` (default ``output_months``) months with a KV cache."""
        months = months or self.config.io.output_months
        if months > self.config.io.output_months:
            raise ValueError(f"this model forecasts at most {self.config.io.output_months} months, asked {months}")
        memory = self.encode(inputs)
        caches: list[dict] = [{} for _ in self.decoder]
        current, out = inputs[:, -1:], []
        for step in range(months):
            x = self.target_embedding(self.patchify(current), offset=step)
            for layer, cache in zip(self.decoder, caches):
                x = layer(x, memory, cache)
            current = current + self.unpatchify(self.head(self.norm(x)))
            out.append(current)
        return torch.cat(out, dim=1)
