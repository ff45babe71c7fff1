"""Kill every writing command with SIGKILL at random times inside its write, many times, then rerun it.

For each command (``data build``, ``data append``, ``forecast`` with
quicklooks, ``hindcast``, ``export-oceanbench``, ``export``):

1. one uninterrupted run measures the *write window*: from the first change
   under the command's output folder (a temporary store, a new chunk file;
   lock files are not counted) to the last one (polled every 5 ms);
2. ``--trials`` runs (default 25), each from the same starting state, are
   killed with SIGKILL at a uniform random time inside that window (measured
   from each run's own start of writing: run times vary on a shared
   machine); a kill *landed inside the write* when the output folder had
   already changed and the process was still running (a kill between
   publication and exit counts as inside and finds the output whole);
3. after each kill the output is classified: **whole** (what an
   uninterrupted run publishes, and it reads back), **none** (nothing new
   published; an append's cube as it was), **partial** (something
   published but not all of it, e.g. a forecast without its quicklooks),
   **corrupt** (published but does not open or a chunk does not decode);
4. the same command is rerun (build and export with ``--force``: without it
   they refuse, exit 3, an output already published): its exit code, the output's state after it,
   and whether any debris is left (hidden temporaries, lock files, backup
   or ``.partial`` files in the output folder or inside the output).

Prints one line per trial and a table per command. Exits 1 when a kill
left a partial or corrupt output or a rerun did not end whole and clean.
Inputs are the tests' tiny producer files and synthetic cube (16x32 source,
8x16 target grid, 3 levels): the figures are about atomicity, not speed.

    python benchmarks/kill_trials.py --trials 25
    python benchmarks/kill_trials.py --trials 5 --commands build,append
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' tiny producer files and cube

COMMANDS = ("build", "append", "forecast", "hindcast", "export-oceanbench", "export")


@dataclass
class Case:
    name: str
    argv: list[str]
    folder: Path  # the output folder watched for the write window and debris
    reset: Callable[[], None]  # put the starting state back before a trial
    state: Callable[[], str]  # whole / none / partial / corrupt
    rerun: tuple[str, ...] = ()  # extra arguments of the rerun (a build whose cube was published needs --force)


def _cli(argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "ocean.cli", "-q", *argv]


def _signature(folder: Path) -> frozenset:
    """Paths and sizes under ``folder``, lock files left out."""
    out = []
    for dirpath, _, files in os.walk(folder):
        for f in files:
            if not f.endswith(".lock"):
                p = os.path.join(dirpath, f)
                try:
                    out.append((p, os.stat(p).st_size))
                except OSError:
                    pass
    return frozenset(out)


def _debris(folder: Path) -> list[str]:
    """Hidden temporaries and locks beside the outputs, backups and partial files inside them."""
    found = []
    for dirpath, dirs, files in os.walk(folder):
        for name in dirs + files:
            if name.startswith(".") and (".tmp" in name or name.endswith((".lock", ".old", ".keep"))) \
                    or name.endswith(".partial"):
                found.append(os.path.relpath(os.path.join(dirpath, name), folder))
    return found


def _zarr_state(path: Path, check: Callable | None = None) -> str:
    from ocean.damage import scan_store

    if not path.exists():
        return "none"
    try:
        if scan_store(path):
            return "corrupt"
        import xarray as xr

        with xr.open_zarr(path, consolidated=None) as ds:
            return check(ds) if check else "whole"
    except Exception:  # noqa: BLE001 - anything that does not read back is corrupt
        return "corrupt"


def _measure(case: Case) -> tuple[float, float, int]:
    """(window start, window end) in seconds from the start, and the exit code, of one whole run."""
    case.reset()
    before = _signature(case.folder)
    t0 = time.perf_counter()
    p = subprocess.Popen(_cli(case.argv), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    start = end = None
    last = before
    while p.poll() is None:
        now = _signature(case.folder)
        if now != last:  # the write runs from the first change to the last one (not to the exit)
            end = time.perf_counter() - t0
            start = end if start is None else start
            last = now
        time.sleep(0.005)
    if _signature(case.folder) != last or end is None:  # changed between the last poll and the exit
        end = time.perf_counter() - t0
    start = end if start is None else start
    end = max(end, start + 0.01)
    if p.returncode != 0:
        raise SystemExit(f"{case.name}: the uninterrupted run failed (exit {p.returncode}): {p.stderr.read()[-2000:]}")
    return (start if start is not None else 0.0), end, p.returncode


def _trial(case: Case, delay: float) -> tuple[bool, str, int, str, list[str]]:
    """Kill ``delay`` s after the write starts (the output folder changes; run times vary on a shared machine,
    so the window is anchored on each run's own start of writing); returns (landed inside the write, state,
    rerun exit, state after, debris)."""
    case.reset()
    before = _signature(case.folder)
    p = subprocess.Popen(_cli(case.argv), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while p.poll() is None and _signature(case.folder) == before:
        time.sleep(0.005)
    time.sleep(delay)
    inside = p.poll() is None and _signature(case.folder) != before
    p.send_signal(signal.SIGKILL)
    p.wait()
    state = case.state()
    rerun = subprocess.run(_cli(case.argv + list(case.rerun)), cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    return inside, state, rerun.returncode, case.state(), _debris(case.folder)


def _cases(work: Path, names) -> list[Case]:
    import pandas as pd

    from forecast_fixtures import synthetic_cube, tiny_model
    from test_pipeline_support import make_inputs, write_era5, write_glorys

    cases = []
    inputs = make_inputs(work / "inputs")
    write_glorys(inputs / "glorys", days=[pd.Timestamp("2020-01-04")])
    write_era5(inputs / "era5", days=[pd.Timestamp("2020-01-04")])
    recipe = inputs / "recipe.yaml"  # dates 2020-01-01..03

    def cube_days(n):
        return lambda ds: "whole" if ds.sizes["time"] == n else ("none" if ds.sizes["time"] == 3 else "partial")

    b = work / "build"
    b.mkdir()
    cases.append(Case("build", ["data", "build", str(recipe), "--out", str(b / "cube.zarr"), "--no-progress"], b,
                      lambda: shutil.rmtree(b / "cube.zarr", ignore_errors=True),
                      lambda: _zarr_state(b / "cube.zarr", cube_days(3)), rerun=("--force",)))

    a = work / "append"
    a.mkdir()
    base = work / "append_base.zarr"
    if "append" in names:
        subprocess.run(_cli(["data", "build", str(recipe), "--out", str(base), "--no-progress"]), cwd=ROOT,
                       check=True)

    def reset_append():
        shutil.rmtree(a / "cube.zarr", ignore_errors=True)
        shutil.copytree(base, a / "cube.zarr")

    cases.append(Case("append", ["data", "append", str(recipe), "--date", "2020-01-04", "--cube", str(a / "cube.zarr"),
                                 "--no-progress"], a, reset_append,
                      lambda: _zarr_state(a / "cube.zarr", cube_days(4))))

    need_model = bool(set(names) - {"build", "append"})
    if need_model:
        cube = synthetic_cube(work / "cube.zarr")
        model = tiny_model(cube, work)  # a 2-step training run: its checkpoint feeds `ocean export`
    f = work / "forecast"

    def forecast_state():
        from ocean.forecast_store import forecast_path

        store = forecast_path(f, "2020-01-05")
        looks = f / "quicklooks" / "2020-01-05"
        s = _zarr_state(store, lambda ds: "whole" if ds.sizes["lead_time"] == 3 else "partial")
        if s == "whole" and not (looks.exists() and any(looks.glob("*.png"))):
            return "partial"
        if s == "none" and looks.exists():
            return "partial"
        return s

    if "forecast" in names:
        cases.append(Case("forecast", ["forecast", "--model", str(model), "--cube", str(cube), "--forcing-from-cube",
                                       "--init", "2020-01-05", "--leads", "3", "--out", str(f)], f,
                          lambda: shutil.rmtree(f, ignore_errors=True), forecast_state))
    h = work / "hindcast"

    def hindcast_state():
        names_ = {"metrics.nc", "report.md", "scorecard.png"}
        have = {p.name for p in h.iterdir()} & names_ if h.exists() else set()
        if not have:
            return "none"
        if have != names_:
            return "partial"
        try:
            import xarray as xr

            xr.open_dataset(h / "metrics.nc").close()
        except Exception:  # noqa: BLE001
            return "corrupt"
        return "whole"

    if "hindcast" in names:
        cases.append(Case("hindcast", ["hindcast", "--model", str(model), "--cube", str(cube), "--start", "2020-01-01",
                                       "--end", "2020-01-05", "--every", "2D", "--leads", "2", "--baselines",
                                       "persistence", "--no-derived", "--out", str(h)], h,
                          lambda: shutil.rmtree(h, ignore_errors=True), hindcast_state))
    o = work / "oceanbench"
    o.mkdir()
    if "export-oceanbench" in names:
        fc_root = work / "fc_for_export"
        subprocess.run(_cli(["forecast", "--model", str(model), "--cube", str(cube), "--forcing-from-cube", "--init",
                             "2020-01-05", "--leads", "3", "--out", str(fc_root), "--no-quicklooks"]), cwd=ROOT,
                       check=True)
        cases.append(Case("export-oceanbench", ["export-oceanbench", str(fc_root), "--out", str(o / "ob.zarr"),
                                                "--lead-days", "3"], o,
                          lambda: shutil.rmtree(o / "ob.zarr", ignore_errors=True),
                          lambda: _zarr_state(o / "ob.zarr")))
    e = work / "export"
    e.mkdir()

    def export_state():
        from ocean.checkpoint import load_model_dir

        d = e / "model"
        if not d.exists():
            return "none"
        if not ((d / "model.safetensors").exists() and (d / "metadata.json").exists()):
            return "partial"
        try:
            load_model_dir(d)  # hashes, metadata and every tensor
        except Exception:  # noqa: BLE001
            return "corrupt"
        return "whole"

    if "export" in names:
        ckpt = sorted((work / "run" / "checkpoints").glob("*.ckpt"))[-1]
        cases.append(Case("export", ["export", str(ckpt), "--out", str(e / "model")], e,
                          lambda: shutil.rmtree(e / "model", ignore_errors=True), export_state, rerun=("--force",)))
    return [c for c in cases if c.name in names]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=25, help="kills per command (default 25)")
    p.add_argument("--commands", default=",".join(COMMANDS), help=f"comma-separated subset of {','.join(COMMANDS)}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    args = p.parse_args()
    names = [c for c in args.commands.split(",") if c]
    unknown = sorted(set(names) - set(COMMANDS))
    if unknown:
        p.error(f"unknown commands {unknown}; expected some of {list(COMMANDS)}")
    work = Path(tempfile.mkdtemp(prefix="kill-trials-"))
    rng = np.random.default_rng(args.seed)
    rows, bad = [], 0
    try:
        for case in _cases(work, names):
            lo, hi, _ = _measure(case)
            print(f"{case.name}: uninterrupted run {hi:.2f} s, write window {lo:.2f}..{hi:.2f} s", flush=True)
            counts = dict.fromkeys(("inside", "whole", "none", "partial", "corrupt", "rerun_failed",
                                    "rerun_not_whole", "debris"), 0)
            for i, delay in enumerate(rng.uniform(0.0, hi - lo, size=args.trials)):
                inside, state, rc, after, debris = _trial(case, float(delay))
                counts["inside"] += inside
                counts[state] += 1
                counts["rerun_failed"] += rc != 0
                counts["rerun_not_whole"] += after != "whole"
                counts["debris"] += bool(debris)
                where = "inside" if inside else "after"
                print(f"  {case.name} trial {i + 1:2d}: kill {delay:5.2f} s into the write ({where} the write) -> "
                      f"{state}; rerun exit {rc}, {after}"
                      f"{'; debris ' + ', '.join(debris[:3]) if debris else ''}", flush=True)
            bad += counts["partial"] + counts["corrupt"] + counts["rerun_failed"] + counts["rerun_not_whole"] \
                + counts["debris"]
            rows.append((case.name, lo, hi, counts))
            print(f"  {case.name}: {counts}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nN = {args.trials} kills per command (SIGKILL at uniform random times in the write window)")
    head = ("command", "window s", "inside", "whole", "none", "partial", "corrupt", "rerun!=0", "rerun!whole",
            "debris")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, lo, hi, c in rows:
        cells = [name, f"{lo:.1f}-{hi:.1f}", c["inside"], c["whole"], c["none"], c["partial"], c["corrupt"],
                 c["rerun_failed"], c["rerun_not_whole"], c["debris"]]
        print("| " + " | ".join(str(x) for x in cells) + " |")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
