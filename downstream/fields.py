"""Field heads: fields on the backbone's grid from its features, the day's inputs and their own previous state.

The wave head (:mod:`downstream.waves`) and the biogeochemistry head
(:mod:`downstream.biochem`) share this machinery; each subclasses
:class:`FieldHead` with its own inputs (``make_inputs``) and output channels.

Architecture (after AI-GOMS's "2 AFNO blocks + linear" heads)::

    tokens = Linear(features) + PatchEmbed([inputs, previous, static])   # (b, h_tok, w_tok, width)
    tokens = AFNOBlock x afno_blocks (tokens)                            # global mixing on the token grid
    local  = PatchRecovery(tokens)                                       # (b, pixel_width, lat, lon)
    delta  = 1x1-conv MLP([local, inputs, previous, static])            # zero-initialised last layer
    out    = previous + delta * residual_scale                           # the untrained head is persistence

Outputs live in *transformed, normalised* units: a channel with transform
``log`` is ``log(max(x, floor))`` (so the physical value ``exp(.)`` is
positive by construction), then ``(t - mean) / std`` with the truth's
statistics over the training period. A direction is two channels, its sine
and cosine. Masked cells (land, per level; sea ice where the head says so)
are 0 in these units and NaN in physical units.

Training pairs (:func:`build_field_head`): for every target day t the
backbone's features of the step t-1 -> t (cached), the head's view of the
day-t state and forcing from the backbone's cube, the truth of day t - 1
(``previous``, teacher forcing) and of day t (``target``). At forecast time
(:class:`FieldRunner`) the previous state of lead 1 is the analysis at the
initial date (the truth cube the head was trained on, when it covers that
date) or else the head's own climatology of that day of the year; later
leads use the head's own previous output.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import dask.array as da
import numpy as np
import pandas as pd
import torch
import xarray as xr
from einops import rearrange, repeat
from torch import nn

from backbone.data import CubeInfo
from backbone.layers import AFNOBlock, PatchEmbed, PatchRecovery
from downstream.data import ArrayDataModule, backbone_samples, open_backbone_cube, target_days
from downstream.frozen import FrozenBackbone, TokenLayout
from downstream.head import HeadModel
from downstream.registry import HeadBuild
from downstream.runtime import ForecastContext, LeadStep, forecast_coords
from ocean import variables as V
from ocean.checkpoint import ModelMetadata
from ocean.errors import ConfigError, DataError
from ocean.grid import Grid
from ocean.levels import Levels

__all__ = ["FieldNetConfig", "OutputChannel", "FieldHead", "FieldRunner", "build_field_head", "open_truth",
           "truth_channels", "synthetic_truth", "day_of_year_features"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldNetConfig:
    """The network of a field head (defaults: AI-GOMS's 2 AFNO blocks)."""

    width: int = 128  # token width of the AFNO blocks
    afno_blocks: int = 2
    num_blocks: int = 8  # block-diagonal groups of the AFNO mixer
    mlp_ratio: float = 2.0
    sparsity: float = 0.01
    pixel_width: int = 64  # the per-cell MLP after patch recovery
    pixel_layers: int = 2
    previous_noise: float = 0.05  # std (normalised units) added to the previous state while training

    def __post_init__(self) -> None:
        if min(self.width, self.num_blocks, self.pixel_width, self.pixel_layers) < 1 or self.afno_blocks < 0 \
                or self.width % self.num_blocks or self.previous_noise < 0:
            raise ConfigError(f"head.net: widths >= 1, width divisible by num_blocks, afno_blocks >= 0, "
                              f"previous_noise >= 0; found {self}")


@dataclass(frozen=True)
class OutputChannel:
    """One output channel: a variable (at a depth), its transform, and for directions a component."""

    name: str
    variable: str
    depth: float | None = None
    transform: str = "linear"  # linear | log
    floor: float = 0.0  # log(max(x, floor))
    component: str | None = None  # sin | cos of a direction in degrees

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def day_of_year_features(times) -> np.ndarray:
    """``(n, 2)`` sine and cosine of the day of the year."""
    doy = pd.DatetimeIndex(np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))).day_of_year.values
    phase = 2 * np.pi * (doy - 1) / 365.2425
    return np.stack([np.sin(phase), np.cos(phase)], axis=1).astype(np.float32)


