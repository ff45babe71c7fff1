"""Normalisation statistics: float64, per variable and level, computed lazily.

``compute_statistics`` reduces a canonical dataset (dims ``time, depth,
latitude, longitude``) over time and space, area-weighted (cos latitude) and
over ocean points only, to the mean, the standard deviation and the standard
deviation of daily tendencies (``x[t+1] - x[t]``) of every variable at every
level. The result is a lazy ``xarray.Dataset`` (``{var}_mean``, ``{var}_std``,
``{var}_tendency_std``) carrying the period it was computed on; the training
cube stores it in its ``statistics`` group.

``Statistics`` is the same numbers flattened to the model's channel order;
``normalise`` / ``denormalise`` apply them to numpy arrays or torch tensors
(torch is never imported here, so ``pipelines`` can use this module).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import xarray as xr

from ocean.errors import DataError
from ocean.levels import Levels
from ocean.variables import get as get_variable

__all__ = ["compute_statistics", "Moments", "Statistics", "channel_names", "split_channel"]

_STATS = ("mean", "std", "tendency_std")
_STD_FLOOR = 1e-6


def channel_names(variables: Sequence[str], levels: Levels | None) -> list[str]:
    """The explicit channel order: 3-D variables level by level, then 2-D ones.

    ``thetao@0.5`` is thetao at 0.5 m; a 2-D variable is its bare name.
    """
    names = []
    for v in variables:
        if get_variable(v).is_3d:
            if levels is None:
                raise ValueError(f"{v} is 3-D: levels are needed to name its channels")
            names.extend(f"{v}@{d:g}" for d in levels)
        else:
            names.append(v)
    return names


def split_channel(channel: str) -> tuple[str, float | None]:
    """``"thetao@0.5"`` -> ``("thetao", 0.5)``; ``"zos"`` -> ``("zos", None)``."""
    if "@" in channel:
        v, d = channel.split("@", 1)
        return v, float(d)
    return channel, None


def compute_statistics(ds: xr.Dataset, variables: Sequence[str] | None = None,
                       period: tuple[str, str] | None = None) -> xr.Dataset:
    """Lazy float64 statistics of ``ds`` over ``period`` (inclusive dates).

    Weights are ``cos(latitude)`` (proportional to cell area on a regular
    grid); NaN (land) is skipped. Nothing is computed until the result is
    used: call ``.compute()`` or write it.
    """
    variables = list(variables or ds.data_vars)
    if period is not None:
        ds = ds.sel(time=slice(period[0], period[1]))
    if "time" in ds.dims and ds.sizes["time"] == 0:
        raise DataError("the statistics period selects no dates", found=period,
                        expected="a period inside the data's time range")
    t = ds["time"].values if "time" in ds.dims else None
    w = np.cos(np.deg2rad(ds["latitude"])).clip(min=0.0)
    out = {}
    for v in variables:
        x = ds[v].astype(np.float64)
        dims = [d for d in ("time", "latitude", "longitude") if d in x.dims]
        out[f"{v}_mean"] = x.weighted(w).mean(dims, skipna=True)
        out[f"{v}_std"] = x.weighted(w).std(dims, skipna=True)
        if "time" in x.dims and x.sizes["time"] > 1:
            dx = x.diff("time")
            out[f"{v}_tendency_std"] = dx.weighted(w).std(dims, skipna=True)
        for s in _STATS:
            if f"{v}_{s}" in out:
                out[f"{v}_{s}"].attrs = {"units": get_variable(v).units, "statistic": s,
                                         "long_name": f"{s.replace('_', ' ')} of {v}"}
    stats = xr.Dataset(out)
    stats.attrs = {
        "period_start": str(np.datetime_as_string(t[0], unit="D")) if t is not None else "",
        "period_end": str(np.datetime_as_string(t[-1], unit="D")) if t is not None else "",
        "weighting": "cos(latitude), ocean points only",
    }
    return stats


@dataclass(frozen=True)
class Moments:
    """Weighted count, mean and sum of squared deviations per level (float64), mergeable.

    The streaming form of :func:`compute_statistics`: ``Moments.of`` reduces
    one block (``(level, ..., lat, lon)`` or ``(..., lat, lon)``, NaN
    skipped) exactly (two passes over the block); ``merge`` combines two
    with Chan's formulae, so the result does not depend on how the data
    were split and has no ``E[x^2] - E[x]^2`` cancellation. ``mean`` and
    ``std`` (population, as xarray's weighted ``std``) follow.
    """

    weight: np.ndarray
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, w: np.ndarray, levels: bool) -> "Moments":
        """Moments of ``x`` weighted by ``w`` (broadcast on ``x``), per level (first axis) if ``levels``."""
        x = np.asarray(x, dtype=np.float64)
        axes = tuple(range(1 if levels else 0, x.ndim))
        valid = ~np.isnan(x)
        wv = np.where(valid, np.broadcast_to(w, x.shape), 0.0)
        x0 = np.where(valid, x, 0.0)
        total = wv.sum(axis=axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (wv * x0).sum(axis=axes) / total
        mean = np.where(total > 0, mean, 0.0)
        dev = x0 - (mean.reshape(mean.shape + (1,) * len(axes)) if levels else mean)
        return cls(np.atleast_1d(total), np.atleast_1d(mean), np.atleast_1d((wv * dev * dev).sum(axis=axes)))

    def merge(self, other: "Moments") -> "Moments":
        n = self.weight + other.weight
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(n > 0, other.weight / n, 0.0)
            delta = other.mean - self.mean
            mean = self.mean + delta * share
            m2 = self.m2 + other.m2 + delta * delta * self.weight * share
        return Moments(n, mean, m2)

    @property
    def std(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.weight > 0, np.sqrt(np.maximum(self.m2, 0.0) / self.weight), np.nan)

    @property
    def average(self) -> np.ndarray:
        return np.where(self.weight > 0, self.mean, np.nan)


@dataclass(frozen=True)
class Statistics:
    """Statistics flattened to a channel order (float64 arrays of shape ``(C,)``)."""

    channels: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    tendency_std: np.ndarray
    period: tuple[str, str] = ("", "")
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("mean", "std", "tendency_std"):
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.shape != (len(self.channels),):
                raise ValueError(f"{name} has shape {arr.shape}, expected ({len(self.channels)},)")
            if not np.all(np.isfinite(arr)):
                bad = [c for c, a in zip(self.channels, arr) if not np.isfinite(a)]
                raise DataError(f"non-finite {name} statistics", found=bad,
                                expected="finite values (is a variable all-NaN over the period?)")
            object.__setattr__(self, name, arr)

    @classmethod
    def from_dataset(cls, stats: xr.Dataset, variables: Sequence[str], levels: Levels | None) -> "Statistics":
        """Flatten a statistics dataset (``compute_statistics`` output) to channels."""
        channels = channel_names(variables, levels)
        cols = {s: [] for s in _STATS}
        for ch in channels:
            v, depth = split_channel(ch)
            for s in _STATS:
                key = f"{v}_{s}"
                if s == "tendency_std" and key not in stats:  # a single-date dataset has no tendencies
                    key = f"{v}_std"
                if key not in stats:
                    raise DataError("statistics are missing", variable=v, found=sorted(stats.data_vars),
                                    expected=f"{v}_mean, {v}_std, {v}_tendency_std",
                                    hint="Rebuild the statistics (ocean data build computes them)")
                da = stats[key]
                if depth is not None and "depth" in da.dims:
                    da = da.sel(depth=depth, method="nearest", tolerance=0.5)
                cols[s].append(float(da.values))
        period = (str(stats.attrs.get("period_start", "")), str(stats.attrs.get("period_end", "")))
        std = np.maximum(np.asarray(cols["std"]), _STD_FLOOR)
        tstd = np.maximum(np.asarray(cols["tendency_std"]), _STD_FLOOR)
        return cls(tuple(channels), np.asarray(cols["mean"]), std, tstd, period)

    def select(self, channels: Sequence[str]) -> "Statistics":
        idx = [self.channels.index(c) for c in channels]
        return Statistics(tuple(channels), self.mean[idx], self.std[idx], self.tendency_std[idx],
                          self.period)

    def to_dict(self) -> dict:
        return {"channels": list(self.channels), "mean": self.mean.tolist(), "std": self.std.tolist(),
                "tendency_std": self.tendency_std.tolist(), "period": list(self.period)}

    @classmethod
    def from_dict(cls, d: dict) -> "Statistics":
        return cls(tuple(d["channels"]), np.asarray(d["mean"]), np.asarray(d["std"]),
                   np.asarray(d["tendency_std"]), tuple(d.get("period", ("", ""))))

    # -- apply / invert --------------------------------------------------------
    def normalise(self, x, channel_axis: int = -3):
        """``(x - mean) / std`` along ``channel_axis`` (numpy array or torch tensor)."""
        return (x - self._like(x, self.mean, channel_axis)) / self._like(x, self.std, channel_axis)

    def denormalise(self, x, channel_axis: int = -3):
        return x * self._like(x, self.std, channel_axis) + self._like(x, self.mean, channel_axis)

    def normalise_tendency(self, dx, channel_axis: int = -3):
        """Scale a tendency (difference of states) by its own std."""
        return dx / self._like(dx, self.tendency_std, channel_axis)

    def denormalise_tendency(self, dx, channel_axis: int = -3):
        return dx * self._like(dx, self.tendency_std, channel_axis)

    def _like(self, x, values: np.ndarray, channel_axis: int):
        ndim = x.ndim
        axis = channel_axis % ndim
        if x.shape[axis] != len(self.channels):
            raise ValueError(f"{x.shape[axis]} channels on axis {channel_axis}, "
                             f"statistics have {len(self.channels)}")
        shape = [1] * ndim
        shape[axis] = len(self.channels)
        if type(x).__module__.startswith("torch"):
            import torch

            return torch.as_tensor(values, dtype=x.dtype, device=x.device).reshape(shape)
        return values.astype(x.dtype, copy=False).reshape(shape)
