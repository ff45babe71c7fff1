"""``train_head(name, config)``: the training run every head shares.

What ``ocean train head NAME --config ...`` calls (and a notebook can):

1. load the backbone model directory and freeze it (:class:`FrozenBackbone`,
   with LoRA / adapters when ``peft`` asks for them);
2. let the head's builder (:class:`~downstream.registry.HeadSpec`) make its
   module and data (features cached when the backbone is fully frozen);
3. log and record the trainable share of parameters;
4. one ``Trainer.fit`` with :class:`~downstream.module.HeadModule` (resume-only
   Lightning checkpoint under ``OUTPUT_DIR/checkpoints/``), a validation pass;
5. with ``export`` set, write the head's model directory (kind
   ``head/<name>``, the backbone's sha256 in its provenance).
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch

from backbone.train import ProgressLog, precision_for
from downstream.checkpoint import save_head
from downstream.config import HeadTrainConfig
from downstream.frozen import FrozenBackbone
from downstream.head import parameter_report
from downstream.module import HeadModule
from downstream.registry import get_head
from ocean.errors import ConfigError

__all__ = ["train_head", "HeadTrainResult"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadTrainResult:
    checkpoint: Path
    model_dir: Path | None
    metrics: dict
    parameters: dict
    seconds: float


def _trainer(config: HeadTrainConfig, root: Path) -> L.Trainer:
    from lightning.pytorch.loggers import CSVLogger

    tc, sc = config.trainer, config.schedule
    precision = precision_for(tc)
    val = ({"val_check_interval": sc.val_every_steps, "check_val_every_n_epoch": None,
            "limit_val_batches": sc.limit_val_batches} if sc.val_every_steps else {"limit_val_batches": 0})
    return L.Trainer(accelerator=tc.accelerator, devices=tc.devices, num_nodes=tc.num_nodes, strategy=tc.strategy,
                     precision=precision, max_steps=sc.max_steps, max_epochs=-1,
                     max_time={"minutes": sc.max_minutes} if sc.max_minutes else None,
                     gradient_clip_val=config.optim.grad_clip, logger=CSVLogger(str(root / "logs"), name="head"),
                     enable_checkpointing=False, enable_progress_bar=tc.progress_bar, enable_model_summary=False,
                     num_sanity_val_steps=0, log_every_n_steps=tc.log_every_steps, deterministic=tc.deterministic,
                     default_root_dir=str(root), callbacks=[ProgressLog("head", tc.log_every_steps, logger=log)], **val)


def train_head(name: str, config: HeadTrainConfig, provenance: dict | None = None,
               resume: "str | Path | None" = None) -> HeadTrainResult:
    """Train head ``name`` with ``config`` (its ``HeadSpec.config_type``); see the module docstring."""
    t0 = time.perf_counter()
    spec = get_head(name)
    if not isinstance(config, spec.config_type):
        raise ConfigError(f"head {name!r} needs a {spec.config_type.__name__}, found {type(config).__name__}")
    tc = config.trainer
    if tc.threads:
        torch.set_num_threads(tc.threads)
    L.seed_everything(tc.seed, workers=True, verbose=False)
    root = Path(config.output_dir)
    backbone = FrozenBackbone.load(config.backbone, peft=config.peft)
    build = spec.build(config, backbone)
    head = build.model
    params = parameter_report(head, backbone)
    log.info("head %s on backbone %s (sha256 %s): %s trainable of %s parameters = %.2f%% (head %s, peft %s)",
             name, backbone.metadata.preset, backbone.sha256[:12], f"{params['trainable_parameters']:,}",
             f"{params['total_parameters']:,}", 100 * params["trainable_share"],
             f"{sum(p.numel() for p in head.parameters()):,}", config.peft.method)
    budget = 60 * config.schedule.max_minutes if config.schedule.max_minutes else None
    module = HeadModule(head, backbone, config.optim, budget_s=budget)
    trainer = _trainer(config, root)
    with warnings.catch_warnings():  # the frozen backbone stays in eval mode on purpose
        warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode.*")
        trainer.fit(module, datamodule=build.datamodule, ckpt_path=str(resume) if resume else None,
                    weights_only=True)
    trainer.limit_val_batches = config.schedule.limit_val_batches
    trainer.validate(module, datamodule=build.datamodule, verbose=False)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    ckpt = root / "checkpoints" / "last.ckpt"
    trainer.save_checkpoint(ckpt)  # resume-only
    seconds = time.perf_counter() - t0
    log.info("head %s trained in %.1f min (%d steps): %s", name, seconds / 60, trainer.global_step,
             ", ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items()) if k.startswith("val/")))
    model_dir = None
    if config.export and trainer.is_global_zero:
        prov = {**build.metadata.get("provenance", {}), **(provenance or {}), "steps": int(trainer.global_step),
                "train_seconds": round(seconds, 1), "val_metrics": metrics}
        save_head(config.export, spec, head, backbone, {**build.metadata, "provenance": prov}, params,
                  preset=config.name)
        model_dir = Path(config.export)
    return HeadTrainResult(ckpt, model_dir, metrics, params, seconds)
