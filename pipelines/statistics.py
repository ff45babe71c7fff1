"""Normalisation statistics of a cube over the recipe's period, in one streaming pass.

The numbers are those of ``ocean.normalize.compute_statistics``: float64
mean and standard deviation per variable and level, cos-latitude weighted
over ocean points (NaN skipped), and the standard deviation of daily
tendencies. Two things are added here:

* days whose values were persisted from an earlier day (missing-data
  policy ``persist``) are left out: they would bias the spread and add
  zero tendencies;
* tendencies are only taken between consecutive days: across a hole in
  the time axis (policy ``skip``, or a persisted day left out) a
  difference is not a daily tendency. With no consecutive pair in the
  period there is no ``tendency_std`` (readers then use the ``std``, as
  ``Statistics.from_dataset`` does).

How: the period's days are cut into spans of :data:`SPAN_DAYS`; one task
per span reads its days one variable at a time (one shard per read, plus
the day before the span for its first tendency) and reduces each day to
:class:`ocean.normalize.Moments` (weight, mean, sum of squared deviations
per level), merged with Chan's formulae. Memory is two days of one
variable per task; the cube is read once; the spans run on the build's
scheduler. The spans do not depend on the workers or the write batches,
so the result is the same bit for bit however the cube was written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Sequence

import dask
import numpy as np
import xarray as xr

from ocean import variables as V
from ocean.errors import DataError
from ocean.normalize import Moments
from pipelines.compute import fast_zarr

__all__ = ["cube_statistics", "statistics_variables", "SPAN_DAYS"]

_DAY = np.timedelta64(1, "D")
#: Days per statistics task.
SPAN_DAYS = 64


def statistics_variables(ds: xr.Dataset) -> list[str]:
    """Catalogue variables with a time axis (observation counts are not normalised)."""
    return [str(v) for v in ds.data_vars if v in V.CATALOGUE and "time" in ds[v].dims]


def cube_statistics(cube: "xr.Dataset | str | os.PathLike", period: tuple[dt.date, dt.date],
                    exclude: Sequence[str] = ()) -> xr.Dataset:
    """Statistics of ``cube`` (a Zarr store's path, read shard by shard, or a dataset) over
    ``period`` without the ``exclude`` days; computed now, on the current dask scheduler."""
    path = None if isinstance(cube, xr.Dataset) else Path(cube)
    ds = xr.open_zarr(path, consolidated=None) if path is not None else cube
    times = ds["time"].values.astype("datetime64[ns]")
    lo, hi = np.datetime64(str(period[0]), "ns"), np.datetime64(str(period[1]) + "T23:59:59", "ns")
    dropped = set(np.asarray(list(exclude), dtype="datetime64[ns]").tolist())
    inside = np.nonzero((times >= lo) & (times <= hi))[0]
    drop = [int(i) for i in inside if times[i].tolist() in dropped]
    kept = [int(i) for i in inside if times[i].tolist() not in dropped]
    if not kept:
        raise DataError("the statistics period holds no written day", found=f"{period[0]}..{period[1]}",
                        expected="a period overlapping the cube's days (persisted days are left out)")
    # for every kept day, the kept day before it when that is the previous calendar day (else -1)
    prev = [-1] + [a if times[b] - times[a] == _DAY else -1 for a, b in zip(kept, kept[1:])]
    variables = statistics_variables(ds)
    source = str(path) if path is not None else ds[variables]
    weights = np.cos(np.deg2rad(ds["latitude"].values.astype(np.float64))).clip(min=0.0)[:, None]
    three_d = {v: "depth" in ds[v].dims for v in variables}
    spans = [dask.delayed(_span_moments, pure=True)(source, variables, three_d, kept[i:i + SPAN_DAYS],
                                                    prev[i:i + SPAN_DAYS], weights)
             for i in range(0, len(kept), SPAN_DAYS)]
    parts = dask.compute(*spans) if len(spans) > 1 else [dask.compute(spans[0])[0]]
    total = parts[0]
    for part in parts[1:]:
        total = {v: tuple(_merge(a, b) for a, b in zip(total[v], part[v])) for v in variables}
    stats = _dataset(total, ds, three_d)
    stats.attrs = {
        "period_start": str(times[kept[0]])[:10], "period_end": str(times[kept[-1]])[:10],
        "weighting": "cos(latitude), ocean points only",
        "excluded_days": json.dumps([str(times[i])[:10] for i in drop]),
        "tendency": "differences of consecutive days only",
    }
    return stats


def _merge(a: Moments | None, b: Moments | None) -> Moments | None:
    return b if a is None else a if b is None else a.merge(b)


def _span_moments(source, variables: list[str], three_d: dict, days: list[int], prev: list[int],
                  weights: np.ndarray) -> dict[str, tuple[Moments | None, Moments | None]]:
    """(values, tendencies) moments of each variable over ``days`` (cube indices)."""
    read = _reader(source)
    out = {}
    for v in variables:
        values = tendency = None
        last_t, last = None, None
        for t, p in zip(days, prev):
            x = read(v, t).astype(np.float64)
            values = _merge(values, Moments.of(x, weights, three_d[v]))
            if p >= 0:
                before = last if p == last_t else read(v, p).astype(np.float64)
                tendency = _merge(tendency, Moments.of(x - before, weights, three_d[v]))
            last_t, last = t, x
        out[v] = (values, tendency)
    return out


def _reader(source):
    """``read(variable, time_index) -> numpy``: a whole shard from the store, or a day of a dataset."""
    if isinstance(source, xr.Dataset):
        return lambda v, t: np.asarray(source[v].isel(time=t).values)
    import zarr

    group = zarr.open_group(source, mode="r")
    arrays: dict[str, object] = {}

    def read(v: str, t: int) -> np.ndarray:
        if v not in arrays:
            arrays[v] = group[v]
        with fast_zarr():
            return np.asarray(arrays[v][t])

    return read


def _dataset(total: dict, ds: xr.Dataset, three_d: dict) -> xr.Dataset:
    out = {}
    for v, (values, tendency) in total.items():
        for stat, m, fn in (("mean", values, "average"), ("std", values, "std"), ("tendency_std", tendency, "std")):
            if m is None:
                continue
            data = getattr(m, fn)
            attrs = {"units": V.get(v).units, "statistic": stat, "long_name": f"{stat.replace('_', ' ')} of {v}"}
            if three_d[v]:
                out[f"{v}_{stat}"] = xr.DataArray(data, dims="depth", coords={"depth": ds["depth"]}, attrs=attrs)
            else:
                out[f"{v}_{stat}"] = xr.DataArray(data[0], attrs=attrs)
    return xr.Dataset(out)
