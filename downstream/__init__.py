"""Downstream heads on a frozen backbone: the shared framework (docs/downstream.md).

A head is a small trainable module that reads the backbone only through its
public methods (``features`` / ``encode``, via :class:`FrozenBackbone`), is
trained by one shared loop and runs inside ``ocean forecast`` after each
lead of the single rollout::

    from downstream import get_head, list_heads, train_head, FrozenBackbone, load_head

    list_heads()                                    # ["downscaling", ...]
    spec = get_head("downscaling")                  # config type, builder, loader, forecast runner
    cfg = load_head_config("configs/train/downscaling_demo.yaml", spec.config_type)
    result = train_head("downscaling", cfg)         # what `ocean train head downscaling` runs
    bb = FrozenBackbone.load("MODEL_DIR")
    head, meta = load_head("HEAD_DIR", bb)          # refused on another backbone (sha256)

Pieces: :mod:`~downstream.registry` (``HeadSpec``, ``register_head``),
:mod:`~downstream.frozen` (``FrozenBackbone``), :mod:`~downstream.peft`
(LoRA, adapters), :mod:`~downstream.head` (``HeadModel``),
:mod:`~downstream.module` (``HeadModule``, one ``_common_step``),
:mod:`~downstream.train` (``train_head``), :mod:`~downstream.checkpoint`
(head model directories), :mod:`~downstream.runtime` (heads inside a
forecast). Heads: :mod:`downstream.downscaling`; :mod:`downstream.enso`
(standalone for now).

Submodules load lazily; ``import downstream`` imports neither torch nor Lightning.
"""

from __future__ import annotations

from ocean.lazy import lazy_attributes

__all__ = ["FrozenBackbone", "HeadSpec", "HeadModel", "get_head", "list_heads", "register_head", "train_head",
           "load_head", "load_head_config", "prepare_heads"]

_LAZY = {
    "FrozenBackbone": "downstream.frozen",
    "HeadSpec": "downstream.registry",
    "HeadModel": "downstream.head",
    "get_head": "downstream.registry",
    "list_heads": "downstream.registry",
    "register_head": "downstream.registry",
    "train_head": "downstream.train",
    "load_head": "downstream.checkpoint",
    "load_head_config": "downstream.config",
    "prepare_heads": "downstream.runtime",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
