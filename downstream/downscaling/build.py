"""Building the downscaling head for training, and rebuilding it from its model directory.

:func:`build` (the registry's builder) checks the two cubes against the
backbone and the region, derives the static fields (coarse land fill,
level mask; fine bathymetry, relief, mask, latitude), reads the training
pairs, measures the residual scale and returns a
:class:`~downstream.registry.HeadBuild`. :func:`rebuild` makes the same
architecture from a head's metadata; its weights and buffers then load.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr
from scipy import ndimage

from backbone.data import CubeInfo, open_for_reading
from downstream.data import ArrayDataModule, backbone_samples, open_backbone_cube, target_days
from downstream.downscaling.config import DownscalingConfig, DownscalingTrainConfig
from downstream.downscaling.geometry import RegionGeometry, resolve_region
from downstream.downscaling.model import DownscalingNet
from downstream.frozen import FrozenBackbone
from downstream.registry import HeadBuild
from ocean import cube as C
from ocean.checkpoint import ModelMetadata
from ocean.errors import ConfigError, DataError
from ocean.levels import Levels
from ocean.normalize import Statistics, channel_names, split_channel
from ocean.variables import get as get_variable

__all__ = ["build", "rebuild", "output_levels", "make_net", "read_targets"]

log = logging.getLogger(__name__)


def output_levels(config: DownscalingConfig, backbone: FrozenBackbone) -> Levels | None:
    """The output depths as the backbone names them (a subset of its levels)."""
    have = backbone.metadata.levels
    if not any(get_variable(v).is_3d for v in config.variables):
        return None
    if config.levels is None:
        return have
    try:
        picked = [have.depths[have.index(d)] for d in config.levels]
    except (KeyError, ValueError):
        raise ConfigError(f"head.levels {list(config.levels)} must be backbone levels "
                          f"({list(have.depths)})") from None
    return Levels(tuple(picked), "downscaling")


def make_net(config: DownscalingConfig, backbone: FrozenBackbone) -> DownscalingNet:
    """The untrained network for ``config`` on ``backbone`` (static buffers still empty)."""
    geometry = RegionGeometry.build(backbone.grid, resolve_region(config.region), config.factor, config.halo)
    levels = output_levels(config, backbone)
    out = channel_names(config.variables, levels)
    missing = [v for v in config.variables if v not in backbone.metadata.variables]
    if missing:
        raise ConfigError(f"head.variables {missing} are not predicted by the backbone "
                          f"({list(backbone.metadata.variables)})")
    return DownscalingNet(config, geometry, backbone.token_layout, backbone.channels, len(backbone.metadata.levels),
                          backbone.feature_width, out)


def rebuild(meta: ModelMetadata, backbone: FrozenBackbone) -> DownscalingNet:
    """The architecture of a saved head (weights and buffers are loaded by the caller)."""
    return make_net(DownscalingConfig.from_dict(meta.config["head"]), backbone)


# -- static fields -------------------------------------------------------------------------

def _nearest_fill(mask: np.ndarray) -> np.ndarray:
    """Flat index of the nearest True cell for every cell of ``mask (h, w)`` (itself when True or none)."""
    if mask.all() or not mask.any():
        return np.arange(mask.size)
    iy, ix = ndimage.distance_transform_edt(~mask, return_distances=False, return_indices=True)
    return (iy * mask.shape[1] + ix).ravel()


def _fine_static(deptho: np.ndarray, lat: np.ndarray, factor: int) -> np.ndarray:
    """``depth_km, relief_hm, ocean, sin_lat`` ``(4, y, x)``; relief = depth minus its ~coarse-cell mean."""
    ocean = np.isfinite(deptho) & (np.nan_to_num(deptho) > 0)
    d = np.where(ocean, deptho, 0.0)
    size = 2 * factor + 1
    smooth = ndimage.uniform_filter(d, size, mode="nearest") / np.maximum(
        ndimage.uniform_filter(ocean.astype(float), size, mode="nearest"), 1e-6)
    relief = np.clip(np.where(ocean, d - smooth, 0.0) / 100.0, -10, 10)
    sin_lat = np.broadcast_to(np.sin(np.deg2rad(lat))[:, None], d.shape)
    return np.stack([d / 1000.0, relief, ocean.astype(float), sin_lat]).astype(np.float32)


def _channel_mask(channels, level_mask: np.ndarray, cube_levels: Levels) -> np.ndarray:
    """Fine ocean mask per output channel ``(c_out, y, x)`` from the fine cube's per-level mask."""
    out = []
    for ch in channels:
        _, depth = split_channel(ch)
        out.append(level_mask[cube_levels.index(depth) if depth is not None else 0])
    return np.stack(out)


def _open_fine(path: str, geometry: RegionGeometry) -> xr.Dataset:
    ds = C.open_cube(path)
    grid = C.cube_grid(ds)
    if not grid.same_as(geometry.fine):
        raise DataError("the fine cube is not on the head's fine grid", file=path, found=grid.describe(),
                        expected=f"{geometry.fine.describe()} (region {geometry.region.name!r} on the backbone's "
                                 f"{geometry.coarse.res:g} degree cells refined {geometry.factor}x)",
                        hint="Build the fine cube for this region and factor (docs/downstream.md)")
    if "deptho" not in ds:
        raise DataError("the fine cube has no high-resolution bathymetry", file=path, variable="deptho",
                        expected="deptho (latitude, longitude) in metres", hint="Add a bathymetry source to its recipe")
    return ds


