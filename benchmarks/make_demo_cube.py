"""Make the demo training cube through the product's own commands (prints the figures).

Two subprocesses of the ``ocean`` CLI, exactly what a user types::

    ocean synthetic --grid 4deg --start 2000-01-01 --days 2922 --seed 0 --out SYNTHETIC
    ocean data build configs/data/synthetic_demo.yaml --root SYNTHETIC --out CUBE

The synthetic ocean (seed 0) is written in the producers' formats, then
read, regridded, remapped to the 15 default levels, checked and written by
``ocean data build`` with statistics over 2000-2005 (the recipe
``configs/data/synthetic_demo.yaml``). The demo model's cube
(docs/backbone.md, "The demo model: commands and evidence")::

    python benchmarks/make_demo_cube.py --synthetic outputs/demo/synthetic --out outputs/demo/cube.zarr

An existing synthetic folder (its ``manifest.json``) is reused. Prints each
command's output, then the figures as JSON (days, seconds per step, sizes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "configs" / "data" / "synthetic_demo.yaml"
START, DAYS, SEED = "2000-01-01", 2922, 0      # 2000-01-01..2007-12-31, the recipe's dates


def _ocean() -> list[str]:
    exe = shutil.which("ocean")
    return [exe] if exe else [sys.executable, "-m", "ocean.cli"]


def _run(args: list[str]) -> float:
    print("$ " + " ".join(["ocean", *args]), flush=True)
    t0 = time.perf_counter()
    subprocess.run(_ocean() + args, check=True)
    return round(time.perf_counter() - t0, 1)


def _size_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="the cube to write")
    p.add_argument("--synthetic", default="outputs/demo/synthetic", help="folder of the synthetic producer files")
    p.add_argument("--force", action="store_true", help="replace an existing cube")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args()
    syn, out = Path(a.synthetic), Path(a.out)
    quiet = ["--no-progress"] if a.no_progress else []
    figures: dict = {"days": DAYS, "seed": SEED}
    if (syn / "manifest.json").exists():
        figures["synthetic_s"] = "reused"
    else:
        figures["synthetic_s"] = _run(["synthetic", "--grid", "4deg", "--start", START, "--days", str(DAYS),
                                       "--seed", str(SEED), "--out", str(syn), *quiet])
    figures["build_s"] = _run(["data", "build", str(RECIPE), "--root", str(syn), "--out", str(out),
                               *(["--force"] if a.force else []), *quiet])
    figures["synthetic_mb"], figures["cube_mb"] = _size_mb(syn), _size_mb(out)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
