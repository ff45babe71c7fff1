"""Token masking for pre-training and its epoch schedule.

AI-GOMS raises and lowers the mask ratio by epoch: 0, then 0.75, then 0.25,
then 0. A :class:`MaskSchedule` is a list of ``(first_epoch, ratio)`` pairs,
piecewise constant::

    MaskSchedule(((0, 0.0), (2, 0.75), (6, 0.25), (9, 0.0))).ratio(epoch=7)  # 0.25

:func:`random_token_mask` draws which tokens are hidden (True) on the token
grid; the model replaces their embeddings with a learned mask token before
the encoder (see :mod:`backbone.model`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ocean.errors import ConfigError

__all__ = ["MaskSchedule", "random_token_mask", "AIGOMS_SCHEDULE"]


@dataclass(frozen=True)
class MaskSchedule:
    """Mask ratio by epoch: ``steps`` are ``(first_epoch, ratio)``, sorted by epoch."""

    steps: tuple[tuple[int, float], ...] = ((0, 0.0),)

    def __post_init__(self) -> None:
        steps = tuple((int(e), float(r)) for e, r in self.steps)
        if not steps or steps[0][0] != 0:
            raise ConfigError(f"mask schedule must start at epoch 0, found {list(self.steps)}; e.g. "
                              "[[0, 0.0], [2, 0.75], [6, 0.25], [9, 0.0]]")
        if any(b[0] <= a[0] for a, b in zip(steps, steps[1:])):
            raise ConfigError(f"mask schedule epochs must increase, found {[e for e, _ in steps]}")
        if any(not 0.0 <= r < 1.0 for _, r in steps):
            raise ConfigError(f"mask ratios must be in [0, 1), found {[r for _, r in steps]}")
        object.__setattr__(self, "steps", steps)

    def ratio(self, epoch: int) -> float:
        current = 0.0
        for first, r in self.steps:
            if epoch >= first:
                current = r
        return current


#: AI-GOMS's shape of the schedule over ten epochs.
AIGOMS_SCHEDULE = MaskSchedule(((0, 0.0), (2, 0.75), (6, 0.25), (9, 0.0)))


def random_token_mask(batch: int, token_grid: tuple[int, int], ratio: float,
                      generator: torch.Generator | None = None, device=None) -> torch.Tensor | None:
    """Boolean ``(batch, h, w)``: exactly ``round(ratio * h * w)`` hidden tokens per sample.

    Returns ``None`` for a ratio of 0 (nothing hidden).
    """
    h, w = token_grid
    n = h * w
    hidden = int(round(ratio * n))
    if hidden == 0:
        return None
    noise = torch.rand(batch, n, generator=generator, device=device)
    rank = noise.argsort(dim=1).argsort(dim=1)
    return (rank < hidden).reshape(batch, h, w)  # (B, H, W) from (B, H*W), row-major
