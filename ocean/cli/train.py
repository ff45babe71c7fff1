"""``ocean train THING --config CONFIG``: train a model from a typed YAML config.

Trainable things are registered in :data:`TRAINABLES`; each adds its own
sub-subcommand (``ocean train backbone``, ``ocean train head NAME``,
``ocean train enso``). To add one, write a module-level function and
register it here::

    register_trainable(Trainable(
        name="enso", help="train the ENSO model",
        add_arguments=lambda p: None,                   # extra options beyond --config/--set
        run=lambda args, config_path, overrides: ...))  # parse the typed config, call the library

``--config`` is the YAML file, ``--set key.path=value`` (repeatable)
overrides a field; parsing into the typed config happens in the library's
loader, so a notebook gets the same checks.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass
from typing import Callable

__all__ = ["Trainable", "TRAINABLES", "register_trainable", "register"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trainable:
    """One ``ocean train NAME`` sub-subcommand."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


TRAINABLES: dict[str, Trainable] = {}


def register_trainable(t: Trainable) -> Trainable:
    if t.name in TRAINABLES:
        raise ValueError(f"trainable {t.name!r} is registered twice")
    TRAINABLES[t.name] = t
    return t


def _passive_openmp() -> None:
    """Let idle OpenMP threads sleep instead of spin (set before torch loads; a user's setting wins).

    On a shared or busy CPU, spinning threads of a descheduled team slow
    training several-fold (measured 4.4 s vs 1.9 s per demo step on two
    busy cores); on an idle machine the difference is small.
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _train_backbone(args: argparse.Namespace) -> int:
    _passive_openmp()
    from backbone.train import train_backbone
    from backbone.train_config import load_train_config

    config = load_train_config(args.config, args.set or ())
    result = train_backbone(config, provenance={"config": str(args.config), "overrides": list(args.set or ())},
                            resume=args.resume)
    log.info("training finished in %.1f min; last checkpoint %s%s", result.seconds / 60, result.checkpoint,
             f"; model directory {result.model_dir}" if result.model_dir else
             f"; export it with `ocean export {result.checkpoint} --out MODEL_DIR`")
    return 0


def _backbone_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resume", metavar="CKPT", help="resume from a checkpoint of this run")


register_trainable(Trainable("backbone", "train the Fourier masked-autoencoder backbone (phases: "
                             "masked pre-training, forecast, rollout fine-tuning)", _train_backbone,
                             _backbone_arguments))


def _train_enso(args: argparse.Namespace) -> int:
    from downstream.enso.train import train_enso
    from downstream.enso.train_config import load_train_config

    config = load_train_config(args.config, args.set or ())
    result = train_enso(config, provenance={"config": str(args.config), "overrides": list(args.set or ())},
                        resume=args.resume)
    log.info("ENSO training finished in %.1f min (%d steps); checkpoint %s%s", result.seconds / 60, result.steps,
             result.checkpoint, f"; model directory {result.model_dir}" if result.model_dir else "")
    return 0


register_trainable(Trainable("enso", "train the ENSO model (3D-Geoformer): pre-training on the synthetic "
                             "ocean or transfer on reanalysis (configs/train/enso*.yaml)", _train_enso,
                             _backbone_arguments))


def _train_head(args: argparse.Namespace) -> int:
    _passive_openmp()
    from downstream.config import load_head_config
    from downstream.registry import get_head
    from downstream.train import train_head

    spec = get_head(args.name)
    config = load_head_config(args.config, spec.config_type, args.set or ())
    result = train_head(args.name, config, provenance={"config": str(args.config), "overrides": list(args.set or ())},
                        resume=args.resume)
    p = result.parameters
    log.info("head %s trained in %.1f min; trainable share %.2f%% (%s of %s parameters); checkpoint %s%s",
             args.name, result.seconds / 60, 100 * p["trainable_share"], f"{p['trainable_parameters']:,}",
             f"{p['total_parameters']:,}", result.checkpoint,
             f"; model directory {result.model_dir}" if result.model_dir else "")
    return 0


def _head_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="the head to train (e.g. downscaling)")
    p.add_argument("--resume", metavar="CKPT", help="resume from a checkpoint of this run")


register_trainable(Trainable("head", "train a downstream head on a frozen backbone "
                             "(`ocean train head NAME --config configs/train/NAME*.yaml`)", _train_head,
                             _head_arguments))


def register(sub) -> None:
    p = sub.add_parser("train", help="train a model (backbone, heads) from a YAML config",
                       description="Train a model from a typed YAML config (configs/train/*.yaml). "
                                   "Writes resume-only Lightning checkpoints; `ocean export` turns one into "
                                   "a model directory.")
    things = p.add_subparsers(dest="trainable", metavar="THING")
    for t in TRAINABLES.values():
        q = things.add_parser(t.name, help=t.help, description=t.help)
        q.add_argument("--config", required=True, metavar="YAML", help="training config (configs/train/)")
        q.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override a config field, e.g. --set optim.lr=5e-4 (repeatable)")
        t.add_arguments(q)
        q.set_defaults(func=t.run)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
