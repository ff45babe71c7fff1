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
                                   "grid, statistics, provenance, versions, sha256 of the weights and of the "
                                   "metadata). `ocean export --seal MODEL_DIR` adds the metadata's own sha256 to a "
                                   "directory exported before it existed (weights checked, not rewritten).")
    p.add_argument("checkpoint", nargs="?", metavar="CKPT", help="a .ckpt from OUTPUT_DIR/checkpoints/")
    p.add_argument("--out", metavar="MODEL_DIR", help="model directory to write")
    p.add_argument("--force", action="store_true", help="replace an existing model directory")
    p.add_argument("--seal", metavar="MODEL_DIR",
                   help="instead of exporting: record metadata_sha256 in MODEL_DIR/metadata.json (a directory you "
                        "trust; its weights must match weights_sha256)")
    p.set_defaults(func=run, parser=p)


def run(args) -> int:
    from ocean.checkpoint import export_lightning_checkpoint, seal_model_dir

    if args.seal:
        if args.checkpoint or args.out:
            args.parser.error("--seal MODEL_DIR takes no CKPT and no --out")
        meta = seal_model_dir(args.seal)
        print(f"{args.seal}: sealed ({meta.kind} {meta.preset!r}, weights sha256 {meta.weights_sha256[:12]})")
        return 0
    if not args.checkpoint or not args.out:
        args.parser.error("give CKPT and --out MODEL_DIR (or --seal MODEL_DIR)")
    meta = export_lightning_checkpoint(args.checkpoint, args.out, overwrite=args.force)
    log.info("exported %s model %r to %s (sha256 %s)", meta.kind, meta.preset, args.out, meta.weights_sha256)
    print(args.out)
    return 0