class FieldHead(HeadModel):
    """Base class; subclasses define ``make_inputs(batch) -> (b, n_inputs, lat, lon)``.

    ``state_index`` / ``forcing_index`` pick the backbone's state and forcing
    channels the head reads (its ``state_view`` / ``forcing_view``, the same
    in training and at forecast time); ``static_levels`` the backbone levels
    whose ocean masks are static inputs (with sin and cos of latitude);
    ``channel_levels`` the backbone level of every output channel (its mask).
    """

    def __init__(self, net: FieldNetConfig, channels: Sequence[OutputChannel], n_inputs: int,
                 layout: TokenLayout, feature_width: int, *, state_index: Sequence[int] = (),
                 forcing_index: Sequence[int] = (), static_levels: Sequence[int] = (0,),
                 channel_levels: Sequence[int] | None = None):
        super().__init__()
        self.net_config, self.channels = net, tuple(channels)
        self.state_index, self.forcing_index = list(state_index), list(forcing_index)
        self.static_levels = list(static_levels)
        self.channel_levels = list(channel_levels) if channel_levels is not None else [0] * len(self.channels)
        n_static = len(self.static_levels) + 2
        self.grid_shape = tuple(layout.grid.shape)
        c, (h, w) = len(self.channels), self.grid_shape
        for name, shape in (("static", (n_static, h, w)), ("out_mask", (c, h, w)), ("clim", (3, c, h, w))):
            self.register_buffer(name, torch.zeros(shape))
        for name, value in (("out_mean", 0.0), ("out_std", 1.0), ("residual_scale", 1.0)):
            self.register_buffer(name, torch.full((c,), value))
        self.register_buffer("log_channel", torch.tensor([ch.transform == "log" for ch in self.channels]),
                             persistent=False)
        self.register_buffer("floor", torch.tensor([ch.floor for ch in self.channels], dtype=torch.float32),
                             persistent=False)
        lat = np.cos(np.deg2rad(layout.grid.lat))
        self.register_buffer("row_weight", torch.as_tensor(lat, dtype=torch.float32)[:, None], persistent=False)
        pixel_in = n_inputs + c + n_static
        self.project = nn.Linear(feature_width, net.width)
        self.embed = PatchEmbed(pixel_in, net.width, layout.patch, layout.periodic)
        self.blocks = nn.ModuleList(AFNOBlock(net.width, net.num_blocks, net.sparsity, net.mlp_ratio, True, True)
                                    for _ in range(net.afno_blocks))
        self.norm = nn.LayerNorm(net.width)
        self.recover = PatchRecovery(net.width, net.pixel_width, layout.patch, self.grid_shape)
        layers: list[nn.Module] = [nn.Conv2d(net.pixel_width + pixel_in, net.pixel_width, 1), nn.GELU()]
        for _ in range(net.pixel_layers - 1):
            layers += [nn.Conv2d(net.pixel_width, net.pixel_width, 1), nn.GELU()]
        self.pixel = nn.Sequential(*layers)
        self.out = nn.Conv2d(net.pixel_width, c, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    # -- static fields ---------------------------------------------------------------------------
    @torch.no_grad()
    def set_buffers(self, **values) -> None:
        for name, value in values.items():
            buf = getattr(self, name)
            value = torch.as_tensor(np.asarray(value), dtype=buf.dtype)
            if tuple(value.shape) != tuple(buf.shape):
                raise ValueError(f"{name} has shape {tuple(value.shape)}, expected {tuple(buf.shape)}")
            buf.copy_(value)

    def state_view(self, state):
        """The state channels the head reads, ``(b, c, lat, lon)`` -> ``(b, len(state_index), lat, lon)``."""
        return state[:, self.state_index]

    def forcing_view(self, forcing):
        return forcing[:, self.forcing_index]

    # -- units -------------------------------------------------------------------------------------
    def _c(self, v: torch.Tensor) -> torch.Tensor:
        return rearrange(v, "c -> c 1 1")

    def normalise(self, physical: torch.Tensor) -> torch.Tensor:
        """Physical ``(b, c, lat, lon)`` (channel values, directions as sin/cos) -> output units, masked 0."""
        x = torch.nan_to_num(physical.float(), nan=0.0)
        t = torch.where(self._c(self.log_channel), torch.log(torch.maximum(x, self._c(self.floor))), x)
        return (t - self._c(self.out_mean)) / self._c(self.out_std) * self.out_mask

    def denormalise(self, output: torch.Tensor) -> torch.Tensor:
        """Output units -> physical channel values, NaN where masked; ``log`` channels are exp(.) > 0."""
        t = output * self._c(self.out_std) + self._c(self.out_mean)
        x = torch.where(self._c(self.log_channel), torch.exp(t.clamp(max=30.0)), t)
        return torch.where(self.out_mask > 0, x, torch.full_like(x, float("nan")))

    def climatology(self, doy_features: torch.Tensor) -> torch.Tensor:
        """The head's harmonic climatology ``(b, c, lat, lon)`` in output units for ``doy_features (b, 2)``."""
        s, c = doy_features[:, 0, None, None, None], doy_features[:, 1, None, None, None]
        return (self.clim[0] + self.clim[1] * c + self.clim[2] * s) * self.out_mask

    def extra_mask(self, state: torch.Tensor) -> torch.Tensor | None:
        """Cells ``(b, lat, lon)`` to mask at forecast time from the physical state (e.g. sea ice); None: none."""
        return None

    # -- the head -----------------------------------------------------------------------------------
    def make_inputs(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, features: torch.Tensor, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Day-t fields ``(b, c, lat, lon)`` in output units from the features ``(b, d_dec, h_tok, w_tok)``,
        ``batch["previous"]`` (day t-1, output units) and the head's inputs."""
        inputs = self.make_inputs(batch)
        previous = batch["previous"].to(inputs.dtype)
        if self.training and self.net_config.previous_noise > 0:
            previous = previous + self.net_config.previous_noise * torch.randn_like(previous) * self.out_mask
        static = repeat(self.static, "k h w -> b k h w", b=inputs.shape[0])
        pixels = torch.cat([inputs, previous, static], dim=1)
        tokens = self.project(rearrange(features.to(inputs.dtype), "b d h w -> b h w d")) + self.embed(pixels)
        for block in self.blocks:
            tokens = block(tokens)
        local = self.recover(self.norm(tokens))
        delta = self.out(self.pixel(torch.cat([local, pixels], dim=1)))
        return (previous + delta * self._c(self.residual_scale)) * self.out_mask

    def loss(self, prediction: torch.Tensor, batch: Mapping[str, torch.Tensor]):
        """cos-lat weighted MSE over valid cells in output units; ``skill`` = loss / persistence's loss."""
        target = batch["target"]
        weight = batch["valid"].to(target.dtype) * self.out_mask * self.row_weight
        total = weight.sum().clamp_min(1.0)
        loss = ((prediction - target) ** 2 * weight).sum() / total
        with torch.no_grad():
            persistence = ((batch["previous"] - target) ** 2 * weight).sum() / total
        return loss, {"persistence_loss": persistence, "skill": loss.detach() / persistence.clamp_min(1e-12)}

    # -- physical fields ------------------------------------------------------------------------------
    def to_fields(self, output: torch.Tensor, extra_mask: torch.Tensor | None = None) -> dict[str, np.ndarray]:
        """``{variable: (b, lat, lon) or (b, depth, lat, lon)}`` physical; directions from sin/cos in degrees."""
        x = self.denormalise(output)
        if extra_mask is not None:
            x = x.masked_fill(extra_mask[:, None], float("nan"))
        x = x.detach().cpu().numpy()
        out: dict[str, list] = {}
        for i, ch in enumerate(self.channels):
            if ch.component == "cos":
                continue
            if ch.component == "sin":
                j = next(k for k, o in enumerate(self.channels) if o.variable == ch.variable and o.component == "cos")
                value = np.rad2deg(np.arctan2(x[:, i], x[:, j])) % 360.0
            else:
                value = x[:, i]
            out.setdefault(ch.variable, []).append(value)
        return {v: (np.stack(parts, axis=1) if self.channel_depths(v) else parts[0]) for v, parts in out.items()}

    def channel_depths(self, variable: str) -> list[float]:
        return [ch.depth for ch in self.channels if ch.variable == variable and ch.depth is not None]


# -- truth ----------------------------------------------------------------------------------------------

def open_truth(path: "str | os.PathLike", grid: Grid, variables: Sequence[str]) -> xr.Dataset:
    """A head's truth on the backbone's grid: a Zarr cube, or producers' files read by ``ocean.io.open_source``."""
    from ocean.io import open_source

    p = Path(path)
    if not p.exists():
        raise DataError("the truth cube does not exist", file=p,
                        hint="Write it first (synthetic: `python benchmarks/heads_skill.py truth`)")
    zarr = (p / "zarr.json").exists() or (p / ".zgroup").exists()
    ds = xr.open_zarr(p, chunks=None) if zarr else open_source(p)  # zarr without dask: fast day picks
    missing = [v for v in variables if v not in ds]
    if missing:
        raise DataError("the truth lacks variables", file=p, found=sorted(map(str, ds.data_vars)),
                        expected=list(variables))
    lat, lon = np.asarray(ds["latitude"].values), np.asarray(ds["longitude"].values)
    if lat.shape != grid.lat.shape or lon.shape != grid.lon.shape or not (
            np.allclose(lat, grid.lat, atol=1e-4) and np.allclose(lon, grid.lon, atol=1e-4)):
        raise DataError("the truth is not on the backbone's grid", file=p,
                        found=f"{lat.size} x {lon.size} cells, latitude {lat.min():g}..{lat.max():g}, "
                              f"longitude {lon.min():g}..{lon.max():g}",
                        expected=grid.describe(), hint="Regrid it onto the backbone's grid first")
    return ds


def truth_channels(ds: xr.Dataset, channels: Sequence[OutputChannel], times, label="truth") -> np.ndarray:
    """Physical channel values ``(n, c, lat, lon)`` of ``times`` (NaN where the truth has none)."""
    times = pd.DatetimeIndex(np.asarray(times, dtype="datetime64[ns]"))
    have = pd.DatetimeIndex(ds["time"].values).normalize()
    where = have.get_indexer(times.normalize())
    if (where < 0).any():
        miss = times[where < 0]
        raise DataError("the truth lacks days the head needs", file=label,
                        found=f"{len(miss)} missing, e.g. {miss[0].date()}",
                        expected=f"every day of {times[0].date()}..{times[-1].date()} and the day before")
    part = ds.isel(time=where)
    level = {}  # channel -> index of its depth in the truth
    for ch in channels:
        if ch.depth is not None:
            depths = np.asarray(part["depth"].values, dtype=float)
            k = int(np.argmin(np.abs(depths - ch.depth)))
            if abs(depths[k] - ch.depth) > max(0.5, 0.01 * ch.depth):
                raise DataError("the truth lacks an output level", file=label, variable=ch.variable,
                                found=list(depths), expected=f"depth {ch.depth:g} m")
            level[ch.name] = k
    cache: dict[str, tuple[list, np.ndarray]] = {}
    out = np.empty((len(times), len(channels), *part["latitude"].shape, *part["longitude"].shape), np.float32)
    for i, ch in enumerate(channels):
        if ch.variable not in cache:  # each variable read once, at the levels the head uses only
            ks = sorted({level[c.name] for c in channels if c.variable == ch.variable and c.name in level})
            da_ = part[ch.variable].isel(depth=ks) if ks else part[ch.variable]
            cache[ch.variable] = (ks, np.asarray(da_.values, dtype=np.float32))
        ks, x = cache[ch.variable]
        if ch.name in level:
            x = x[:, ks.index(level[ch.name])]
        if ch.component == "sin":
            x = np.sin(np.deg2rad(x))
        elif ch.component == "cos":
            x = np.cos(np.deg2rad(x))
        out[:, i] = x
    return out


def synthetic_truth(out: "str | os.PathLike", product: str, *, grid: Grid, levels, start: str, end: str,
                    seed: int = 0, overwrite: bool = False) -> Path:
    """Write the synthetic ocean's ``waves`` or ``bgc`` on ``grid`` as a cube (a head's training truth).

    The same seed and grid as the backbone's cube: the waves are those of its
    10 m winds, the biogeochemistry that of its physical state.
    """
    from ocean.cube import write_cube
    from ocean.synthetic import SyntheticOcean

    if product not in ("waves", "bgc"):
        raise ConfigError(f"synthetic truth: product must be waves or bgc, found {product!r}")
    ocean = SyntheticOcean(grid, levels=levels, seed=seed)
    parts = []
    for a in pd.date_range(start, end, freq="YS").union([pd.Timestamp(start)]):
        b = min(pd.Timestamp(end), a + pd.offsets.YearEnd(0))
        parts.append(getattr(ocean, product)(pd.date_range(a, b)))
        log.info("synthetic %s truth: %s..%s", product, a.date(), b.date())
    ds = xr.concat(parts, dim="time", combine_attrs="drop_conflicts")
    ds = ds.assign(mask=ocean.static()["mask"].astype(np.int8))
    recipe = {"name": f"synthetic_{product}_{grid.name}", "source": "ocean.synthetic.SyntheticOcean",
              "product": product, "grid": grid.to_dict(), "levels": ocean.levels.to_dict(), "seed": seed,
              "start": start, "end": end, "builder": "downstream.fields.synthetic_truth"}
    return write_cube(ds, out, overwrite=overwrite, attrs={"recipe": json.dumps(recipe)})


# -- building -----------------------------------------------------------------------------------------------

def _transformed_stats(phys: np.ndarray, channels, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = np.zeros(len(channels)), np.ones(len(channels))
    for i, ch in enumerate(channels):
        x = phys[:, i][np.isfinite(phys[:, i]) & mask[i][None]]
        if x.size == 0:
            raise DataError("the truth has no valid value of an output channel", variable=ch.name,
                            expected="finite values over the ocean in the training period")
        t = np.log(np.maximum(x, ch.floor)) if ch.transform == "log" else x
        mean[i], std[i] = t.mean(), max(t.std(), 1e-6)
    return mean, std


def _harmonic_climatology(target: np.ndarray, valid: np.ndarray, doy: np.ndarray) -> np.ndarray:
    """Least-squares ``a + b cos + c sin`` of the day of the year per cell and channel ``(3, c, lat, lon)``."""
    design = np.stack([np.ones(len(doy)), doy[:, 1], doy[:, 0]], axis=1)  # (n, 3)
    coef = np.zeros((3, *target.shape[1:]), dtype=np.float32)
    for i in range(target.shape[1]):
        y = rearrange(target[:, i], "n h w -> n (h w)")
        w = rearrange(valid[:, i], "n h w -> n (h w)").astype(np.float64)
        a = np.einsum("nk,nl,nc->ckl", design, design, w) + 1e-6 * np.eye(3)
        b = np.einsum("nk,nc->ck", design, y * w)
        solved = np.linalg.solve(a, b[..., None])[..., 0]  # (cells, 3)
        coef[:, i] = rearrange(solved, "(h w) k -> k h w", h=target.shape[2])
    return coef


def _read_truth(head: FieldHead, info: CubeInfo, truth: xr.Dataset, period, every: int, label: str):
    """Target days (cube indices) of ``period`` and the truth of the day before and of the day, physical."""
    days = target_days(info, period)[::max(1, every)]
    times = info.times[days]
    prev = truth_channels(truth, head.channels, times - np.timedelta64(1, "D"), label)
    target = truth_channels(truth, head.channels, times, label)
    for i, ch in enumerate(head.channels):
        x = target[:, i]
        bad = np.isfinite(x) & (x < 0) if ch.transform == "log" else None
        if bad is not None and bad.any():
            raise DataError("negative values in the truth", file=label, variable=ch.name,
                            found=f"min {np.nanmin(x):.4g} in {int(bad.sum())} cells",
                            expected="values >= 0 (concentrations, heights and periods)",
                            hint="Check the truth's units and scale_factor (downstream.biochem.readers.open_bgc)")
    return days, prev, target


def _pairs(head: FieldHead, backbone: FrozenBackbone, info: CubeInfo, days, prev, target) -> dict:
    arrays = backbone_samples(backbone, info, days, state_view=head.state_view, select_features=head.select_features,
                              forcing_view=head.forcing_view)
    with torch.no_grad():  # cells without truth (sea ice, gaps) are 0 and out of the loss
        arrays["valid"] = (np.isfinite(target) & (head.out_mask.numpy() > 0)[None]).astype(np.uint8)
        prev_n, target_n = (head.normalise(torch.from_numpy(x)).numpy() for x in (prev, target))
        arrays["previous"] = np.where(np.isfinite(prev), prev_n, 0.0).astype(np.float32)
        arrays["target"] = np.where(arrays["valid"] > 0, target_n, 0.0).astype(np.float32)
    arrays["doy"] = day_of_year_features(info.times[days])
    return arrays


def static_fields(head: FieldHead, level_mask: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """``static (k, lat, lon)`` (level masks, sin and cos of latitude) and ``out_mask (c, lat, lon)``."""
    lat = np.broadcast_to(np.deg2rad(grid.lat)[:, None], grid.shape)
    static = np.concatenate([level_mask[head.static_levels].astype(np.float32),
                             np.stack([np.sin(lat), np.cos(lat)]).astype(np.float32)])
    return static, level_mask[head.channel_levels].astype(np.float32)


def build_field_head(head: FieldHead, backbone: FrozenBackbone, config, *, kind: str, variables, levels) -> HeadBuild:
    """Statistics, climatology and residual scale from the training truth, then the training pairs.

    ``config`` is the head's training config: ``head`` (with ``to_dict``), ``data``
    (:class:`~downstream.config.TruthPairsData`) and ``schedule``; ``kind``,
    ``variables`` and ``levels`` go to the head's metadata.
    """
    dc = config.data
    cube, truth_path, train, val, every = dc.cube, dc.truth, dc.train, dc.val, dc.every
    data = {"cube": str(Path(cube).resolve()), "truth": str(Path(truth_path).resolve()), "train": list(train),
            "val": list(val), "every": every}
    metadata = {"kind": kind, "config": {"head": config.head.to_dict(), "data": data},
                "variables": tuple(variables), "grid": backbone.grid, "levels": levels,
                "channels": tuple(c.name for c in head.channels),
                "provenance": {"train_period": list(train), "val_period": list(val), "truth": data["truth"]}}
    info = open_backbone_cube(backbone, cube)
    static, out_mask = static_fields(head, info.level_mask, backbone.grid)
    truth = open_truth(truth_path, backbone.grid, sorted({ch.variable for ch in head.channels}))
    train_truth = _read_truth(head, info, truth, train, every, truth_path)  # truth problems before any backbone work
    val_truth = _read_truth(head, info, truth, val, every, truth_path)
    mean, std = _transformed_stats(train_truth[2], head.channels, out_mask > 0)
    head.set_buffers(static=static, out_mask=out_mask, out_mean=mean, out_std=std)
    train_arrays = _pairs(head, backbone, info, *train_truth)
    val_arrays = _pairs(head, backbone, info, *val_truth)
    del train_truth, val_truth
    valid = train_arrays["valid"].astype(bool)
    diff = np.where(valid, train_arrays["target"] - train_arrays["previous"], 0.0).astype(np.float64)
    scale = np.sqrt((diff ** 2).sum(axis=(0, 2, 3)) / np.maximum(valid.sum(axis=(0, 2, 3)), 1))
    head.set_buffers(residual_scale=np.maximum(scale, 1e-3),
                     clim=_harmonic_climatology(train_arrays["target"], valid, train_arrays["doy"]))
    log.info("%s head: %d channels, %d train / %d val days; residual scale %s", metadata["kind"],
             len(head.channels), len(train_arrays["target"]), len(val_arrays["target"]),
             np.array2string(scale[:6], precision=3))
    dm = ArrayDataModule(train_arrays, val_arrays, config.schedule.batch_size, config.schedule.val_batch_size)
    fields = {k: v for k, v in metadata.items() if k != "kind"}
    return HeadBuild(head, dm, fields)


# -- at forecast time -------------------------------------------------------------------------------------

class FieldRunner:
    """Forecast-time runner (:class:`~downstream.runtime.HeadRunner`) of a field head."""

    needs_features = True

    def __init__(self, head: FieldHead, meta: ModelMetadata, context: ForecastContext):
        self.head, self.meta, self.context = head, meta, context
        self.previous: torch.Tensor | None = None
        self.initial_source = "none"
        self.fields: dict[str, np.ndarray] = {}

    def initial_state(self, doy: torch.Tensor) -> torch.Tensor:
        """Output-unit state ``(1, c, lat, lon)`` at the initial date: the analysis, else the climatology."""
        truth = (self.meta.config.get("data") or {}).get("truth")
        init = self.context.init
        if truth and Path(truth).exists():
            try:
                ds = open_truth(truth, self.context.backbone.grid, sorted({c.variable for c in self.head.channels}))
                phys = truth_channels(ds, self.head.channels, [init], truth)
                self.initial_source = f"analysis {truth}"
                return self.head.normalise(torch.from_numpy(phys))
            except DataError as exc:
                log.info("no analysis for the %s head at %s (%s); starting from its climatology",
                         self.meta.kind, str(init)[:10], exc)
        self.initial_source = "climatology"
        return self.head.climatology(doy)

    @torch.no_grad()
    def predict(self, lead: LeadStep, previous: torch.Tensor, valid_times=None) -> torch.Tensor:
        """Output units ``(b, c, lat, lon)`` for one lead of ``b`` forecasts from their previous states
        (``valid_times``: one per forecast when they differ; default ``lead.valid_time``)."""
        bb, head = self.context.backbone, self.head
        if valid_times is None:
            valid_times = np.repeat(lead.valid_time, lead.state.shape[0])
        batch = {"state": head.state_view(bb.normalise_state(lead.state)),
                 "forcing": head.forcing_view(bb.normalise_forcing(lead.forcing)),
                 "doy": torch.from_numpy(day_of_year_features(valid_times)),
                 "previous": previous}
        return self.head(self.head.select_features(lead.features), batch)

    def step(self, lead: LeadStep) -> None:
        if self.previous is None:
            doy = torch.from_numpy(day_of_year_features([self.context.init]))
            self.previous = self.initial_state(doy)
        out = self.predict(lead, self.previous)
        self.previous = out
        for name, value in self.head.to_fields(out, self.head.extra_mask(lead.state)).items():
            if name not in self.fields:
                self.fields[name] = np.full((self.context.leads, *value.shape[1:]), np.nan, dtype=np.float32)
            self.fields[name][lead.index] = value[0]

    def result(self) -> xr.Dataset:
        meta, data = self.meta, {}
        for name, arr in self.fields.items():
            depth = bool(self.head.channel_depths(name))
            dims = ("init_time", "lead_time", *(("depth",) if depth else ()), "latitude", "longitude")
            chunks = tuple(1 if d in ("init_time", "lead_time") else -1 for d in dims)
            data[name] = (dims, da.from_array(arr[None].astype(np.float32), chunks=chunks), V.get(name).cf_attrs())
        coords = {**self.context.backbone.grid.coords(), **forecast_coords(self.context.init, self.context.leads)}
        if meta.levels is not None:
            coords["depth"] = ("depth", meta.levels.values, meta.levels.coord_attrs())
        attrs = {"head": meta.kind, "head_sha256": meta.weights_sha256,
                 "backbone_sha256": meta.provenance.get("backbone_sha256", ""), "grid": meta.grid.describe(),
                 "initial_state": self.initial_source, "source": f"ocean-forecast {meta.kind} head"}
        return xr.Dataset(data, coords=coords, attrs=attrs)


def output_levels(depths: Sequence[float] | None, backbone: FrozenBackbone, name: str) -> Levels:
    """Output depths as the backbone names them (a subset of its levels; None: all)."""
    have = backbone.metadata.levels
    if have is None:
        raise ConfigError(f"the {name} head needs a backbone with depth levels")
    if depths is None:
        return have
    try:
        return Levels(tuple(have.depths[have.index(d)] for d in depths), name)
    except (KeyError, ValueError):
        raise ConfigError(f"head.levels {list(depths)} must be backbone levels ({list(have.depths)})") from None
