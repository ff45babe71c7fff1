"""``train_backbone(config)``: the phases of a training run, one ``Trainer.fit`` each.

What ``ocean train backbone --config ...`` calls, and what a notebook can
call too. Every phase continues from the previous one's weights (a fresh
optimiser and learning-rate schedule per phase). At the end of each phase a
Lightning checkpoint (resume-only) is written under
``OUTPUT_DIR/checkpoints/``; with ``export`` set, the final weights are
written as a model directory (``ocean.checkpoint``).

Scale-out is the Trainer's: ``trainer.strategy: ddp`` (one process per
device, ``torchrun``/SLURM aware), ``ddp_spawn`` (tests, CPU), ``fsdp``
(``aigoms`` when it does not fit: each AFNO block is an FSDP unit with
activation checkpointing); ``precision: auto`` is bf16-mixed autocast on
GPU and fp32 on CPU.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import lightning as L
import torch

from backbone.config import ModelConfig, resolve_model
from backbone.data import CubeDataModule, CubeInfo, describe_cube
from backbone.forecaster import build_metadata, static_inputs
from backbone.layers import AFNOBlock
from backbone.module import PHASE_KEY, BackboneModule
from backbone.train_config import PhaseConfig, TrainConfig, TrainerConfig
from ocean.checkpoint import ModelMetadata, export_lightning_checkpoint, load_lightning_checkpoint
from ocean.errors import ConfigError, ModelMismatchError

__all__ = ["train_backbone", "TrainResult", "model_config_for", "make_module", "ProgressLog", "precision_for"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    checkpoint: Path
    model_dir: Path | None
    metrics: dict
    seconds: float


def model_config_for(config: TrainConfig, info: CubeInfo) -> ModelConfig:
    """The preset (with overrides), checked against the cube; mismatches name both sides."""
    mc = resolve_model(config.model, **config.model_overrides)
    io = mc.io
    found = {"grid": info.grid.shape, "state channels": len(info.channels),
             "forcing channels": len(info.forcing_variables),
             "levels (static mask channels available)": len(info.level_mask)}
    problems = []
    if tuple(io.grid_shape) != info.grid.shape:
        problems.append(f"preset has grid {tuple(io.grid_shape)}, data has {info.grid.shape} "
                        f"({info.grid.describe()})")
    if io.state_channels != len(info.channels):
        problems.append(f"preset has {io.state_channels} state channels, data has {len(info.channels)} "
                        f"({info.channels[0]} .. {info.channels[-1]})")
    if io.forcing_channels != len(info.forcing_variables):
        problems.append(f"preset has {io.forcing_channels} forcing channels, data has "
                        f"{list(info.forcing_variables)}")
    if io.static_channels > len(info.level_mask):
        problems.append(f"preset has {io.static_channels} static mask channels, data has "
                        f"{len(info.level_mask)} levels")
    if io.periodic_lon != info.grid.is_periodic:
        problems.append(f"preset has periodic_lon={io.periodic_lon}, data grid periodic={info.grid.is_periodic}")
    if problems:
        raise ModelMismatchError(f"backbone preset {config.model!r} does not fit the cube {info.path}: "
                                 + "; ".join(problems), found=found,
                                 hint="Choose the preset made for this grid, or override it with "
                                      "model_overrides (e.g. io: {grid_shape: [...]}) in the config")
    return mc


def make_module(config: TrainConfig, info: CubeInfo, provenance: dict | None = None) -> BackboneModule:
    """A :class:`BackboneModule` whose model knows the cube's mask, static inputs and tendency scale."""
    mc = model_config_for(config, info)
    prov = {**info.provenance, "train_period": list(config.data.train), "val_period": list(config.data.val),
            "phases": [p.name for p in config.phases], **(provenance or {})}
    meta: ModelMetadata = build_metadata(mc, variables=info.variables, levels=info.levels, grid=info.grid,
                                         statistics=info.statistics, forcing_variables=info.forcing_variables,
                                         forcing_statistics=info.forcing_statistics, provenance=prov)
    area = info.grid.cell_area()
    first = config.phases[0]
    module = BackboneModule(mc.to_dict(), meta.to_dict(), torch.as_tensor(area / area.mean()),
                            loss_space=config.loss.space, lr=first.lr or config.optim.lr,
                            weight_decay=config.optim.weight_decay, betas=config.optim.betas,
                            warmup_steps=config.optim.warmup_steps, min_lr_ratio=config.optim.min_lr_ratio,
                            mask_schedule=first.mask_schedule, seed=config.trainer.seed)
    mask = torch.as_tensor(info.channel_mask)
    static = torch.as_tensor(static_inputs(info.level_mask, mc.io.static_channels))
    module.model.set_geography(mask, static)
    scale = info.statistics.tendency_std / info.statistics.std
    module.model.set_tendency_scale(torch.as_tensor(scale, dtype=torch.float32))
    return module


