"""Parameter-efficient tuning of a frozen backbone: LoRA and bottleneck adapters.

Both are applied PEFT-style, by fnmatch patterns over the qualified names of
``named_modules()`` (e.g. ``decoder.blocks.*.mlp.fc1``), never by hard-coded
attribute paths; the head still reads the backbone through ``features``.
The new parameters start at zero, so the tuned backbone initially computes
exactly the frozen one.

* :class:`LoRALinear` (Hu et al. 2021): ``y = W x + b + (alpha / r) B A x``
  with ``A`` (r x in) random and ``B`` (out x r) zero.
* :class:`Adapter` (Houlsby et al. 2019): ``y = f(x); y + up(gelu(down(y)))``
  with ``up`` zero, wrapped round a whole matched module whose output is
  channel-last.
"""

from __future__ import annotations

import fnmatch
import logging

import torch
import torch.nn.functional as F
from torch import nn

from downstream.config import PeftConfig
from ocean.errors import ConfigError

__all__ = ["LoRALinear", "Adapter", "apply_peft"]

log = logging.getLogger(__name__)


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.lora_a = nn.Parameter(torch.randn(rank, base.in_features) / rank ** 0.5)
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + F.linear(F.linear(x, self.lora_a), self.lora_b) * self.scale


class Adapter(nn.Module):
    """A frozen module followed by a trainable residual bottleneck on its (channel-last) output."""

    def __init__(self, base: nn.Module, width: int, hidden: int):
        super().__init__()
        self.base = base
        self.down = nn.Linear(width, hidden)
        self.up = nn.Linear(hidden, width)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, *args, **kwargs) -> torch.Tensor:
        y = self.base(*args, **kwargs)
        return y + self.up(F.gelu(self.down(y)))


def _width(module: nn.Module) -> int:
    """Channel width of a module's output: the ``out_features`` of its last linear layer."""
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ConfigError(f"an adapter needs a module with a linear layer to know its width, found "
                          f"{type(module).__name__}")
    return linears[-1].out_features


def apply_peft(model: nn.Module, config: PeftConfig) -> list[str]:
    """Wrap the matched modules of ``model`` in place; returns their qualified names.

    Only the new parameters are trainable; everything else keeps
    ``requires_grad=False``. No match is an error naming the patterns and a
    few of the module names there are.
    """
    if not config.enabled:
        return []
    names = [n for n, _ in model.named_modules() if n]
    matched = [n for n in names if any(fnmatch.fnmatchcase(n, pat) for pat in config.targets)]
    if config.method == "lora":
        matched = [n for n in matched if isinstance(model.get_submodule(n), nn.Linear)]
    else:  # the outermost matches only: "decoder.blocks.*" wraps whole blocks, not their parts too
        matched = [n for n in matched if not any(n.startswith(m + ".") for m in matched)]
    if not matched:
        raise ConfigError(f"peft.targets {list(config.targets)} match no {'linear ' if config.method == 'lora' else ''}"
                          f"module of the backbone; module names look like {names[:3]} ... {names[-3:]}")
    for name in matched:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        base = model.get_submodule(name)
        if config.method == "lora":
            wrapped: nn.Module = LoRALinear(base, config.rank, config.alpha)
        else:
            wrapped = Adapter(base, _width(base), config.adapter_width)
        setattr(parent, child, wrapped.to(next(base.parameters()).device))
    log.info("peft %s on %d backbone modules (%s ...)", config.method, len(matched), matched[0])
    return matched
