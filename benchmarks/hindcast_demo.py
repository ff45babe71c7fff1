"""Hindcast of the shipped demo model: 52 weekly inits x 30 leads on the demo grid, scored over 2007.

    nice .venv/bin/python benchmarks/hindcast_demo.py --cube outputs/demo/cube.zarr --out outputs/demo/hindcast

The demo cube (benchmarks/make_demo_cube.py; statistics 2000-2005, training
2000-2005, validation 2006, 2007 held out) is the reference. The 52 weekly
inits run from 2006-12-09 to 2007-12-01, so every valid day (2006-12-10 ..
2007-12-31) lies outside the training period and all 30 leads stay inside
the cube. Prints:

* wall time and peak RSS of (1) the first run: forecast generation, the
  climatology fit and scoring (each phase's wall time); (2) a second run,
  which reuses the forecasts and the cached climatology: scoring and outputs
  alone. Each run is its own process, so each peak RSS is its own;
* the ratio of our scoring (``partial_scores`` + ``combine_scores``: RMSE and
  bias, every region) to direct ``xskillscore.rmse`` + ``xskillscore.me``
  calls, per region, on the same already aligned, loaded arrays (the model's
  52 x 30 forecasts against the cube), and the largest difference between the
  two (goal: ratio <= 1.5);
* the demo model's scorecard summary: global RMSE and ACC of the model,
  persistence and climatology at leads 1, 5, 10 and 30 for thetao at 0.5 m
  and 100 m, zos and uo at 0.5 m.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HEADLINE = [("thetao", 0.5), ("thetao", 100.0), ("zos", None), ("uo", 0.5)]
REGIONS = ("global", "tropics", "kuroshio", "gulf_stream", "nino34")


def _child(cube: str, out: str, start: str, end: str) -> None:
    """One hindcast run; prints its timings and peak RSS as JSON on the last line."""
    import resource

    from ocean.workflows.hindcast import HindcastRequest, run_hindcast

    t0 = time.perf_counter()
    res = run_hindcast(HindcastRequest(cube=Path(cube), start=start, end=end, every="7D", leads=30, out=Path(out)))
    print(json.dumps({"wall_s": time.perf_counter() - t0, "timings": res.timings, "forecasts": res.forecasts,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _run(args, label: str) -> dict:
    cmd = [sys.executable, __file__, "--child", "--cube", args.cube, "--out", args.out, "--start", args.start,
           "--end", args.end]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{label} failed ({proc.returncode})")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    t = res["timings"]
    print(f"{label}: wall {res['wall_s']:.0f} s, peak RSS {res['peak_rss_mib']:.0f} MiB; forecasts "
          f"{t['forecasts']:.0f} s ({res['forecasts']}), climatology {t['climatology']:.0f} s, scoring "
          f"{t['scoring']:.0f} s, outputs {t['total'] - t['forecasts'] - t['climatology'] - t['scoring']:.0f} s",
          flush=True)
    return res


def ratio_to_xskillscore(args) -> None:
    """Our pooled RMSE + bias against direct xskillscore calls on the same loaded, aligned arrays."""
    import pandas as pd
    import xskillscore as xs

    from ocean.metrics import _SPACE, align_reference, combine_scores, partial_scores, region_masks, weights
    from ocean.workflows.hindcast import _fast_reader, _load_forecasts
    from ocean.forecast_store import forecast_path

    inits = pd.date_range(args.start, args.end, freq="7D")
    paths = [forecast_path(Path(args.out) / "forecasts", i) for i in inits]
    cube = _fast_reader(args.cube)
    ours_s = direct_s = 0.0
    worst = 0.0
    for v in ("thetao", "so", "uo", "vo", "zos"):
        f = _load_forecasts(paths, [v], 30)
        r = align_reference(f, cube[[v]].sel(time=np.unique(f.valid_time.values.ravel())).load()).load()
        masks = region_masks(f, REGIONS)
        t0 = time.perf_counter()
        ours = combine_scores([partial_scores(f, r, None, masks, [v])])[v]
        ours_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        dims = ["init_time", *_SPACE]
        direct = []
        for name in REGIONS:
            wt = (weights(f["latitude"]) * masks.sel(region=name, drop=True)).expand_dims(init_time=f["init_time"])
            direct.append(xr_concat([xs.rmse(f[v], r[v], dim=dims, weights=wt, skipna=True),
                                     xs.me(f[v], r[v], dim=dims, weights=wt, skipna=True)]))
        direct_s += time.perf_counter() - t0
        for k, name in enumerate(REGIONS):
            a = ours.sel(region=name, metric=["rmse", "bias"]).values
            worst = max(worst, float(np.nanmax(np.abs(a - direct[k].values.reshape(a.shape)))))
        print(f"  {v}: ours {ours_s:.1f} s, xskillscore {direct_s:.1f} s (cumulative)", flush=True)
        del f, r
    print(f"scoring ratio ours / xskillscore (RMSE + bias, {len(REGIONS)} regions, {len(inits)} inits x 30 leads, "
          f"loaded arrays): {ours_s:.1f} s / {direct_s:.1f} s = {ours_s / direct_s:.2f} (goal <= 1.5); "
          f"largest difference {worst:.2e}")


def xr_concat(items):
    import xarray as xr

    return xr.concat(items, dim="metric")


def summary(args) -> None:
    from ocean.scorecard import summary_table
    from ocean.workflows.hindcast import open_hindcast

    m = open_hindcast(args.out)
    print("\nDemo model scorecard (global; model vs persistence vs climatology):")
    print(summary_table(m, headline=HEADLINE, leads=(1, 5, 10, 30)))
    print(summary_table(m, headline=HEADLINE, leads=(1, 5, 10, 30), metric="acc"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cube", default="outputs/demo/cube.zarr")
    p.add_argument("--out", default="outputs/demo/hindcast")
    p.add_argument("--start", default="2006-12-09")
    p.add_argument("--end", default="2007-12-01")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--skip-ratio", action="store_true")
    args = p.parse_args()
    if args.child:
        _child(args.cube, args.out, args.start, args.end)
        return 0
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)", flush=True)
    _run(args, "run 1 (forecasts, climatology, scoring)")
    _run(args, "run 2 (forecasts and climatology reused: scoring and outputs)")
    if not args.skip_ratio:
        ratio_to_xskillscore(args)
    summary(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
