"""Training samples for heads: backbone inputs from the backbone's own cube, cached features.

A head sample is a *target day* ``t``. The backbone's step that produces day
``t`` reads the state of day ``t - 1`` and the forcing of day ``t``; its
decoder features are what the head sees, together with the (coarse) state of
day ``t`` and the head's own inputs and targets. :func:`backbone_samples`
reads those from the backbone's cube, normalised with the *backbone's*
statistics (the cube is checked against the backbone's variables, levels and
grid first), a block of days at a time:

* frozen backbone (no PEFT): features are computed once per day, reduced by
  the head's ``select_features`` and kept (``features``), so training never
  runs the backbone again;
* with PEFT: the global inputs are kept (``backbone_state``,
  ``backbone_forcing``) and the backbone runs in every training step.

:class:`ArrayDataModule` serves any dict of equally long arrays as batches.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Callable, Iterator, Mapping, Sequence

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from backbone.data import CubeInfo, describe_cube, open_for_reading, period_indices, read_days
from downstream.frozen import FrozenBackbone
from ocean.checkpoint import check_compatible
from ocean.errors import ConfigError

__all__ = ["open_backbone_cube", "target_days", "iter_blocks", "backbone_samples", "ArrayDataset",
           "ArrayDataModule"]

log = logging.getLogger(__name__)


def open_backbone_cube(backbone: FrozenBackbone, path: str) -> CubeInfo:
    """The backbone's cube, checked against the backbone and normalised with its statistics."""
    meta = backbone.metadata
    info = describe_cube(path, meta.variables, meta.forcing_variables)
    check_compatible(meta, variables=info.variables, levels=info.levels, grid=info.grid,
                     forcing_variables=info.forcing_variables, what=f"cube {path}")
    return dataclasses.replace(info, statistics=backbone.forecaster.statistics,
                               forcing_statistics=meta.forcing_statistics)


def target_days(info: CubeInfo, period: Sequence[str]) -> np.ndarray:
    """Cube indices of the days in ``period`` whose previous day is in the cube too."""
    lo, hi = period_indices(info.times, tuple(period), info.path)
    idx = np.arange(max(lo, 1), hi)
    step = (info.times[idx] - info.times[idx - 1]).astype("timedelta64[h]").astype(int)
    idx = idx[step == 24]
    if idx.size == 0:
        raise ConfigError(f"period {period[0]}..{period[1]} has no day whose previous day is in the cube "
                          f"{info.path}; lengthen it")
    return idx


def iter_blocks(info: CubeInfo, days: np.ndarray, block: int = 64
                ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(days, previous state, forcing, state)`` normalised, for runs of consecutive target days."""
    ds = open_for_reading(info.path)
    runs = np.split(days, np.nonzero(np.diff(days) != 1)[0] + 1)
    for run in runs:
        for b0 in range(0, run.size, block):
            part = run[b0:b0 + block]
            state, forcing = read_days(ds, info, int(part[0]) - 1, int(part[-1]) + 1)
            yield part, state[:-1], forcing[1:], state[1:]


def backbone_samples(backbone: FrozenBackbone, info: CubeInfo, days: np.ndarray, *,
                     state_view: Callable[[np.ndarray], np.ndarray],
                     select_features: Callable[[torch.Tensor], torch.Tensor],
                     batch_size: int = 16,
                     forcing_view: Callable[[np.ndarray], np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Arrays over ``days``: ``state`` (``state_view`` of the normalised day-t state) and either
    ``features`` (cached, frozen backbone) or ``backbone_state``/``backbone_forcing`` (PEFT); with
    ``forcing_view`` also ``forcing`` (that view of the normalised day-t forcing)."""
    t0 = time.perf_counter()
    out: dict[str, list] = {"state": []}
    cache = not backbone.peft.enabled
    for i, (part, prev, forcing, state) in enumerate(iter_blocks(info, days)):
        out["state"].append(state_view(state))
        if forcing_view is not None:
            out.setdefault("forcing", []).append(forcing_view(forcing))
        if cache:
            feats = []
            for s in range(0, part.size, batch_size):
                x = torch.from_numpy(prev[s:s + batch_size])
                f = torch.from_numpy(forcing[s:s + batch_size])
                feats.append(select_features(backbone.features(x, f)).numpy())
            out.setdefault("features", []).append(np.concatenate(feats))
        else:
            out.setdefault("backbone_state", []).append(prev)
            out.setdefault("backbone_forcing", []).append(forcing)
        if i % 8 == 0:
            log.info("backbone samples: %d days read (%.0f s)", sum(len(s) for s in out["state"]),
                     time.perf_counter() - t0)
    arrays = {k: np.concatenate(v) for k, v in out.items()}
    arrays["time_index"] = days.astype(np.int64)
    log.info("backbone samples: %d days from %s in %.0f s (%s)", days.size, info.path, time.perf_counter() - t0,
             "features cached" if cache else "backbone inputs kept (PEFT)")
    return arrays


class ArrayDataset(Dataset):
    """Samples ``{name: array[i]}`` from a dict of arrays with a common first axis."""

    def __init__(self, arrays: Mapping[str, np.ndarray]):
        sizes = {k: len(v) for k, v in arrays.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"arrays of different lengths: {sizes}")
        self.arrays = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
        self.n = next(iter(sizes.values()))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        return {k: v[i] for k, v in self.arrays.items()}


class ArrayDataModule(L.LightningDataModule):
    """Train / val :class:`ArrayDataset` s, in memory, no workers (the arrays are small)."""

    def __init__(self, train: Mapping[str, np.ndarray], val: Mapping[str, np.ndarray], batch_size: int,
                 val_batch_size: int | None = None):
        super().__init__()
        self.train_set, self.val_set = ArrayDataset(train), ArrayDataset(val)
        self.batch_size, self.val_batch_size = batch_size, val_batch_size or batch_size

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=min(self.batch_size, len(self.train_set)), shuffle=True,
                          drop_last=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.val_batch_size, shuffle=False)
