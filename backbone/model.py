"""``FourierMAE``: the masked autoencoder with Fourier token mixing (AI-GOMS backbone).

Everything here works on *normalised* tensors (``ocean.normalize``), land
as 0. :class:`backbone.forecaster.Forecaster` wraps it in physical units and
``ocean.Batch``.

Data flow of one step (shapes for the ``aigoms`` preset)::

    state (b, 61, 720, 1440) ++ forcing (b, 5, ..) ++ static (s, ..)  -> (b, 66 + s, 720, 1440)
    PatchEmbed 8x8                    -> tokens (b, 90, 180, 512)   + masked tokens replaced
    + fixed sin-cos position embedding
    encoder: 16 AFNO blocks, width 512                -> latent  (b, 90, 180, 512)
    linear 512 -> 1024 (+ position embedding)
    decoder: 8 AFNO blocks, width 1024                -> features (b, 90, 180, 1024)
    PatchRecovery 8x8                 -> output (b, 61, 720, 1440)
    residual: next = state + output * tendency_std / std; else next = output
    land zeroed: next * ocean_mask

Masking (pre-training): a token mask ``(b, h, w)`` (True = hidden) replaces
the embeddings of hidden patches with one learned ``mask_token`` *before*
the position embedding and the encoder, so nothing of a hidden patch's
input reaches the encoder; the encoder still sees the full token grid,
which the FFT needs (SimMIM-style masking rather than MAE's token dropping).

Forcing convention: ``step(state, forcing)`` maps the state of day ``t`` to
day ``t + 1`` with the forcing valid on day ``t + 1`` (the daily mean of the
day being predicted, as an ocean model forced by reanalysis would use).

Buffers that travel with the weights: ``ocean_mask`` (out channels, lat,
lon; 1 ocean, 0 land), ``static`` (static channels, lat, lon) and
``tendency_scale`` (out channels; ``tendency_std / std`` for the residual).
Set them with :meth:`FourierMAE.set_geography` and
:meth:`FourierMAE.set_tendency_scale`.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import torch
from einops import rearrange, repeat
from torch import nn

from backbone.config import ModelConfig
from backbone.layers import AFNOStack, PatchEmbed, PatchRecovery, sincos_position_embedding

__all__ = ["FourierMAE"]


class FourierMAE(nn.Module):
    """Masked autoencoder with AFNO token mixing; see the module docstring.

    Public methods (heads use only these): :meth:`encode`, :meth:`features`,
    :meth:`decode`, :meth:`step`, :meth:`rollout`; :meth:`forward` is
    :meth:`step` with an optional token mask, for training.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        io, enc, dec = config.io, config.encoder, config.decoder
        self.embed = PatchEmbed(io.in_channels, enc.width, config.patch, io.periodic_lon)
        self.mask_token = nn.Parameter(torch.zeros(enc.width))
        self.encoder = AFNOStack(enc.width, enc.depth, config.mixer)
        self.bridge = nn.Linear(enc.width, dec.width)
        self.decoder = AFNOStack(dec.width, dec.depth, config.mixer)
        self.recovery = PatchRecovery(dec.width, io.out_channels, config.patch, io.grid_shape)
        grid = config.token_grid
        self.register_buffer("pos_encoder", sincos_position_embedding(enc.width, grid, io.periodic_lon),
                             persistent=False)
        self.register_buffer("pos_decoder", sincos_position_embedding(dec.width, grid, io.periodic_lon),
                             persistent=False)
        self.register_buffer("ocean_mask", torch.ones(io.out_channels, *io.grid_shape))
        self.register_buffer("static", torch.zeros(io.static_channels, *io.grid_shape))
        self.register_buffer("tendency_scale", torch.ones(io.out_channels))
        self.reset_parameters()

    # -- initialisation and buffers ------------------------------------------------------
    def reset_parameters(self) -> None:
        """Truncated-normal linear weights; the output layer starts at zero.

        With ``residual`` a zero output layer makes the untrained model
        exactly persistence, which is where training starts.
        """
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.mask_token, std=0.02)
        if self.config.residual:
            nn.init.zeros_(self.recovery.proj.weight)
            nn.init.zeros_(self.recovery.proj.bias)

    @torch.no_grad()
    def set_geography(self, ocean_mask: torch.Tensor, static: torch.Tensor | None = None) -> None:
        """Set the ocean mask ``(out channels, lat, lon)`` (bool/0-1) and static inputs ``(s, lat, lon)``."""
        io = self.config.io
        want = (io.out_channels, *io.grid_shape)
        if tuple(ocean_mask.shape) != want:
            raise ValueError(f"ocean_mask has shape {tuple(ocean_mask.shape)}, expected {want}")
        self.ocean_mask.copy_(ocean_mask.to(self.ocean_mask))
        if io.static_channels:
            want_s = (io.static_channels, *io.grid_shape)
            if static is None or tuple(static.shape) != want_s:
                found = None if static is None else tuple(static.shape)
                raise ValueError(f"static inputs have shape {found}, expected {want_s}")
            self.static.copy_(static.to(self.static))

    @torch.no_grad()
    def set_tendency_scale(self, scale: torch.Tensor) -> None:
        """Per-channel ``tendency_std / std``: one output unit in normalised state units."""
        self.tendency_scale.copy_(torch.as_tensor(scale).to(self.tendency_scale))

    # -- public methods -------------------------------------------------------------------
    def encode(self, state: torch.Tensor, forcing: torch.Tensor, token_mask: torch.Tensor | None = None
               ) -> torch.Tensor:
        """Latent tokens ``(b, h, w, encoder width)``.

        ``state`` (b, state channels, lat, lon) and ``forcing`` (b, forcing
        channels, lat, lon) are normalised; ``token_mask`` (b, h, w) marks
        hidden patches (True), whose inputs the encoder never sees.
        """
        x = torch.cat([state, forcing, repeat(self.static, "s y x -> b s y x", b=state.shape[0])], dim=1)
        tokens = self.embed(x.to(self.embed.proj.weight.dtype))
        if token_mask is not None:
            hidden = rearrange(token_mask, "b h w -> b h w 1").to(tokens.dtype)
            tokens = tokens * (1 - hidden) + self.mask_token * hidden
        return self.encoder(tokens + self.pos_encoder.to(tokens.dtype))

    def features(self, state: torch.Tensor, forcing: torch.Tensor) -> torch.Tensor:
        """Decoder features ``(b, decoder width, h, w)`` on the token grid (what heads consume)."""
        return rearrange(self._decoder_tokens(self.encode(state, forcing)), "b h w d -> b d h w")

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """Raw output field ``(b, out channels, lat, lon)`` from latent tokens.

        With ``residual`` this is the normalised tendency (in units of
        ``tendency_std``); otherwise the normalised next state.
        """
        return self.recovery(self._decoder_tokens(latent))

    def step(self, state: torch.Tensor, forcing: torch.Tensor) -> torch.Tensor:
        """Normalised state of day t+1 ``(b, c, lat, lon)`` from day t and the forcing of day t+1."""
        return self.forward(state, forcing)

    def rollout(self, state: torch.Tensor, forcings: "torch.Tensor | Iterable[torch.Tensor]"
                ) -> Iterator[torch.Tensor]:
        """Yield successive normalised states, one per forcing.

        ``forcings`` is ``(b, steps, forcing channels, lat, lon)`` or an
        iterable of ``(b, forcing channels, lat, lon)``; the k-th yield is
        the state of day t+k+1.
        """
        seq = forcings.unbind(dim=1) if isinstance(forcings, torch.Tensor) else forcings
        for forcing in seq:
            state = self.step(state, forcing)
            yield state

    def forward(self, state: torch.Tensor, forcing: torch.Tensor, token_mask: torch.Tensor | None = None
                ) -> torch.Tensor:
        out = self.decode(self.encode(state, forcing, token_mask)).to(state.dtype)
        if self.config.residual:
            out = state + out * rearrange(self.tendency_scale.to(out.dtype), "c -> c 1 1")
        return out * self.ocean_mask.to(out.dtype)

    # -- internals ---------------------------------------------------------------------------
    def _decoder_tokens(self, latent: torch.Tensor) -> torch.Tensor:
        x = self.bridge(latent)
        return self.decoder(x + self.pos_decoder.to(x.dtype))

    def parameter_count(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
