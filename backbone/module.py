"""The LightningModule: one ``_common_step`` for train, validation and test.

The learning rate warms up linearly, then follows a cosine to
``min_lr_ratio``; when the phase has a wall-clock budget (``max_minutes``)
the cosine's progress is the larger of the step and the time fractions, so a
run on a busy machine still ends at the low learning rate (at the price of
step-exact reproducibility).

A batch is a window from :mod:`backbone.data`: ``state (b, k + 1, c, lat,
lon)`` and ``forcing (b, k, f, lat, lon)``, normalised. The model is rolled
out ``k`` steps from ``state[:, 0]``; the loss is the mean over steps of the
channel-wise relative L2 (:mod:`backbone.loss`). In training, the first
step's input is token-masked with the phase's epoch schedule.

Checkpoints carry the model metadata (``ocean.checkpoint``) as a plain dict
so that ``ocean export`` can turn them into a model directory with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import logging
import math
import time

import lightning as L
import torch

from backbone.config import ModelConfig
from backbone.loss import area_weights, relative_l2
from backbone.masking import MaskSchedule, random_token_mask
from backbone.model import FourierMAE
from ocean.checkpoint import LIGHTNING_METADATA_KEY

__all__ = ["BackboneModule", "PHASE_KEY"]

#: Where checkpoints record the phase they were written in (and whether it had finished).
PHASE_KEY = "ocean_phase"

log = logging.getLogger(__name__)


class CommonStepModule(L.LightningModule):
    """A LightningModule whose train, validation and test steps are one ``_common_step(batch, stage)``."""

    def _common_step(self, batch, stage: str):
        raise NotImplementedError

    def training_step(self, batch, batch_idx):
        return self._common_step(batch, "train")

    def validation_step(self, batch, batch_idx):
        return self._common_step(batch, "val")

    def test_step(self, batch, batch_idx):
        return self._common_step(batch, "test")


class BackboneModule(CommonStepModule):
    """Trains a :class:`FourierMAE`; see the module docstring."""

    def __init__(self, model_config: dict, metadata: dict, cell_area: torch.Tensor, *,
                 loss_space: str = "tendency", lr: float = 1e-3, weight_decay: float = 0.05,
                 betas: tuple[float, float] = (0.9, 0.95), warmup_steps: int = 50, min_lr_ratio: float = 0.05,
                 mask_schedule: tuple = ((0, 0.0),), seed: int = 0):
        super().__init__()
        self.save_hyperparameters(ignore=["cell_area", "metadata"])
        self.model = FourierMAE(ModelConfig.from_dict(model_config))
        self.metadata = metadata
        self.register_buffer("cell_area", torch.as_tensor(cell_area, dtype=torch.float32), persistent=False)
        self.schedule = MaskSchedule(tuple(tuple(s) for s in mask_schedule))
        self._generator: torch.Generator | None = None  # seeded per rank in on_fit_start
        self.phase, self.phase_done = "", False
        self.budget_s: float | None = None  # wall-clock budget of the phase (the LR schedule follows it)
        self._t0 = time.perf_counter()

    def configure_phase(self, name: str, *, lr: float, warmup_steps: int, mask_schedule,
                        budget_s: float | None = None) -> None:
        """Switch to a new phase (its learning rate, warm-up, mask schedule and wall-clock budget)."""
        self.phase, self.phase_done = name, False
        self.budget_s = budget_s
        self.hparams.lr, self.hparams.warmup_steps = lr, warmup_steps
        self.hparams.mask_schedule = tuple(tuple(s) for s in mask_schedule)
        self.schedule = MaskSchedule(self.hparams.mask_schedule)

    def on_train_start(self) -> None:
        self._t0 = time.perf_counter()

    def on_fit_start(self) -> None:
        # a different mask stream on every rank, reproducible for a given seed and world size
        self._generator = torch.Generator().manual_seed(int(self.hparams.seed) * 1000 + self.global_rank)

    def __getstate__(self):  # ddp_spawn pickles the module; generators do not pickle
        state = super().__getstate__()
        state["_generator"] = None
        return state

    # -- the one step ----------------------------------------------------------------------
    def _common_step(self, batch: dict, stage: str) -> torch.Tensor:
        state, forcing = batch["state"], batch["forcing"]  # (B, K+1, C, H, W), (B, K, F, H, W)
        steps = forcing.shape[1]
        weights = area_weights(self.cell_area, self.model.ocean_mask)
        ratio = self.schedule.ratio(self.current_epoch) if stage == "train" else 0.0
        if self._generator is None:
            self._generator = torch.Generator().manual_seed(int(self.hparams.seed))
        token_mask = random_token_mask(state.shape[0], self.model.config.token_grid, ratio, self._generator)
        x, losses = state[:, 0], []
        for k in range(steps):
            x = self.model(x, forcing[:, k], token_mask.to(x.device) if (k == 0 and token_mask is not None)
                           else None)
            ref = state[:, k] if self.hparams.loss_space == "tendency" else None
            losses.append(relative_l2(x.float(), state[:, k + 1].float(), weights, reference=ref))
        loss = torch.stack(losses).mean()
        on_step = stage == "train"
        self.log(f"{stage}/loss", loss, prog_bar=True, on_step=on_step, on_epoch=not on_step,
                 batch_size=state.shape[0], sync_dist=stage != "train")
        if stage != "train":
            for k, value in enumerate(losses):
                self.log(f"{stage}/loss_step{k + 1}", value, on_epoch=True, batch_size=state.shape[0],
                         sync_dist=True)
        else:
            self.log("train/mask_ratio", ratio, on_step=True, on_epoch=False)
        return loss


    # -- optimisation ------------------------------------------------------------------------
    def configure_optimizers(self):
        hp = self.hparams
        decay, no_decay = [], []
        for name, p in self.model.named_parameters():
            (no_decay if p.ndim < 2 or name.endswith("mask_token") else decay).append(p)
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=hp.lr, betas=tuple(hp.betas))
        total = max(1, int(self.trainer.max_steps if self.trainer.max_steps > 0
                           else self.trainer.estimated_stepping_batches))
        warm, floor = int(hp.warmup_steps), float(hp.min_lr_ratio)

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / (warm + 1)
            progress = (step - warm) / max(1, total - warm)
            if self.budget_s:  # a time-limited phase decays on schedule even when the machine is slow
                progress = max(progress, (time.perf_counter() - self._t0) / self.budget_s)
            progress = min(1.0, progress)
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    # -- checkpoints ---------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint[LIGHTNING_METADATA_KEY] = self.metadata
        checkpoint[PHASE_KEY] = {"name": self.phase, "done": self.phase_done}
