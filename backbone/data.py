"""Training windows from a training cube, and the DataModule that serves them.

A window starting on day ``t`` holds ``k + 1`` states (days t .. t+k) and
the ``k`` forcings valid on the target days (t+1 .. t+k), normalised with
the cube's own statistics, land as 0::

    {"state": (k + 1, channel, lat, lon), "forcing": (k, fchannel, lat, lon), "start": int}

The cube is opened lazily *inside* each process that reads it (DataLoader
workers use the spawn context: Zarr v3 with fork can deadlock). With
``in_memory`` a process loads a whole period once and keeps it for the
following phases (six years of the demo cube: 2.3 GB, about 100 s on two
cores); otherwise each window is read from Zarr on demand.

:func:`describe_cube` reads what the model needs to know about the data
(variables, levels, grid, mask, statistics, provenance) in the main process.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import lightning as L
import numpy as np
import torch
import xarray as xr
from einops import rearrange
from torch.utils.data import DataLoader, Dataset

from backbone.forecaster import channel_mask
from ocean import cube as C
from ocean.errors import ConfigError, DataError
from ocean.grid import Grid
from ocean.levels import Levels
from ocean.normalize import Statistics, channel_names
from ocean.variables import get as get_variable

__all__ = ["CubeInfo", "describe_cube", "read_days", "period_indices", "WindowDataset", "CubeDataModule", "DataConfig"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataConfig:
    """Where the windows come from; periods are inclusive ISO dates ``[start, end]``."""

    cube: str
    train: tuple[str, str]
    val: tuple[str, str]
    test: tuple[str, str] | None = None
    batch_size: int = 8
    val_batch_size: int | None = None
    num_workers: int = 0
    in_memory: bool = True
    variables: tuple[str, ...] | None = None  # default: every prognostic variable in the cube
    forcing_variables: tuple[str, ...] | None = None  # default: every forcing variable in the cube


@dataclass(frozen=True)
class CubeInfo:
    """What a model needs to know about a cube (read once, in the main process)."""

    path: str
    variables: tuple[str, ...]
    forcing_variables: tuple[str, ...]
    levels: Levels | None
    grid: Grid
    level_mask: np.ndarray  # (depth, lat, lon) bool
    statistics: Statistics
    forcing_statistics: Statistics | None
    times: np.ndarray  # datetime64[ns]
    provenance: dict

    @property
    def channels(self) -> list[str]:
        return channel_names(self.variables, self.levels)

    @property
    def channel_mask(self) -> np.ndarray:
        return channel_mask(self.variables, self.levels, self.level_mask)


def describe_cube(path: str, variables: Sequence[str] | None = None,
                  forcing_variables: Sequence[str] | None = None) -> CubeInfo:
    ds = C.open_cube(path)
    have_v, have_f = C.ocean_variables(ds), C.forcing_variables(ds)
    variables = tuple(variables) if variables else have_v
    forcing_variables = tuple(forcing_variables) if forcing_variables is not None else have_f
    for want, have, what in ((variables, have_v, "ocean"), (forcing_variables, have_f, "forcing")):
        missing = [v for v in want if v not in have]
        if missing:
            raise DataError(f"the cube lacks {what} variables", file=path, found=list(have), expected=list(want))
    levels = C.cube_levels(ds)
    stats_ds = C.open_statistics(path)
    stats = Statistics.from_dataset(stats_ds, variables, levels)
    fstats = Statistics.from_dataset(stats_ds, forcing_variables, None) if forcing_variables else None
    level_mask = C.cube_mask(ds)
    if level_mask.ndim == 2:
        level_mask = level_mask[None]
    prov = {"cube": str(Path(path).resolve()), "statistics_period": list(stats.period)}
    for key in ("recipe", "sources"):
        if key in ds.attrs:
            try:
                prov[key] = json.loads(ds.attrs[key])
            except (TypeError, ValueError):
                prov[key] = str(ds.attrs[key])
    return CubeInfo(str(path), variables, forcing_variables, levels, C.cube_grid(ds), level_mask, stats, fstats,
                    ds["time"].values, prov)


def read_days(ds: xr.Dataset, info: CubeInfo, start: int, stop: int, block: int = 64
              ) -> tuple[np.ndarray, np.ndarray]:
    """Normalised ``state (n, c, lat, lon)`` and ``forcing (n, f, lat, lon)`` of days ``start:stop``.

    Land is 0 in the state; forcing is defined everywhere (NaN there is an
    error). Read ``block`` days at a time into preallocated float32 arrays,
    so memory stays at the size of the result.
    """
    n, (h, w) = stop - start, info.grid.shape
    state = np.empty((n, len(info.channels), h, w), dtype=np.float32)
    forcing = np.empty((n, len(info.forcing_variables), h, w), dtype=np.float32)
    cmask = info.channel_mask[None]
    for b0 in range(0, n, block):
        b1 = min(n, b0 + block)
        part = ds.isel(time=slice(start + b0, start + b1))
        arrays = []
        for v in info.variables:
            a = part[v].values.astype(np.float32)
            arrays.append(a if get_variable(v).is_3d else rearrange(a, "t y x -> t 1 y x"))
        x = info.statistics.normalise(np.concatenate(arrays, axis=1), channel_axis=1)
        state[b0:b1] = np.where(cmask, np.nan_to_num(x, nan=0.0), 0.0)
        if info.forcing_variables:
            f = np.stack([part[v].values.astype(np.float32) for v in info.forcing_variables], axis=1)
            if not np.isfinite(f).all():
                raise DataError("forcing has NaN or inf", file=info.path, expected="forcing defined everywhere")
            forcing[b0:b1] = info.forcing_statistics.normalise(f, channel_axis=1)
    return state, forcing


def open_for_reading(path: str) -> xr.Dataset:
    """The cube, checked by :func:`ocean.cube.open_cube`, reopened without dask for bulk reads.

    Reading a period through dask costs a task per inner chunk (one level of
    one day); zarr's own batched reads are about 6x faster.
    """
    C.open_cube(path)
    return xr.open_zarr(path, consolidated=None, chunks=None)


_MEMORY: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def load_period(info: CubeInfo, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`read_days` of a whole period, cached per process (phases reuse it)."""
    key = (str(Path(info.path).resolve()), start, stop, tuple(info.variables), tuple(info.forcing_variables))
    if key not in _MEMORY:
        t0 = time.perf_counter()
        _MEMORY[key] = read_days(open_for_reading(info.path), info, start, stop)
        log.info("loaded %d days of %s into memory in %.0f s (%.2f GB)", stop - start, info.path,
                 time.perf_counter() - t0, sum(a.nbytes for a in _MEMORY[key]) / 1e9)
    return _MEMORY[key]


