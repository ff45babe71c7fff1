"""``FrozenBackbone``: a backbone model directory as heads see it.

Heads never touch the backbone's layers: they get its decoder features on
the token grid through :meth:`FrozenBackbone.features` (which calls
:meth:`backbone.model.FourierMAE.features`), its latent tokens through
:meth:`encode`, and its normalisation through :meth:`normalise_state` /
:meth:`normalise_forcing`. Every backbone parameter has
``requires_grad=False``; with parameter-efficient tuning
(:mod:`downstream.peft`) only the added LoRA / adapter parameters train::

    bb = FrozenBackbone.load("outputs/demo/model")      # sha256-checked model directory
    feats = bb.features(bb.normalise_state(x), bb.normalise_forcing(f))   # (b, d_dec, h_tok, w_tok)
    bb.sha256                                           # what a head records and checks
    bb.token_layout                                     # where each token sits on the data grid
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from backbone.forecaster import Forecaster
from backbone.layers import pad_to_patches
from downstream.config import PeftConfig
from downstream.peft import apply_peft
from ocean.errors import DataError
from ocean.grid import Grid

__all__ = ["FrozenBackbone", "TokenLayout", "PEFT_PREFIX"]

log = logging.getLogger(__name__)

#: Prefix of the backbone's tuned (LoRA / adapter) tensors inside a head's weights.
PEFT_PREFIX = "peft."


@dataclass(frozen=True)
class TokenLayout:
    """Where the token grid lies on the data grid.

    Token ``(i, j)`` covers data rows ``i * patch[0] - pad_south ...`` and
    columns ``j * patch[1] - pad_west ...`` (the backbone pads the grid up to
    whole patches, circularly in longitude when it is periodic).
    """

    grid: Grid
    token_grid: tuple[int, int]
    patch: tuple[int, int]
    pad_south: int
    pad_west: int
    periodic: bool

    def token_coordinate(self, row, col):
        """Fractional token coordinates of data-grid positions (rows, columns; may be fractional)."""
        (p, q) = self.patch
        return ((row + self.pad_south - (p - 1) / 2) / p, (col + self.pad_west - (q - 1) / 2) / q)


class FrozenBackbone(nn.Module):
    """A frozen :class:`~backbone.forecaster.Forecaster`; see the module docstring."""

    def __init__(self, forecaster: Forecaster, source: "str | os.PathLike | None" = None,
                 peft: PeftConfig | None = None):
        super().__init__()
        self.forecaster = forecaster
        self.source = str(source) if source is not None else None
        for p in forecaster.parameters():
            p.requires_grad_(False)
        self.peft = peft or PeftConfig()
        self.peft_modules = apply_peft(forecaster.model, self.peft)
        forecaster.eval()

    @classmethod
    def load(cls, path: "str | os.PathLike", peft: PeftConfig | None = None, device: str = "cpu"
             ) -> "FrozenBackbone":
        """Load (and hash-check) a backbone model directory and freeze it."""
        return cls(Forecaster.load(path, device=device), source=Path(path), peft=peft)

    # -- identity and layout ------------------------------------------------------------
    @property
    def metadata(self):
        return self.forecaster.metadata

    @property
    def sha256(self) -> str:
        """sha256 of the backbone's ``model.safetensors`` (verified on load)."""
        return self.metadata.weights_sha256

    @property
    def grid(self) -> Grid:
        return self.metadata.grid

    @property
    def channels(self) -> tuple[str, ...]:
        return self.metadata.channels

    @property
    def feature_width(self) -> int:
        """Channels of :meth:`features` (the decoder width)."""
        return self.forecaster.model.config.decoder.width

    @property
    def token_layout(self) -> TokenLayout:
        cfg = self.forecaster.model.config
        pads = pad_to_patches(torch.zeros(1, 1, *cfg.io.grid_shape), cfg.patch, cfg.io.periodic_lon)[1]
        return TokenLayout(self.grid, tuple(cfg.token_grid), tuple(cfg.patch), pads[0], pads[2],
                           cfg.io.periodic_lon)

    # -- the public methods heads use --------------------------------------------------
    def normalise_state(self, state: torch.Tensor) -> torch.Tensor:
        """Physical ``(b, c, lat, lon)`` -> normalised, land 0 (the backbone's statistics)."""
        return self.forecaster.normalise_state(state)

    def normalise_forcing(self, forcing: torch.Tensor) -> torch.Tensor:
        return self.forecaster.normalise_forcing(forcing)

    def features(self, state: torch.Tensor, forcing: torch.Tensor) -> torch.Tensor:
        """Decoder features ``(b, d_dec, h_tok, w_tok)`` of the step ``state`` -> next day (normalised inputs).

        Without PEFT no graph is built (the backbone cannot receive gradients).
        """
        if self.peft.enabled:
            return self.forecaster.model.features(state, forcing)
        with torch.no_grad():
            return self.forecaster.model.features(state, forcing)

    def encode(self, state: torch.Tensor, forcing: torch.Tensor) -> torch.Tensor:
        """Latent tokens ``(b, h_tok, w_tok, d_enc)``."""
        if self.peft.enabled:
            return self.forecaster.model.encode(state, forcing)
        with torch.no_grad():
            return self.forecaster.model.encode(state, forcing)

    # -- bookkeeping ----------------------------------------------------------------------
    def train(self, mode: bool = True) -> "FrozenBackbone":
        """The backbone always stays in eval mode (a head's ``train()`` does not switch it)."""
        super().train(False)
        return self

    def frozen_parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters() if not p.requires_grad)

    def peft_state_dict(self) -> dict[str, torch.Tensor]:
        """The tuned (trainable) backbone tensors, keyed ``peft.<qualified name>``."""
        return {PEFT_PREFIX + n: p.detach() for n, p in self.forecaster.model.named_parameters() if p.requires_grad}

    def load_peft_state_dict(self, tensors: dict[str, torch.Tensor]) -> None:
        state = {k[len(PEFT_PREFIX):]: v for k, v in tensors.items() if k.startswith(PEFT_PREFIX)}
        want = {n for n, p in self.forecaster.model.named_parameters() if p.requires_grad}
        if set(state) != want:
            raise DataError("the head's tuned backbone tensors do not fit this backbone",
                            found=sorted(set(state) - want)[:4], expected=sorted(want - set(state))[:4])
        self.forecaster.model.load_state_dict(state, strict=False)
