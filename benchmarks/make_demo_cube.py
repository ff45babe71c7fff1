"""Build the demo training cube straight from the synthetic ocean (no producer files).

The synthetic ocean on the global 4-degree grid at the 15 default levels,
daily, written as a training cube (``ocean.cube.write_cube``) with float64
statistics computed on the training period only. This bypasses the
producer-format files and ``ocean data build`` (whose synthetic recipe was
not available when the demo model was trained); the cube has the same
layout and metadata contract.

    python benchmarks/make_demo_cube.py --out outputs/demo/cube.zarr \
        --start 2000-01-01 --end 2007-12-31 --stats-end 2005-12-31

Years are generated in parallel processes (``--workers``); prints the
figures (days, size, seconds).
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr


def _year(args) -> xr.Dataset:
    start, end, seed = args
    from ocean.levels import DEFAULT
    from ocean.synthetic import SyntheticOcean

    so = SyntheticOcean("4deg", levels=DEFAULT, seed=seed)
    dates = pd.date_range(start, end, freq="D")
    return xr.merge([so.physics(dates), so.forcing(dates)], combine_attrs="drop_conflicts")


def build(out: Path, start: str, end: str, stats_end: str, seed: int = 0, workers: int = 2) -> dict:
    from ocean.cube import write_cube
    from ocean.levels import DEFAULT
    from ocean.normalize import compute_statistics
    from ocean.synthetic import SyntheticOcean

    t0 = time.perf_counter()
    edges = pd.date_range(start, end, freq="YS").union([pd.Timestamp(start)])
    spans = [(str(a.date()), str(min(pd.Timestamp(end), b - pd.Timedelta(days=1)).date()), seed)
             for a, b in zip(edges, list(edges[1:]) + [pd.Timestamp(end) + pd.Timedelta(days=1)])]
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_year, spans))
    ds = xr.concat(parts, dim="time", data_vars="all", coords="minimal", compat="override",
                   combine_attrs="drop_conflicts")
    static = SyntheticOcean("4deg", levels=DEFAULT, seed=seed).static()
    ds = ds.assign(mask=static["mask"], deptho=static["deptho"])
    t_gen = time.perf_counter() - t0
    physics = [v for v in ("thetao", "so", "uo", "vo", "zos", "u10", "v10", "t2m", "msl", "sp")]
    stats = compute_statistics(ds[physics], period=(start, stats_end)).compute()
    recipe = {"name": "synthetic_4deg_demo", "source": "ocean.synthetic.SyntheticOcean", "grid": "4deg",
              "levels": "aigoms15", "seed": seed, "start": start, "end": end,
              "statistics_period": [start, stats_end], "builder": "benchmarks/make_demo_cube.py"}
    write_cube(ds, out, statistics=stats, attrs={"recipe": json.dumps(recipe),
                                                 "sources": json.dumps([{"source": "synthetic", "seed": seed}])},
               overwrite=True)
    size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    return {"days": int(ds.sizes["time"]), "generate_s": round(t_gen, 1),
            "total_s": round(time.perf_counter() - t0, 1), "size_mb": round(size / 1e6, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--start", default="2000-01-01")
    p.add_argument("--end", default="2007-12-31")
    p.add_argument("--stats-end", default="2005-12-31", help="statistics over start..stats-end (training period)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    figures = build(Path(a.out), a.start, a.end, a.stats_end, a.seed, a.workers)
    print(json.dumps(figures))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
