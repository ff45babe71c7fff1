"""Training the 3D-Geoformer: one LightningModule with one ``_common_step``.

A batch is ``(inputs, targets)`` of normalised anomalies ``(b, 12, c, h,
w)`` and ``(b, 20, c, h, w)`` (:class:`downstream.enso.data.WindowDataset`).
Training decodes with scheduled sampling (teacher forcing decaying from
``teacher_forcing.start`` to ``.end``, :class:`TeacherForcing`); validation
and test forecast autoregressively, as at inference. The loss is the MSE
of the normalised anomalies over ocean cells plus ``loss.nino34_weight``
times the MSE of the Nino3.4 box mean of the top temperature level (the
published model also adds a Nino3.4 term).

``train_enso(config)`` runs one phase (pre-training on the synthetic ocean,
or transfer from ``init_from`` on reanalysis files) and exports a model
directory (:class:`downstream.enso.forecaster.EnsoForecaster`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
import xarray as xr

from backbone.module import CommonStepModule
from backbone.train import ProgressLog
from downstream.enso.config import GeoformerConfig, get_preset
from downstream.enso.data import EnsoData, Layout, WindowDataset, synthetic_fields, window_starts
from downstream.enso.forecaster import EnsoForecaster
from downstream.enso.model import Geoformer
from downstream.enso.train_config import DataConfig, TeacherForcing, TrainConfig
from ocean.checkpoint import load_lightning_checkpoint

__all__ = ["EnsoModule", "TrainResult", "train_enso", "export_checkpoint", "load_fields", "prepare_data"]

log = logging.getLogger(__name__)


class EnsoModule(CommonStepModule):
    """Trains a :class:`Geoformer`; see the module docstring."""

    def __init__(self, model_config: dict, mask: np.ndarray, nino_weights: np.ndarray, *, lr: float = 5e-4,
                 weight_decay: float = 0.01, warmup_steps: int = 20, min_lr_ratio: float = 0.1,
                 max_steps: int = 100, teacher_forcing: tuple[float, float, float] = (1.0, 0.0, 0.8),
                 nino34_weight: float = 1.0, seed: int = 0, max_minutes: float | None = None):
        super().__init__()
        self.save_hyperparameters(ignore=["mask", "nino_weights"])
        self.model = Geoformer(GeoformerConfig.from_dict(model_config))
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.float32)[None, None], persistent=False)
        self.register_buffer("nino_weights", torch.as_tensor(nino_weights, dtype=torch.float32), persistent=False)
        self.schedule = TeacherForcing(*teacher_forcing)
        self._generator: torch.Generator | None = None
        self._t0 = time.perf_counter()

    def on_fit_start(self) -> None:
        self._generator = torch.Generator().manual_seed(int(self.hparams.seed) + self.global_step)
        self._t0 = time.perf_counter()

    def progress(self, step: int | None = None) -> float:
        """Share of the run done: by steps, or by wall time when ``max_minutes`` is set and comes first.

        Learning rate and teacher forcing follow it, so a run cut by its time
        budget on a loaded machine still finishes both schedules.
        """
        step = self.global_step if step is None else step
        frac = step / max(1, self.hparams.max_steps)
        if self.hparams.max_minutes:
            frac = max(frac, (time.perf_counter() - self._t0) / (60.0 * self.hparams.max_minutes))
        return min(1.0, frac)

    def teacher_forcing_ratio(self) -> float:
        return self.schedule.ratio(self.progress())

    def losses(self, pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """Field MSE over ocean cells, Nino3.4 box-mean MSE and their weighted sum."""
        m = self.mask
        field = ((pred - target) ** 2 * m).sum() / (m.sum() * pred.shape[0] * pred.shape[1])
        c = self.model.config.io.sst_channel
        box = lambda x: (x[:, :, c] * self.nino_weights).sum(dim=(-2, -1))  # noqa: E731  (b, t)
        nino = ((box(pred) - box(target)) ** 2).mean()
        return {"loss": field + self.hparams.nino34_weight * nino, "field_mse": field, "nino34_mse": nino}

    def _common_step(self, batch, stage: str) -> torch.Tensor:
        inputs, targets = batch
        if stage == "train":
            pred = self.model(inputs, targets, teacher_forcing=self.teacher_forcing_ratio(),
                              generator=self._generator)
        else:
            pred = self.model.predict(inputs)
        parts = self.losses(pred, targets)
        train = stage == "train"
        self.log_dict({f"{stage}/{k}": v for k, v in parts.items()}, batch_size=inputs.shape[0],
                      on_step=train, on_epoch=not train, prog_bar=False)
        return parts["loss"]


    def configure_optimizers(self):
        h = self.hparams
        opt = torch.optim.AdamW(self.model.parameters(), lr=h.lr, weight_decay=h.weight_decay)

        def factor(step: int) -> float:
            if step < h.warmup_steps:
                return (step + 1) / max(1, h.warmup_steps)
            done = self.progress(step)
            start = h.warmup_steps / max(1, h.max_steps)
            frac = min(1.0, max(0.0, (done - start) / max(1e-9, 1.0 - start)))
            return h.min_lr_ratio + (1 - h.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * frac))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def _enso_progress(trainer, module) -> str:
    m = trainer.callback_metrics
    field, nino = (float(m.get(f"train/{k}", np.nan)) for k in ("field_mse", "nino34_mse"))
    return f" (field {field:.4f}, nino34 {nino:.4f}) teacher forcing {module.teacher_forcing_ratio():.2f}"


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path | None
    checkpoint: Path
    metrics: dict
    seconds: float
    steps: int


def load_fields(data: DataConfig, layout: Layout) -> xr.Dataset:
    """The monthly fields a data config names (synthetic run or reanalysis files), on ``layout``."""
    if data.synthetic is not None:
        s = data.synthetic
        return synthetic_fields(layout, s.start, s.years * 12, s.seed)
    from downstream.enso.readers import read_monthly

    f = data.files
    return read_monthly(f.reader, f.temperature, layout, zonal_stress=f.zonal_stress or None,
                        meridional_stress=f.meridional_stress or None)


def prepare_data(config: TrainConfig, parent: EnsoForecaster | None = None) -> tuple[EnsoData, GeoformerConfig]:
    """Data (anomalies against the config's climatology period) and the model config fitted to them."""
    layout = Layout.from_spec(config.data.grid, config.data.levels)
    if parent is not None:
        parent.check(layout, what=f"the training data ({config.data.grid}, {config.data.levels})")
    fields = load_fields(config.data, layout)
    data = EnsoData(fields, layout, climatology_period=config.data.climatology_period,
                    statistics=parent.statistics if parent is not None else None)
    if parent is not None:
        return data, parent.config
    cfg = get_preset(config.model, **config.model_overrides)
    return data, cfg.replace(grid_shape=layout.shape, channels=len(layout.channels), sst_channel=0)


def _loaders(config: TrainConfig, data: EnsoData, cfg: GeoformerConfig):
    n_in, n_out = cfg.io.input_months, cfg.io.output_months
    train = WindowDataset(data, window_starts(data.times, config.data.train, n_in + n_out, config.data.stride),
                          n_in, n_out)
    val_all = window_starts(data.times, config.data.val, n_in + n_out)
    pick = np.unique(np.linspace(0, len(val_all) - 1, min(config.data.val_windows, len(val_all))).astype(int)) \
        if len(val_all) else val_all
    val = WindowDataset(data, val_all[pick], n_in, n_out)
    sampler = torch.utils.data.RandomSampler(train, replacement=True,
                                             num_samples=config.max_steps * config.batch_size,
                                             generator=torch.Generator().manual_seed(config.seed))
    dl = torch.utils.data.DataLoader
    return (dl(train, batch_size=config.batch_size, sampler=sampler, num_workers=0, drop_last=True),
            dl(val, batch_size=config.batch_size, shuffle=False, num_workers=0), len(train))


def train_enso(config: TrainConfig, provenance: dict | None = None, resume: "str | Path | None" = None
               ) -> TrainResult:
    """Train (or fine-tune from ``config.init_from``) and export a model directory."""
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    t0 = time.perf_counter()
    if config.threads:
        torch.set_num_threads(config.threads)
    L.seed_everything(config.seed, workers=True, verbose=False)
    parent = EnsoForecaster.load(config.init_from) if config.init_from else None
    data, cfg = prepare_data(config, parent)
    train_dl, val_dl, n_train = _loaders(config, data, cfg)
    tf = config.teacher_forcing
    module = EnsoModule(cfg.to_dict(), data.mask, data.nino34_weights(), lr=config.optim.lr,
                        weight_decay=config.optim.weight_decay, warmup_steps=config.optim.warmup_steps,
                        min_lr_ratio=config.optim.min_lr_ratio, max_steps=config.max_steps,
                        teacher_forcing=(tf.start, tf.end, tf.decay_fraction),
                        nino34_weight=config.loss.nino34_weight, seed=config.seed, max_minutes=config.max_minutes)
    if parent is not None:
        module.model.load_state_dict(parent.network.state_dict())
    log.info("ENSO %s: %s parameters, %d tokens/month, %d training windows (%s..%s), batch %d, %d steps",
             cfg.name, f"{sum(p.numel() for p in module.model.parameters()):,}", cfg.tokens, n_train,
             *config.data.train, config.batch_size, config.max_steps)
    root = Path(config.output_dir)
    callbacks: list = [ProgressLog("enso", config.log_every_steps, _enso_progress, log)]
    if config.checkpoint_every_steps:
        callbacks.append(ModelCheckpoint(dirpath=root / "checkpoints", filename="enso-{step}", save_last=True,
                                         every_n_train_steps=config.checkpoint_every_steps, save_top_k=1,
                                         monitor="step", mode="max"))
    inline = config.val_every_steps is not None
    trainer = L.Trainer(
        accelerator="cpu" if not torch.cuda.is_available() else "auto", devices=1, max_steps=config.max_steps,
        max_epochs=-1, max_time={"minutes": config.max_minutes} if config.max_minutes else None,
        gradient_clip_val=config.optim.grad_clip, logger=CSVLogger(str(root / "logs"), name="enso"),
        enable_checkpointing=bool(config.checkpoint_every_steps), enable_progress_bar=False,
        enable_model_summary=False, num_sanity_val_steps=0, log_every_n_steps=config.log_every_steps,
        default_root_dir=str(root), callbacks=callbacks,
        **({"val_check_interval": config.val_every_steps, "check_val_every_n_epoch": None} if inline
           else {"limit_val_batches": 0}))
    trainer.fit(module, train_dataloaders=train_dl, val_dataloaders=val_dl,
                ckpt_path=str(resume) if resume else None, weights_only=True)
    trainer.limit_val_batches = 1.0
    metrics = {k: float(v) for k, v in (trainer.validate(module, dataloaders=val_dl, verbose=False) or [{}])[0].items()}
    ckpt = root / "checkpoints" / "enso-final.ckpt"
    trainer.save_checkpoint(ckpt)
    seconds = time.perf_counter() - t0
    model_dir = None
    if config.export:
        prov = {"config": dict(provenance or {}), "data": _describe_data(config.data), "steps": trainer.global_step,
                "batch_size": config.batch_size, "train_seconds": round(seconds, 1), "validation": metrics,
                "parent": parent.metadata.weights_sha256 if parent is not None and parent.metadata else None}
        fc = EnsoForecaster(module.model, data.layout, data.climatology, data.statistics)
        fc.save(config.export, provenance=prov, dtype=config.export_dtype)
        model_dir = Path(config.export)
    log.info("ENSO training done in %.1f min (%d steps); validation %s", seconds / 60, trainer.global_step,
             ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    return TrainResult(model_dir, ckpt, metrics, seconds, trainer.global_step)


def export_checkpoint(config: TrainConfig, checkpoint: "str | Path", export: "str | Path",
                      dtype: str | None = None, provenance: dict | None = None, validate: bool = True,
                      **extra_provenance) -> EnsoForecaster:
    """Export a model directory from a Lightning checkpoint of ``config``'s run (e.g. one cut short).

    The data (climatology, statistics) are rebuilt from ``config`` exactly as
    :func:`train_enso` does; the weights are the checkpoint's. With
    ``validate`` the validation losses (autoregressive, as in training) are
    computed and stored in the provenance; ``extra_provenance`` (e.g.
    ``train_seconds=...``) is stored as given.
    """
    if config.threads:
        torch.set_num_threads(config.threads)
    parent = EnsoForecaster.load(config.init_from) if config.init_from else None
    data, cfg = prepare_data(config, parent)
    state = load_lightning_checkpoint(checkpoint)  # weights_only: nothing but tensors and plain data
    weights = {k[len("model."):]: v for k, v in state["state_dict"].items() if k.startswith("model.")}
    module = EnsoModule(cfg.to_dict(), data.mask, data.nino34_weights(), nino34_weight=config.loss.nino34_weight)
    module.model.load_state_dict(weights)
    module.eval()
    metrics: dict[str, float] = {}
    if validate:
        _, val_dl, _ = _loaders(config, data, cfg)
        totals, n = {}, 0
        with torch.no_grad():
            for inputs, targets in val_dl:
                parts = module.losses(module.model.predict(inputs), targets)
                for k, v in parts.items():
                    totals[k] = totals.get(k, 0.0) + float(v) * inputs.shape[0]
                n += inputs.shape[0]
        metrics = {f"val/{k}": v / max(1, n) for k, v in totals.items()}
    step = int(state.get("global_step", 0))
    prov = {"config": dict(provenance or {}), "data": _describe_data(config.data), "steps": step,
            "batch_size": config.batch_size, "checkpoint": Path(checkpoint).name, "validation": metrics,
            "parent": parent.metadata.weights_sha256 if parent is not None and parent.metadata else None,
            **extra_provenance}
    fc = EnsoForecaster(module.model, data.layout, data.climatology, data.statistics)
    fc.save(export, provenance=prov, dtype=dtype or config.export_dtype)
    log.info("exported %s (step %d) to %s; validation %s", checkpoint, step, export,
             ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) or "not computed")
    return fc


def _describe_data(data: DataConfig) -> dict:
    src = ({"synthetic": vars(data.synthetic)} if data.synthetic is not None
           else {"files": {"reader": data.files.reader, "temperature": list(data.files.temperature)}})
    return {**src, "train": list(data.train), "val": list(data.val), "test": list(data.test),
            "climatology": list(data.climatology_period), "grid": data.grid, "levels": data.levels}


def main(argv=None) -> None:
    """``python -m downstream.enso.train --config CFG --checkpoint CKPT --export DIR``: export a checkpoint."""
    import argparse

    from downstream.enso.train_config import load_train_config

    p = argparse.ArgumentParser(description="Export an ENSO model directory from a Lightning checkpoint")
    p.add_argument("--config", required=True, help="the training config of the run (configs/train/enso*.yaml)")
    p.add_argument("--checkpoint", required=True, help="Lightning checkpoint (e.g. outputs/enso/checkpoints/last.ckpt)")
    p.add_argument("--export", required=True, help="model directory to write")
    p.add_argument("--dtype", default=None, choices=["float32", "float16", "bfloat16"],
                   help="weights dtype (default: the config's export_dtype)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    p.add_argument("--train-seconds", type=float, default=None, help="wall time of the run, for the provenance")
    p.add_argument("--note", default=None, help="a note stored in the provenance")
    p.add_argument("--no-validate", action="store_true", help="skip the validation losses")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    extra = {k: v for k, v in {"train_seconds": args.train_seconds, "note": args.note}.items() if v is not None}
    export_checkpoint(load_train_config(args.config, args.set), args.checkpoint, args.export, dtype=args.dtype,
                      provenance={"config": args.config, "overrides": list(args.set)},
                      validate=not args.no_validate, **extra)


if __name__ == "__main__":
    main()