def clear_memory_cache() -> None:
    _MEMORY.clear()


def period_indices(times: np.ndarray, period: tuple[str, str], path: str) -> tuple[int, int]:
    t = times.astype("datetime64[D]")
    lo, hi = np.datetime64(period[0], "D"), np.datetime64(period[1], "D")
    idx = np.nonzero((t >= lo) & (t <= hi))[0]
    if idx.size == 0:
        raise ConfigError(f"period {period[0]}..{period[1]} selects no days of the cube {path}, which covers "
                          f"{t[0]}..{t[-1]}; choose dates inside it")
    return int(idx[0]), int(idx[-1]) + 1


class WindowDataset(Dataset):
    """Windows of ``steps + 1`` consecutive days inside one period of a cube."""

    def __init__(self, info: CubeInfo, period: tuple[str, str], steps: int, in_memory: bool = True,
                 stride: int = 1):
        self.info, self.steps, self.in_memory = info, int(steps), in_memory
        self.lo, self.hi = period_indices(info.times, period, info.path)
        days = np.diff(info.times[self.lo:self.hi]).astype("timedelta64[h]").astype(int)
        if (days != 24).any():
            raise DataError("the cube's days are not consecutive", file=info.path,
                            found=f"gaps of {sorted(set(days.tolist()))} hours", expected="daily steps")
        self.starts = np.arange(self.lo, self.hi - self.steps, stride)
        if self.starts.size == 0:
            raise ConfigError(f"period {period[0]}..{period[1]} holds {self.hi - self.lo} days, too few for "
                              f"windows of {self.steps + 1} days; lengthen the period")
        self._data = None

    def __len__(self) -> int:
        return int(self.starts.size)

    def __getstate__(self):  # never ship an open store (or loaded arrays) to a spawned worker
        state = dict(self.__dict__)
        state["_data"] = None
        return state

    def _load(self):
        if self.in_memory:
            self._data = ("memory", *load_period(self.info, self.lo, self.hi))
        else:
            self._data = ("zarr", open_for_reading(self.info.path))
        return self._data

    def __getitem__(self, i: int) -> dict:
        data = self._data or self._load()
        t = int(self.starts[i])
        if data[0] == "memory":
            state = data[1][t - self.lo:t - self.lo + self.steps + 1]
            forcing = data[2][t - self.lo + 1:t - self.lo + self.steps + 1]
        else:
            state, forcing = read_days(data[1], self.info, t, t + self.steps + 1)
            forcing = forcing[1:]
        return {"state": torch.from_numpy(np.ascontiguousarray(state)),
                "forcing": torch.from_numpy(np.ascontiguousarray(forcing)), "start": t}


class CubeDataModule(L.LightningDataModule):
    """Train / val / test windows of ``steps`` days from one cube."""

    def __init__(self, config: DataConfig, steps: int = 1, info: CubeInfo | None = None):
        super().__init__()
        self.config = config
        self.steps = steps
        self.info = info or describe_cube(config.cube, config.variables, config.forcing_variables)
        self._sets: dict[str, WindowDataset] = {}

    def dataset(self, stage: str) -> WindowDataset:
        if stage not in self._sets:
            period = getattr(self.config, stage)
            if period is None:
                raise ConfigError(f"data.{stage} is not set; give a period [start, end] for it")
            self._sets[stage] = WindowDataset(self.info, tuple(period), self.steps, self.config.in_memory)
        return self._sets[stage]

    def preload(self, stages: Sequence[str] = ("train", "val")) -> None:
        """Load in-memory periods now (in this process), e.g. before a timed phase starts."""
        if self.config.in_memory and self.config.num_workers == 0:
            for stage in stages:
                if getattr(self.config, stage) is not None:
                    self.dataset(stage)._load()

    def _loader(self, stage: str, shuffle: bool) -> DataLoader:
        cfg = self.config
        bs = cfg.batch_size if stage == "train" else (cfg.val_batch_size or cfg.batch_size)
        kw = {}
        if cfg.num_workers > 0:
            kw = {"multiprocessing_context": "spawn", "persistent_workers": True}
        return DataLoader(self.dataset(stage), batch_size=bs, shuffle=shuffle, num_workers=cfg.num_workers,
                          drop_last=stage == "train", **kw)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
