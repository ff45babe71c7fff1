"""Head model directories: the project's format (:mod:`ocean.checkpoint`) plus the backbone's hash.

A head directory is an ordinary model directory (``model.safetensors`` +
``metadata.json``) with

* ``kind = "head/<name>"``;
* ``provenance["backbone_sha256"]``: the ``weights_sha256`` of the backbone
  it was trained on (plus ``backbone_preset`` and ``backbone_dir`` for
  people);
* ``extra["parameters"]``: trainable / frozen counts and the trainable share;
* the head's buffers (static fields, statistics) and, with PEFT, the tuned
  backbone tensors under ``peft.``.

:func:`load_head` refuses a head on any other backbone, naming both hashes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import torch

from backbone.config import from_plain
from downstream.config import PeftConfig
from downstream.frozen import PEFT_PREFIX, FrozenBackbone
from downstream.registry import HeadSpec, get_head
from ocean.checkpoint import ModelMetadata, load_model_dir, load_weights_into, read_metadata, save_model_dir
from ocean.errors import DataError, ModelMismatchError

__all__ = ["save_head", "load_head", "check_backbone", "head_name", "head_peft"]

log = logging.getLogger(__name__)


def save_head(path: "str | os.PathLike", spec: HeadSpec, head: torch.nn.Module, backbone: FrozenBackbone,
              metadata: dict, parameters: dict, preset: str = "") -> ModelMetadata:
    """Write ``head`` (and any tuned backbone tensors) as a model directory of kind ``head/<name>``."""
    fields = dict(metadata)
    provenance = {**fields.pop("provenance", {}), "backbone_sha256": backbone.sha256,
                  "backbone_preset": backbone.metadata.preset, "backbone_dir": backbone.source}
    extra = {**fields.pop("extra", {}), "parameters": parameters, "peft": dataclasses.asdict(backbone.peft)}
    meta = ModelMetadata(kind=spec.kind, preset=preset or spec.name, provenance=provenance, extra=extra, **fields)
    state = {**head.state_dict(), **backbone.peft_state_dict()}
    return save_model_dir(path, state, meta)


def head_name(meta: ModelMetadata, path=None) -> str:
    if not meta.kind.startswith("head/"):
        raise DataError("not a head model directory", file=path, found=f"kind {meta.kind!r}",
                        expected="kind 'head/<name>'", hint="Give the directory written by `ocean train head`")
    return meta.kind.split("/", 1)[1]


def head_peft(meta: ModelMetadata) -> PeftConfig:
    """The PEFT configuration a head was trained with (``none`` for a purely frozen backbone)."""
    return from_plain(PeftConfig, meta.extra.get("peft") or {})


def check_backbone(meta: ModelMetadata, backbone: FrozenBackbone, path=None) -> None:
    """Refuse a head trained on another backbone (by the sha256 of the backbone's weights)."""
    want = str(meta.provenance.get("backbone_sha256", ""))
    if want != backbone.sha256:
        raise ModelMismatchError(
            f"{path}: head {meta.kind!r} was trained on backbone sha256 {want[:16] or '(none recorded)'}..., "
            f"this backbone is {backbone.sha256[:16]}... ({backbone.source or backbone.metadata.preset})",
            hint="Use the backbone the head was trained on, or train the head on this one "
                 f"(`ocean train head {meta.kind.split('/', 1)[-1]} --config ... --set backbone=MODEL_DIR`)")


def load_head(path: "str | os.PathLike", backbone: FrozenBackbone, name: str | None = None
              ) -> tuple[torch.nn.Module, ModelMetadata]:
    """Rebuild a head from its directory, after checking its kind and backbone hash.

    With PEFT the tuned tensors are loaded into ``backbone`` (which must
    have been built with the same :class:`~downstream.config.PeftConfig`).
    """
    path = Path(path)
    meta = read_metadata(path)
    found = head_name(meta, path)
    if name is not None and found != name:
        raise DataError("the head directory holds another head", file=path, found=found, expected=name)
    check_backbone(meta, backbone, path)
    spec = get_head(found)
    state, meta = load_model_dir(path)
    head = spec.rebuild(meta, backbone)
    own = {k: v for k, v in state.items() if not k.startswith(PEFT_PREFIX)}
    missing, unexpected = load_weights_into(head, own, path, f"{meta.kind} ({meta.preset})", strict=False)
    if missing or unexpected:
        raise DataError("the head's weights do not fit its architecture", file=path,
                        found=f"missing {missing[:4]}, unexpected {unexpected[:4]}",
                        expected=f"the tensors of {meta.kind} ({meta.preset})")
    if any(k.startswith(PEFT_PREFIX) for k in state):
        if head_peft(meta) != backbone.peft:
            raise DataError("the head tunes its backbone (PEFT) but the backbone was not prepared for it",
                            file=path, found=backbone.peft, expected=head_peft(meta),
                            hint="Load the backbone with FrozenBackbone(..., peft=head_peft(metadata))")
        backbone.load_peft_state_dict(state)
    log.info("loaded %s from %s (sha256 %s) on backbone %s", meta.kind, path, meta.weights_sha256[:12],
             backbone.sha256[:12])
    return head.eval(), meta