class ProgressLog(L.Callback):
    """Log training progress with ``logging`` every ``every`` steps (rank 0; no print, no bars in logs).

    ``describe(trainer, module)`` adds run-specific text after the loss and
    learning rate (the backbone's epoch and mask ratio, the ENSO model's
    loss parts and teacher forcing).
    """

    def __init__(self, label: str, every: int, describe=None, logger: logging.Logger | None = None):
        self.label, self.every, self.describe, self.logger = label, max(1, every), describe, logger or log
        self.t0, self.step0 = time.perf_counter(), 0

    def on_train_start(self, trainer, pl_module):
        self.t0, self.step0 = time.perf_counter(), trainer.global_step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        step = trainer.global_step
        if not trainer.is_global_zero or (step % self.every and step != trainer.max_steps):
            return
        loss = float(outputs["loss"]) if isinstance(outputs, dict) else float(outputs)
        lr = trainer.optimizers[0].param_groups[0]["lr"]
        elapsed, done = time.perf_counter() - self.t0, max(1, step - self.step0)
        extra = self.describe(trainer, pl_module) if self.describe else ""
        self.logger.info("%s: step %d/%d loss %.4f lr %.2e%s (%.2f steps/s, %.1f s/step)", self.label, step,
                 trainer.max_steps, loss, lr, extra, done / max(1e-9, elapsed), elapsed / done)


def _backbone_progress(trainer, module) -> str:
    return f" epoch {trainer.current_epoch} mask {module.schedule.ratio(trainer.current_epoch):.2f}"


def precision_for(tc: TrainerConfig) -> str:
    """The Trainer precision of ``tc``: ``auto`` is bf16 autocast on a GPU, float32 on CPU."""
    if tc.precision != "auto":
        return tc.precision
    gpu = torch.cuda.is_available() and tc.accelerator in ("auto", "gpu", "cuda")
    return "bf16-mixed" if gpu else "32-true"


def _strategy(tc: TrainerConfig):
    if tc.strategy == "fsdp":
        from lightning.pytorch.strategies import FSDPStrategy

        return FSDPStrategy(auto_wrap_policy={AFNOBlock}, activation_checkpointing_policy={AFNOBlock},
                            sharding_strategy="FULL_SHARD")
    return tc.strategy


def _trainer(config: TrainConfig, phase: PhaseConfig, root: Path, validate_inline: bool,
             extra_callbacks: Sequence[L.Callback] = ()) -> L.Trainer:
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    tc = config.trainer
    callbacks: list = [ProgressLog(phase.name, tc.log_every_steps, _backbone_progress), *extra_callbacks]
    if tc.checkpoint_every_steps:
        callbacks.append(ModelCheckpoint(dirpath=root / "checkpoints", filename=f"{phase.name}-{{step}}",
                                         every_n_train_steps=tc.checkpoint_every_steps, save_top_k=1,
                                         monitor="step", mode="max"))
    kw = {}
    if validate_inline:
        kw = {"val_check_interval": tc.val_every_steps, "check_val_every_n_epoch": None,
              "limit_val_batches": tc.limit_val_batches}
    else:
        kw = {"limit_val_batches": 0}
    return L.Trainer(
        accelerator=tc.accelerator, devices=tc.devices, num_nodes=tc.num_nodes, strategy=_strategy(tc),
        precision=precision_for(tc), max_steps=phase.max_steps, max_epochs=-1,
        max_time={"minutes": phase.max_minutes} if phase.max_minutes else None,
        limit_train_batches=phase.steps_per_epoch or 1.0, gradient_clip_val=config.optim.grad_clip,
        logger=CSVLogger(str(root / "logs"), name=phase.name), enable_checkpointing=bool(tc.checkpoint_every_steps),
        enable_progress_bar=tc.progress_bar, enable_model_summary=False, num_sanity_val_steps=0,
        log_every_n_steps=tc.log_every_steps, deterministic=tc.deterministic, default_root_dir=str(root),
        callbacks=callbacks, **kw)


