"""Kill `ocean forecast` at random points during its write, many times.

After every kill the output root must hold either no forecast or a whole one
(every lead finite over the ocean), and a final rerun must complete. Prints
one line per trial and a summary; exits non-zero on any violation.

    python benchmarks/forecast_kill_trials.py --trials 25 [--model MODEL_DIR] [--leads 30]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

from ocean.forecast_store import list_forecasts


def _cmd(out: Path, args) -> list[str]:
    cmd = [sys.executable, "-m", "ocean.cli", "-q", "forecast", "--init", args.init, "--out", str(out),
           "--leads", str(args.leads), "--no-quicklooks", "--force"]
    return cmd + (["--model", args.model] if args.model else [])


def _check(out: Path, leads: int) -> str:
    stores = list_forecasts(out)
    if not stores:
        return "absent"
    ds = xr.open_zarr(stores[0])
    zos = ds["zos"].values
    if ds.sizes["lead_time"] != leads or not np.isfinite(zos).any(axis=(-1, -2)).all():
        raise SystemExit(f"VIOLATION: a visible partial forecast in {stores[0]}")
    return "complete"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=25)
    p.add_argument("--model", default=None, help="model directory (default: the shipped demo model)")
    p.add_argument("--init", default="2020-03-01")
    p.add_argument("--leads", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    out = Path(tempfile.mkdtemp(prefix="kill-trials-"))
    t0 = time.perf_counter()
    subprocess.run(_cmd(out, args), check=True)
    full = time.perf_counter() - t0
    print(f"one uninterrupted run: {full:.1f} s; killing at uniform random times in [0.2, {full:.1f}] s")
    rng = np.random.default_rng(args.seed)
    seen = {"absent": 0, "complete": 0}
    for i, delay in enumerate(rng.uniform(0.2, full, size=args.trials)):
        if i % 2:  # every other trial starts with no published forecast
            for store in list_forecasts(out):
                shutil.rmtree(store)
        proc = subprocess.Popen(_cmd(out, args), stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        time.sleep(delay)
        proc.kill()
        proc.wait()
        state = _check(out, args.leads)
        seen[state] += 1
        print(f"trial {i + 1:2d}: killed after {delay:5.2f} s -> forecast {state}")
    rc = subprocess.run(_cmd(out, args), stdout=subprocess.DEVNULL).returncode
    final = _check(out, args.leads)
    print(f"{args.trials} kills: {seen['complete']} showed a whole forecast, {seen['absent']} none; "
          f"0 partial. Rerun exit code {rc}, forecast {final}.")
    return 0 if rc == 0 and final == "complete" else 1


if __name__ == "__main__":
    sys.exit(main())
