"""Channel-wise relative L2 over ocean points with area weights.

For every channel ``c`` (AI-GOMS's loss, with cell-area weights ``a``)::

    loss_c = sqrt(sum_ocean a (pred - target)^2) / sqrt(sum_ocean a (target - reference)^2)

and the loss is the mean over channels (and over the batch). ``reference``
is 0 for the plain relative L2 of the state; giving the previous state
makes it the relative L2 of the *tendency*, so persistence scores exactly
1.0 in every channel and slow deep channels weigh as much as fast surface
ones (``loss.space = "tendency"`` in the training config).
"""

from __future__ import annotations

import torch
from einops import reduce

__all__ = ["relative_l2", "area_weights"]

_EPS = 1e-12


def area_weights(cell_area: torch.Tensor, ocean_mask: torch.Tensor) -> torch.Tensor:
    """Per-channel weights ``(c, lat, lon)``: cell area on ocean points, 0 on land, mean 1 over ocean."""
    w = cell_area[None] * ocean_mask.to(cell_area.dtype)
    total = reduce(w, "c y x -> c 1 1", "sum")
    count = reduce(ocean_mask.to(cell_area.dtype), "c y x -> c 1 1", "sum")
    return w * count / total.clamp_min(_EPS)


def relative_l2(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor,
                reference: torch.Tensor | None = None, per_channel: bool = False) -> torch.Tensor:
    """Channel-wise relative L2 of ``pred`` (b, c, lat, lon) against ``target``.

    ``weights`` (c, lat, lon) are 0 on land (see :func:`area_weights`).
    Returns a scalar (mean over batch and channels), or ``(c,)`` when
    ``per_channel``. Channels with no ocean points contribute 0.
    """
    w = weights.to(pred.dtype)
    err = reduce(w * (pred - target) ** 2, "b c y x -> b c", "sum")
    base = target if reference is None else target - reference
    norm = reduce(w * base.detach() ** 2, "b c y x -> b c", "sum")
    valid = reduce(w, "c y x -> c", "sum") > 0
    ratio = torch.sqrt(err + _EPS) / torch.sqrt(norm + _EPS)
    ratio = ratio * valid.to(ratio.dtype)
    per = reduce(ratio, "b c -> c", "mean")
    if per_channel:
        return per
    return per.sum() / valid.sum().clamp_min(1)