def _resume_point(config: TrainConfig, resume: "str | Path | None", module: BackboneModule
                  ) -> tuple[int, str | None]:
    """Index of the phase to start with and the checkpoint to resume it from (None: fresh start)."""
    if resume is None:
        return 0, None
    data = load_lightning_checkpoint(resume)
    phase = data.get(PHASE_KEY) or {}
    names = [p.name for p in config.phases]
    if phase.get("name") not in names:
        raise ConfigError(f"checkpoint {resume} was written in phase {phase.get('name')!r}, which this "
                          f"config does not have (phases: {names})")
    i = names.index(phase["name"])
    if phase.get("done"):  # the phase finished: carry its weights into the next one
        state = {k[len("model."):]: v for k, v in data["state_dict"].items() if k.startswith("model.")}
        module.model.load_state_dict(state)
        log.info("resuming after finished phase %s from %s", phase["name"], resume)
        return i + 1, None
    log.info("resuming phase %s at step %s from %s", phase["name"], data.get("global_step"), resume)
    return i, str(resume)


def train_backbone(config: TrainConfig, provenance: dict | None = None,
                   resume: "str | Path | None" = None, callbacks: Sequence[L.Callback] = ()) -> TrainResult:
    """Run every phase of ``config``; returns the last checkpoint and the exported model dir.

    ``resume`` is a checkpoint of this run (``OUTPUT_DIR/checkpoints/*.ckpt``):
    an unfinished phase continues where it stopped, a finished one hands its
    weights to the next phase.
    """
    t0 = time.perf_counter()
    tc = config.trainer
    if tc.threads:
        torch.set_num_threads(tc.threads)
    L.seed_everything(tc.seed, workers=True, verbose=False)
    root = Path(config.output_dir)
    info = describe_cube(config.data.cube, config.data.variables, config.data.forcing_variables)
    module = make_module(config, info, provenance)
    log.info("backbone %s: %s parameters, %s tokens, cube %s (%d days)", config.model,
             f"{module.model.parameter_count():,}", "x".join(map(str, module.model.config.token_grid)),
             info.path, len(info.times))
    start, ckpt_path = _resume_point(config, resume, module)
    metrics, ckpt, trainer = {}, None, None
    for phase in config.phases[start:]:
        module.configure_phase(phase.name, lr=phase.lr or config.optim.lr,
                               warmup_steps=config.optim.warmup_steps if phase.warmup_steps is None
                               else phase.warmup_steps, mask_schedule=phase.mask_schedule,
                               budget_s=60 * phase.max_minutes if phase.max_minutes else None)
        data_cfg = replace(config.data, batch_size=phase.batch_size or config.data.batch_size)
        dm = CubeDataModule(data_cfg, steps=phase.rollout_steps, info=info)
        dm.preload(("train", "val") if tc.limit_val_batches else ("train",))  # outside the phase's time budget
        inline = tc.val_every_steps is not None
        trainer = _trainer(config, phase, root, inline, callbacks)
        log.info("phase %s: %d steps, rollout %d, batch %d, mask schedule %s", phase.name, phase.max_steps,
                 phase.rollout_steps, data_cfg.batch_size, list(phase.mask_schedule))
        trainer.fit(module, datamodule=dm, ckpt_path=ckpt_path, weights_only=True)
        ckpt_path = None
        module.phase_done = True
        if not inline and tc.limit_val_batches:
            trainer.limit_val_batches = tc.limit_val_batches
            trainer.validate(module, datamodule=dm, verbose=False, weights_only=True)
        metrics[phase.name] = {k: float(v) for k, v in trainer.callback_metrics.items()}
        ckpt = root / "checkpoints" / f"{phase.name}.ckpt"
        trainer.save_checkpoint(ckpt, weights_only=False)  # full state: resume-only
        log.info("phase %s done: %s; checkpoint %s", phase.name,
                 ", ".join(f"{k} {v:.4f}" for k, v in metrics[phase.name].items() if k.startswith("val/")), ckpt)
    model_dir = None
    if config.export and trainer is not None and trainer.is_global_zero:
        export_lightning_checkpoint(ckpt, config.export)
        model_dir = Path(config.export)
    return TrainResult(ckpt, model_dir, metrics, time.perf_counter() - t0)
