"""``ocean export CKPT --out MODEL_DIR``: a training checkpoint -> safetensors + metadata.json.

Works for every model kind whose LightningModule stores its metadata in
the checkpoint (``ocean.checkpoint``); the checkpoint is read with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("export", help="turn a training checkpoint into a model directory",
                       description="Convert a Lightning checkpoint written by `ocean train` (resume-only) into "
                                   "a model directory: model.safetensors plus metadata.json (variables, levels, "
                                   "grid, statistics, provenance, versions, sha256).")
    p.add_argument("checkpoint", metavar="CKPT", help="a .ckpt from OUTPUT_DIR/checkpoints/")
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="model directory to write")
    p.add_argument("--force", action="store_true", help="replace an existing model directory")
    p.set_defaults(func=run)


def run(args) -> int:
    from ocean.checkpoint import export_lightning_checkpoint

    meta = export_lightning_checkpoint(args.checkpoint, args.out, overwrite=args.force)
    log.info("exported %s model %r to %s (sha256 %s)", meta.kind, meta.preset, args.out, meta.weights_sha256)
    print(args.out)
    return 0
