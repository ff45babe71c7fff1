"""Monthly ENSO fields: layout, climatology, normalisation and training windows.

xarray at the edges, tensors inside: :func:`to_array` turns a canonical
monthly dataset (``thetao (time, depth, latitude, longitude)``, ``tauuo``,
``tauvo (time, latitude, longitude)``) into ``(month, channel, lat, lon)``
float32 in the channel order of :func:`ocean.normalize.channel_names`
(``thetao@5 ... thetao@150, tauuo, tauvo``), wind stress set to NaN where
the top temperature level is land; :func:`to_dataset` is the way back.

Anomalies are taken against a monthly climatology (one mean field per
calendar month and channel) over a configurable period; they are then
divided by each channel's anomaly standard deviation
(:func:`ocean.normalize.compute_statistics`, cos-latitude weighted, ocean
points only, over the same period). Land is NaN on disk and 0 in tensors;
``mask`` (channel, lat, lon) says which cells are ocean.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ocean import variables as V
from ocean.errors import ConfigError, DataError
from ocean.grid import Grid
from ocean.levels import Levels
from ocean.normalize import Statistics, channel_names, compute_statistics

__all__ = ["VARIABLES", "Layout", "Climatology", "EnsoData", "WindowDataset", "to_array", "to_dataset",
           "month_range", "synthetic_fields", "window_starts"]

log = logging.getLogger(__name__)

VARIABLES: tuple[str, ...] = V.ENSO  # thetao, tauuo, tauvo
_LAST_NS_MONTH = pd.Timestamp("2262-03-01")


@dataclass(frozen=True)
class Layout:
    """The grid and levels of the monthly fields (and hence the channels)."""

    grid: Grid
    levels: Levels

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(channel_names(VARIABLES, self.levels))

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.shape

    @classmethod
    def from_spec(cls, grid="tropical_pacific@2", levels="enso7") -> "Layout":
        from ocean.synthetic.model import resolve_grid, resolve_levels

        return cls(resolve_grid(grid), resolve_levels(levels))


def month_range(start, months: int) -> pd.DatetimeIndex:
    """First days of ``months`` consecutive months from ``start``'s month."""
    first = pd.Timestamp(start).to_period("M").to_timestamp()
    return pd.date_range(first, periods=int(months), freq="MS")


def to_array(ds: xr.Dataset, layout: Layout, what: str = "data") -> np.ndarray:
    """``(month, channel, lat, lon)`` float32 (NaN over land) from a canonical monthly dataset."""
    missing = [v for v in VARIABLES if v not in ds]
    if missing:
        raise DataError("ENSO fields are missing", file=what, found=sorted(map(str, ds.data_vars)),
                        expected=f"{list(VARIABLES)} (monthly thetao at {list(layout.levels.depths)} m, tauuo, tauvo)")
    _check_layout(ds, layout, what)
    th = ds["thetao"].transpose("time", "depth", "latitude", "longitude").values
    land = ~np.isfinite(th[:, :1])  # stress over land is dropped, as reanalyses have it
    tx = np.where(land, np.nan, ds["tauuo"].transpose("time", "latitude", "longitude").values[:, None])
    ty = np.where(land, np.nan, ds["tauvo"].transpose("time", "latitude", "longitude").values[:, None])
    return np.concatenate([th, tx, ty], axis=1).astype(np.float32)


def _check_layout(ds: xr.Dataset, layout: Layout, what: str) -> None:
    try:
        grid = Grid.from_coords(ds["latitude"].values, ds["longitude"].values)
    except ValueError as exc:
        raise DataError(f"not on a regular grid ({exc})", file=what,
                        hint="Regrid with downstream.enso.readers.regrid first") from None
    problems = []
    if not grid.same_as(layout.grid):
        problems.append(f"the model expects grid {layout.grid.describe()}, {what} has {grid.describe()}")
    depth = ds["thetao"]["depth"].values if "depth" in ds["thetao"].dims else np.array([])
    if depth.size != len(layout.levels) or not np.allclose(depth, layout.levels.values, atol=1e-3):
        problems.append(f"the model expects levels {list(layout.levels.depths)} m, {what} has {list(map(float, depth))}")
    if problems:
        from ocean.errors import ModelMismatchError

        raise ModelMismatchError("; ".join(problems),
                                 hint="Regrid the fields (downstream.enso.readers.regrid / interpolate_levels) "
                                      "or use a model trained on this grid and these levels")


