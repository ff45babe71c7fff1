"""A regional fine-resolution truth cube from the synthetic ocean (the head's training targets).

The synthetic ocean is analytic on any grid (docs/synthetic.md), so the fine
truth is simply the ocean evaluated on the head's fine grid: eddies, the
0.8 degree wide Kuroshio front and its meanders, coastlines, and the
bathymetry-steered small-scale anomalies tied to ``deptho``. Its coarse
counterpart is the backbone's own cube (the same ocean on the coarse grid),
exactly as a 1/12 degree reanalysis cube pairs with the 1/4 degree cube built
from it. Written with :func:`ocean.cube.write_cube` (statistics over the
training period only)::

    synthetic_truth_cube("truth.zarr", grid=geometry.fine, levels="aigoms15",
                         start="2000-01-01", end="2007-12-31", stats_end="2005-12-31")
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ocean.grid import Grid

__all__ = ["synthetic_truth_cube"]

log = logging.getLogger(__name__)


def _physics(args) -> xr.Dataset:
    grid, levels, seed, start, end = args
    from ocean.synthetic import SyntheticOcean

    np.seterr(all="ignore")
    return SyntheticOcean(Grid.from_dict(grid), levels=levels, seed=seed).physics(pd.date_range(start, end))


def synthetic_truth_cube(out: "str | os.PathLike", *, grid: Grid, levels, start: str, end: str,
                         stats_end: str | None = None, seed: int = 0, workers: int = 1,
                         overwrite: bool = False) -> dict:
    """Write the synthetic ocean's physics, ``deptho`` and ``mask`` on ``grid`` as a cube; returns figures."""
    from ocean.cube import write_cube
    from ocean.normalize import compute_statistics
    from ocean.synthetic import SyntheticOcean

    t0 = time.perf_counter()
    ocean = SyntheticOcean(grid, levels=levels, seed=seed)
    edges = pd.date_range(start, end, freq="YS").union([pd.Timestamp(start)])
    spans = [(grid.to_dict(), ocean.levels, seed, str(a.date()),
              str(min(pd.Timestamp(end), b - pd.Timedelta(days=1)).date()))
             for a, b in zip(edges, list(edges[1:]) + [pd.Timestamp(end) + pd.Timedelta(days=1)])]
    if workers > 1 and len(spans) > 1:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_physics, spans))
    else:
        parts = [_physics(s) for s in spans]
    ds = xr.concat(parts, dim="time", data_vars="all", coords="minimal", compat="override",
                   combine_attrs="drop_conflicts")
    static = ocean.static()
    ds = ds.assign(mask=static["mask"], deptho=static["deptho"])
    period = (start, stats_end or end)
    stats = compute_statistics(ds[[v for v in ("thetao", "so", "uo", "vo", "zos") if v in ds]],
                               period=period).compute()
    recipe = {"name": f"synthetic_truth_{grid.name}", "source": "ocean.synthetic.SyntheticOcean",
              "grid": grid.to_dict(), "levels": ocean.levels.to_dict(), "seed": seed, "start": start, "end": end,
              "statistics_period": list(period), "builder": "downstream.downscaling.truth.synthetic_truth_cube"}
    write_cube(ds, out, statistics=stats, overwrite=overwrite,
               attrs={"recipe": json.dumps(recipe), "sources": json.dumps([{"source": "synthetic", "seed": seed}])})
    figures = {"days": int(ds.sizes["time"]), "grid": grid.describe(), "seconds": round(time.perf_counter() - t0, 1),
               "size_mb": round(sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file()) / 1e6, 1)}
    log.info("synthetic truth cube %s: %s", out, figures)
    return figures
