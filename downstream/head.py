"""``HeadModel``: what a head's trainable module implements.

The shared training module (:mod:`downstream.module`) and the forecast-time
runners only call these three methods::

    feats = head.select_features(backbone.features(state, forcing))  # the part of the features it uses
    pred = head(feats, batch)                                        # tensors in, tensors out
    loss, metrics = head.loss(pred, batch)                           # scalar + named diagnostics

``select_features`` must be a pure function of the backbone's features (a
crop, a pooling): when the backbone is frozen without PEFT its output is
computed once per sample and cached, which is what makes head training cheap.
Static fields a head needs at forecast time (masks, bathymetry, statistics)
are registered buffers, so they travel with the head's weights.
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

__all__ = ["HeadModel", "parameter_report"]


class HeadModel(nn.Module):
    """Base class of a head's trainable module."""

    def select_features(self, features: torch.Tensor) -> torch.Tensor:
        """The part of the backbone features ``(b, d_dec, h_tok, w_tok)`` this head consumes."""
        return features

    def forward(self, features: torch.Tensor, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, prediction: torch.Tensor, batch: Mapping[str, torch.Tensor]
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError


def parameter_report(head: nn.Module, backbone: nn.Module) -> dict:
    """Trainable and frozen parameter counts and the trainable share of the whole (head + backbone)."""
    trainable = sum(p.numel() for p in head.parameters() if p.requires_grad) \
        + sum(p.numel() for p in backbone.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in head.parameters() if not p.requires_grad) \
        + sum(p.numel() for p in backbone.parameters() if not p.requires_grad)
    total = trainable + frozen
    return {"trainable_parameters": int(trainable), "frozen_parameters": int(frozen),
            "total_parameters": int(total), "trainable_share": trainable / total if total else 0.0}