def to_dataset(array: np.ndarray, layout: Layout, coords: dict, leading: Sequence[str] = ("time",)) -> xr.Dataset:
    """The inverse of :func:`to_array`: ``(*leading, channel, lat, lon)`` -> thetao, tauuo, tauvo."""
    nz = len(layout.levels)
    dims = (*leading, "latitude", "longitude")
    cs = {**layout.grid.coords(), "depth": ("depth", layout.levels.values, layout.levels.coord_attrs()), **coords}
    return xr.Dataset({
        "thetao": ((*leading, "depth", "latitude", "longitude"), array[..., :nz, :, :], V.get("thetao").cf_attrs()),
        "tauuo": (dims, array[..., nz, :, :], V.get("tauuo").cf_attrs()),
        "tauvo": (dims, array[..., nz + 1, :, :], V.get("tauvo").cf_attrs()),
    }, coords=cs)


@dataclass(frozen=True)
class Climatology:
    """Mean field per calendar month ``(12, channel, lat, lon)`` over ``period`` (NaN over land)."""

    values: np.ndarray
    period: tuple[str, str]

    @classmethod
    def fit(cls, array: np.ndarray, times: pd.DatetimeIndex, period: tuple[str, str]) -> "Climatology":
        sel = (times >= pd.Timestamp(period[0])) & (times <= pd.Timestamp(period[1]))
        months = times.month[sel]
        if sel.sum() < 12 or len(set(months)) < 12:
            raise DataError("the climatology period does not cover every calendar month", variable="time",
                            found=f"{int(sel.sum())} months in {period[0]}..{period[1]}",
                            expected="at least one year (30 years is the WMO norm)")
        sub = array[sel]
        with warnings.catch_warnings():  # land is NaN in every month: "mean of empty slice"
            warnings.simplefilter("ignore", RuntimeWarning)
            values = np.stack([np.nanmean(sub[months == m], axis=0) if np.any(months == m) else np.nan
                               for m in range(1, 13)]).astype(np.float32)
        return cls(values, (str(period[0]), str(period[1])))

    def at(self, times: pd.DatetimeIndex) -> np.ndarray:
        return self.values[np.asarray(times.month) - 1]

    def anomalies(self, array: np.ndarray, times: pd.DatetimeIndex) -> np.ndarray:
        return array - self.at(times)

    def absolute(self, anomalies: np.ndarray, times: pd.DatetimeIndex) -> np.ndarray:
        return anomalies + self.at(times)


def synthetic_fields(layout: Layout, start="1850-01", months: int = 12, seed: int = 0) -> xr.Dataset:
    """Monthly ENSO fields of the synthetic ocean's recharge oscillator on ``layout``."""
    from ocean.synthetic import SyntheticOcean

    last = month_range(start, months)[-1] if pd.Timestamp(start) < _LAST_NS_MONTH else pd.Timestamp.max
    if last > _LAST_NS_MONTH:
        raise ConfigError(f"synthetic ENSO months must end before {_LAST_NS_MONTH:%Y-%m} (nanosecond dates); "
                          f"found start {start} + {months} months; start earlier (the run begins in 1850)")
    log.info("synthetic ENSO fields: %d months from %s (seed %d) on %s", months, start, seed,
             layout.grid.describe())
    return SyntheticOcean(layout.grid, levels=layout.levels, seed=seed).enso_monthly(
        start, months, grid=layout.grid, levels=layout.levels)


