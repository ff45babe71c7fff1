"""Normalisation statistics of a cube over the recipe's period.

``ocean.normalize.compute_statistics`` gives the float64 mean and standard
deviation per variable and level, and the standard deviation of daily
tendencies. Two things are added here:

* days whose values were persisted from an earlier day (missing-data
  policy ``persist``) are left out: they would bias the spread and add
  zero tendencies;
* tendencies are only taken between consecutive days: across a hole in
  the time axis (policy ``skip``) a difference is not a daily tendency.
  With no consecutive pair in the period there is no ``tendency_std``
  (readers then use the ``std``, as ``Statistics.from_dataset`` does).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Sequence

import numpy as np
import xarray as xr

from ocean import variables as V
from ocean.errors import DataError
from ocean.normalize import compute_statistics

__all__ = ["cube_statistics", "statistics_variables"]

_DAY = np.timedelta64(1, "D")
#: Cubes (within the period) up to this size are reduced in memory, larger ones chunk by chunk.
IN_MEMORY_BYTES = 256 * 2**20


def statistics_variables(ds: xr.Dataset) -> list[str]:
    """Catalogue variables with a time axis (observation counts are not normalised)."""
    return [str(v) for v in ds.data_vars if v in V.CATALOGUE and "time" in ds[v].dims]


def cube_statistics(ds: xr.Dataset, period: tuple[dt.date, dt.date], exclude: Sequence[str] = ()) -> xr.Dataset:
    """Lazy statistics of ``ds`` over ``period`` without the ``exclude`` days."""
    sel = ds.sel(time=slice(str(period[0]), str(period[1])))
    drop = [t for t in np.asarray(list(exclude), dtype="datetime64[ns]") if t in sel["time"].values]
    if drop:
        sel = sel.drop_sel(time=drop)
    if sel.sizes["time"] == 0:
        raise DataError("the statistics period holds no written day", found=f"{period[0]}..{period[1]}",
                        expected="a period overlapping the cube's days (persisted days are left out)")
    variables = statistics_variables(sel)
    if sel[variables].nbytes <= IN_MEMORY_BYTES:  # small: numpy beats a graph of tiny tasks
        sel = sel[variables].load()
    stats = compute_statistics(sel, variables)
    steps = np.diff(sel["time"].values).astype("timedelta64[D]")
    if steps.size and np.any(steps != _DAY):
        consecutive = xr.DataArray(steps == _DAY, dims="time", coords={"time": sel["time"].values[1:]})
        w = np.cos(np.deg2rad(sel["latitude"])).clip(min=0.0)
        for v in variables:
            name = f"{v}_tendency_std"
            if not consecutive.any():
                stats = stats.drop_vars(name, errors="ignore")
                continue
            x = sel[v].astype(np.float64)
            dims = [d for d in ("time", "latitude", "longitude") if d in x.dims]
            tend = x.diff("time").where(consecutive).weighted(w).std(dims, skipna=True)
            stats[name] = tend.assign_attrs(stats[name].attrs if name in stats else {
                "units": V.get(v).units, "statistic": "tendency_std", "long_name": f"tendency std of {v}"})
    stats.attrs.update({
        "excluded_days": json.dumps([str(d)[:10] for d in drop]),
        "tendency": "differences of consecutive days only",
    })
    return stats
