"""Wall time and peak memory of the demo forecast (the embedded default), and what
the `aigoms` model at 1/4 degree would cost per daily run on this machine.

    python benchmarks/forecast_demo.py [--runs 3] [--aigoms-seconds-per-step 95.6]

Each run is a fresh `ocean forecast` process (30 leads, synthetic initial state,
the shipped demo model); peak RSS is the child's maximum resident set size.
The aigoms figure multiplies the CPU forward time per step measured by
benchmarks/backbone_throughput.py by 30 steps.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--init", default="2021-03-01")
    p.add_argument("--aigoms-seconds-per-step", type=float, default=None,
                   help="CPU forward time per step of `aigoms` from benchmarks/backbone_throughput.py")
    args = p.parse_args()
    walls = []
    for _ in range(args.runs):
        out = tempfile.mkdtemp(prefix="demo-forecast-")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ocean.cli", "-q", "forecast", "--init", args.init, "--out", out],
                       check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"demo forecast (4 deg, 15 levels, 30 leads, quicklooks included), {args.runs} runs:")
    print(f"  wall time: min {min(walls):.1f} s, median {sorted(walls)[len(walls) // 2]:.1f} s (process start included)")
    print(f"  peak RSS:  {rss:.0f} MiB")
    if args.aigoms_seconds_per_step:
        total = 30 * args.aigoms_seconds_per_step
        print(f"aigoms at 1/4 degree: {args.aigoms_seconds_per_step:.1f} s per step -> {total / 60:.1f} min of CPU "
              "forward per 30-day daily run on this machine (plus I/O)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