def window_starts(times: pd.DatetimeIndex, period: tuple[str, str], length: int, stride: int = 1) -> np.ndarray:
    """Indices ``i`` whose window ``times[i:i+length]`` lies inside ``period`` (consecutive months)."""
    inside = np.flatnonzero((times >= pd.Timestamp(period[0])) & (times <= pd.Timestamp(period[1])))
    if inside.size < length:
        return np.zeros(0, dtype=np.int64)
    starts = np.arange(inside[0], inside[-1] - length + 2, stride)
    return starts[(starts + length - 1 <= inside[-1])]


class EnsoData:
    """Normalised anomalies of a monthly series, ready for windows (tensors inside)."""

    def __init__(self, fields: xr.Dataset, layout: Layout, climatology: Climatology | None = None,
                 statistics: Statistics | None = None, climatology_period: tuple[str, str] | None = None):
        self.layout = layout
        self.times = pd.DatetimeIndex(fields["time"].values)
        _check_monthly(self.times)
        raw = to_array(fields, layout)
        if climatology is None:
            if climatology_period is None:
                raise ConfigError("give a climatology or a climatology period")
            climatology = Climatology.fit(raw, self.times, climatology_period)
        self.climatology = climatology
        anomalies = climatology.anomalies(raw, self.times)
        if statistics is None:
            statistics = anomaly_statistics(anomalies, self.times, layout, climatology.period)
        self.statistics = statistics
        self.mask = np.isfinite(raw).all(axis=0)  # (c, h, w) ocean in every month
        normed = statistics.normalise(anomalies, channel_axis=1)
        self.values = torch.from_numpy(np.where(self.mask[None], normed, 0.0).astype(np.float32))

    def nino34_weights(self) -> np.ndarray:
        """cos-lat weights over the Nino3.4 box on ocean points, summing to 1 ``(lat, lon)``."""
        from ocean.indices import NINO34

        g = self.layout.grid
        inside = NINO34.contains(g.lat[:, None], g.lon[None, :]) & self.mask[0]
        w = np.cos(np.deg2rad(g.lat))[:, None] * inside
        return (w / w.sum()).astype(np.float32)


def anomaly_statistics(anomalies: np.ndarray, times: pd.DatetimeIndex, layout: Layout,
                       period: tuple[str, str]) -> Statistics:
    """Per-channel statistics of the anomalies over ``period`` (:func:`ocean.normalize.compute_statistics`)."""
    ds = to_dataset(anomalies, layout, {"time": ("time", times.values)})
    stats = compute_statistics(ds, VARIABLES, period).compute()
    stats.attrs.update(period_start=str(period[0]), period_end=str(period[1]))
    return Statistics.from_dataset(stats, VARIABLES, layout.levels)


def _check_monthly(times: pd.DatetimeIndex) -> None:
    expected = pd.date_range(times[0], periods=times.size, freq="MS") if times.size else times
    if times.size and (times[0].day != 1 or not times.equals(expected)):
        raise DataError("not a consecutive monthly series", variable="time",
                        found=f"{times.size} times from {times[0]} to {times[-1]}",
                        expected="one record per month, stamped on the first day (resample('MS') first)")


class WindowDataset(torch.utils.data.Dataset):
    """``(inputs, targets)`` windows: ``input_months`` then ``output_months`` consecutive months."""

    def __init__(self, data: EnsoData, starts: np.ndarray, input_months: int, output_months: int):
        if len(starts) == 0:
            raise ConfigError(f"no {input_months + output_months}-month window fits in the chosen period; "
                              "choose a longer period")
        self.data, self.starts = data, np.asarray(starts)
        self.n_in, self.n_out = input_months, output_months

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        s = int(self.starts[i])
        window = self.data.values[s:s + self.n_in + self.n_out]
        return window[:self.n_in], window[self.n_in:]