def read_targets(path: str, dates: np.ndarray, channels, stats: Statistics, mask: np.ndarray,
                 block: int = 128) -> np.ndarray:
    """Fine truth ``(n, c_out, y, x)`` of ``dates``, normalised with ``stats``, land 0."""
    ds = open_for_reading(path)
    times = pd.DatetimeIndex(ds["time"].values).normalize()
    where = times.get_indexer(pd.DatetimeIndex(dates).normalize())
    if (where < 0).any():
        missing = pd.DatetimeIndex(dates)[where < 0]
        raise DataError("the fine cube lacks days of the training periods", file=path,
                        found=f"{len(missing)} missing, e.g. {missing[0].date()}",
                        expected=f"{pd.Timestamp(dates[0]).date()}..{pd.Timestamp(dates[-1]).date()}")
    levels = C.cube_levels(ds)
    out = np.empty((len(dates), len(channels), *mask.shape[1:]), dtype=np.float32)
    parsed = [split_channel(ch) for ch in channels]
    for b0 in range(0, len(dates), block):
        part = ds.isel(time=where[b0:b0 + block])
        fields = {v: part[v].values for v in dict.fromkeys(v for v, _ in parsed)}  # each variable read once
        arrays = [fields[v][:, levels.index(d)] if d is not None else fields[v] for v, d in parsed]
        x = stats.normalise(np.stack(arrays, axis=1).astype(np.float32), channel_axis=1)
        out[b0:b0 + block] = np.where(mask[None], np.nan_to_num(x, nan=0.0), 0.0)
    return out


# -- the builder -----------------------------------------------------------------------------

def _samples(net: DownscalingNet, backbone, info: CubeInfo, period, fine_path, stats, mask) -> dict:
    days = target_days(info, period)
    arrays = backbone_samples(backbone, info, days, state_view=net.geometry.crop,
                              select_features=net.select_features)
    arrays["target"] = read_targets(fine_path, info.times[days], net.out_channels, stats, mask)
    return arrays


def _residual_scale(net: DownscalingNet, arrays: dict, n: int) -> torch.Tensor:
    """std of ``truth - base`` per channel over fine ocean cells (output units)."""
    pick = np.linspace(0, len(arrays["state"]) - 1, min(n, len(arrays["state"]))).astype(int)
    with torch.no_grad():
        base = net.base(net.fill_land(torch.from_numpy(arrays["state"][pick]))) * net.out_mask
        diff = (torch.from_numpy(arrays["target"][pick]) - base) * net.out_mask
        count = net.out_mask.sum(dim=(-2, -1)).clamp_min(1) * len(pick)
        return torch.sqrt((diff ** 2).sum(dim=(0, -2, -1)) / count)


def build(config: DownscalingTrainConfig, backbone: FrozenBackbone) -> HeadBuild:
    """The head, its training pairs and its metadata; see the module docstring."""
    hc, dc = config.head, config.data
    net = make_net(hc, backbone)
    geometry = net.geometry
    info = open_backbone_cube(backbone, dc.coarse_cube)
    fine = _open_fine(dc.fine_cube, geometry)
    levels = output_levels(hc, backbone)
    fine_levels = C.cube_levels(fine)
    for d in (levels.depths if levels is not None else ()):
        if fine_levels is None or not any(abs(d - x) <= 0.5 for x in fine_levels.depths):
            raise DataError("the fine cube lacks an output level", file=dc.fine_cube, found=fine_levels,
                            expected=f"depth {d:g} m among its levels")
    stats = Statistics.from_dataset(C.open_statistics(dc.fine_cube), hc.variables, levels)
    fine_mask = C.cube_mask(fine)
    out_mask = _channel_mask(net.out_channels, fine_mask, fine_levels)
    coarse_mask = geometry.crop(info.channel_mask)
    bb_stats = backbone.forecaster.statistics.select(net.out_channels)
    net.set_static(fill_index=np.stack([_nearest_fill(m) for m in coarse_mask]),
                   coarse_static=geometry.crop(info.level_mask).astype(np.float32),
                   fine_static=_fine_static(fine["deptho"].values, geometry.fine.lat, hc.factor),
                   out_mask=out_mask.astype(np.float32), bb_mean=bb_stats.mean, bb_std=bb_stats.std,
                   out_mean=stats.mean, out_std=stats.std)
    train = _samples(net, backbone, info, dc.train, dc.fine_cube, stats, out_mask)
    val = _samples(net, backbone, info, dc.val, dc.fine_cube, stats, out_mask)
    net.set_residual_scale(_residual_scale(net, train, dc.residual_samples))
    log.info("downscaling %s: coarse halo %s -> fine %s, %d output channels, %d train / %d val days; "
             "residual scale %s", geometry.region.name, geometry.halo_shape, geometry.fine.describe(),
             len(net.out_channels), len(train["state"]), len(val["state"]),
             np.array2string(net.residual_scale.numpy()[:5], precision=3))
    dm = ArrayDataModule(train, val, config.schedule.batch_size, config.schedule.val_batch_size)
    metadata = {"config": {"head": hc.to_dict(), "data": {"coarse_cube": str(Path(dc.coarse_cube).resolve()),
                                                          "fine_cube": str(Path(dc.fine_cube).resolve()),
                                                          "train": list(dc.train), "val": list(dc.val)}},
                "variables": tuple(hc.variables), "grid": geometry.fine, "levels": levels,
                "channels": tuple(net.out_channels), "statistics": stats,
                "provenance": {"train_period": list(dc.train), "val_period": list(dc.val),
                               "region": geometry.region.to_dict(), "factor": hc.factor,
                               "coarse_box": geometry.box.to_dict()}}
    return HeadBuild(net, dm, metadata)
