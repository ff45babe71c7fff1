"""The LightningModule every head trains with: one ``_common_step`` for train, validation and test.

A batch holds either cached ``features`` (frozen backbone) or the backbone's
inputs ``backbone_state``/``backbone_forcing`` (normalised; with PEFT the
backbone runs here, under autograd), plus the head's own inputs and
targets. The head turns features and batch into a prediction and a loss
(:class:`~downstream.head.HeadModel`); what it logs besides ``loss`` comes
from the head's metrics dict.

Optimisation: AdamW over the trainable parameters only (the head's and any
LoRA / adapter tensors), linear warm-up then cosine decay to
``min_lr_ratio``; with a wall-clock budget the cosine follows the larger of
the step and time fractions (as the backbone's training does).
"""

from __future__ import annotations

import math
import time

import torch

from backbone.module import CommonStepModule
from backbone.train_config import OptimConfig
from downstream.frozen import FrozenBackbone
from downstream.head import HeadModel

__all__ = ["HeadModule"]


class HeadModule(CommonStepModule):
    """Trains a :class:`HeadModel` on a :class:`FrozenBackbone`."""

    def __init__(self, head: HeadModel, backbone: FrozenBackbone, optim: OptimConfig,
                 budget_s: float | None = None):
        super().__init__()
        self.head, self.backbone, self.optim = head, backbone, optim
        self.budget_s = budget_s
        self._t0 = time.perf_counter()

    def features(self, batch: dict) -> torch.Tensor:
        """Cached features, or the backbone's (through its public ``features``) reduced by the head."""
        if "features" in batch:
            return batch["features"]
        return self.head.select_features(self.backbone.features(batch["backbone_state"],
                                                                batch["backbone_forcing"]))

    # -- the one step -------------------------------------------------------------------
    def _common_step(self, batch: dict, stage: str) -> torch.Tensor:
        prediction = self.head(self.features(batch), batch)
        loss, metrics = self.head.loss(prediction, batch)
        on_step = stage == "train"
        n = prediction.shape[0]
        self.log(f"{stage}/loss", loss, prog_bar=True, on_step=on_step, on_epoch=not on_step, batch_size=n)
        for name, value in metrics.items():
            self.log(f"{stage}/{name}", value, on_step=on_step, on_epoch=not on_step, batch_size=n)
        return loss


    def on_train_start(self) -> None:
        self._t0 = time.perf_counter()

    # -- optimisation ----------------------------------------------------------------------
    def configure_optimizers(self):
        o = self.optim
        decay, no_decay = [], []
        for p in self.parameters():
            if p.requires_grad:
                (no_decay if p.ndim < 2 else decay).append(p)
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": o.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=o.lr, betas=tuple(o.betas))
        total = max(1, int(self.trainer.max_steps))
        warm, floor = int(o.warmup_steps), float(o.min_lr_ratio)

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / (warm + 1)
            progress = (step - warm) / max(1, total - warm)
            if self.budget_s:
                progress = max(progress, (time.perf_counter() - self._t0) / self.budget_s)
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
