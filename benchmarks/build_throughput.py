"""Benchmark: `ocean data build` throughput against reading the inputs once and writing the cube once.

Writes synthetic producer files (``ocean synthetic``: daily GLORYS-like
files, hourly ERA5-like files, a static bathymetry) for ``--days`` days,
then runs the product's own command, ``ocean data build``, as a
subprocess, and measures in the same run:

* the build: wall seconds, cube MB written, MB/s, days/s, peak RSS of the
  process and its children (sampled every 50 ms), and the build's own
  phase timings (open, write, statistics) from its log;
* **read once**: every input file opened with the project's reader
  (``ocean.io.open_source``) and every variable decoded to numpy, one file
  after the other in this process;
* **write once**: the finished cube's days, already in memory, written
  again into a new store of the same layout (``to_zarr`` by regions of
  ``--write-days`` days; the reads from the built cube are not timed);
* the ratio build / (read once + write once) (the goal is <= 2);
* the OLD direct writer for the same days (what benchmarks/make_demo_cube.py
  did: the synthetic ocean generated in memory by
  ``ocean.synthetic.SyntheticOcean`` and written by ``ocean.cube.write_cube``
  with ``ocean.normalize.compute_statistics``), and the ratio of the
  build's wall time to it.

Scales:

* ``--scale demo``: global 4 degree grid (45 x 90), 15 levels; ``--days``
  (default 365) from 2000-01-01 (the demo cube is 2000-2007, 2,922 days);
* ``--scale quarter-regional``: the Kuroshio box at 1/4 degree (95 x 222),
  15 levels, fed by 1/4 degree synthetic files (``--source-grid`` for
  finer ones, e.g. ``kuroshio@1/12``).

    python benchmarks/build_throughput.py --scale demo --days 365
    python benchmarks/build_throughput.py --scale quarter-regional --days 60

The page cache is warm for every phase (the files were just written).
Prints figures; asserts nothing. CPU seconds are printed beside wall
seconds: on a machine shared with other work they are the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

SCALES = {
    "demo": {"grid": "4deg", "source": "4deg"},
    "quarter-regional": {"grid": "kuroshio@0.25", "source": "kuroshio@0.25"},
}
LEVELS = "aigoms15"


class Peak:
    """Peak RSS of this process and all its children, and their CPU seconds (sampled)."""

    def __init__(self, interval: float = 0.05):
        import psutil

        self._me = psutil.Process()
        self.rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for p in [self._me, *self._me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.rss = max(self.rss, total)
            time.sleep(interval)

    def __enter__(self) -> "Peak":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def write_inputs(folder: Path, grid: str, start: str, days: int) -> float:
    """``ocean synthetic`` into ``folder``; returns seconds."""
    t0 = time.perf_counter()
    subprocess.run(["ocean", "synthetic", "--grid", grid, "--start", start, "--days", str(days), "--out",
                    str(folder), "--force", "--no-progress"], check=True, capture_output=True, text=True)
    return time.perf_counter() - t0


def write_recipe(folder: Path, grid: str, start: str, end: str, scheduler: str | None, workers: int | None,
                 batch: int | None) -> Path:
    import yaml

    compute = {"progress": False}
    compute.update({k: v for k, v in (("scheduler", scheduler), ("workers", workers), ("batch_days", batch))
                    if v is not None})
    doc = {"name": "build_throughput", "grid": grid, "levels": LEVELS, "root": str(folder / "input"),
           "dates": {"start": start, "end": end}, "statistics": {"start": start, "end": end},
           "missing": {"policy": "refuse"}, "compute": compute,
           "sources": [{"name": "physics", "kind": "reanalysis", "product": "glorys", "files": "glorys/glorys_*.nc",
                        "variables": ["thetao", "so", "uo", "vo", "zos"]},
                       {"name": "forcing", "kind": "forcing", "product": "era5", "files": "era5/era5_*.nc",
                        "variables": ["u10", "v10", "t2m", "msl", "sp"], "min_records_per_day": 24},
                       {"name": "static", "kind": "bathymetry", "product": "glorys",
                        "files": "static/GLO-MFC_001_030_mask_bathy.nc"}]}
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_build(recipe: Path, out: Path) -> dict:
    """``ocean data build`` as a subprocess: wall, CPU (children), peak RSS, its phase timings."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with Peak() as peak:
        t0 = time.perf_counter()
        proc = subprocess.run(["ocean", "data", "build", str(recipe), "--out", str(out), "--force", "--no-progress"],
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"ocean data build failed (exit {proc.returncode})")
    m = re.search(r"timings: open ([\d.]+) s, write ([\d.]+) s, statistics ([\d.]+) s", proc.stderr)
    phases = dict(zip(("open", "write", "statistics"), map(float, m.groups()))) if m else {}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rss": peak.rss, "phases": phases, "summary": proc.stdout.strip()}


def read_once(folder: Path) -> tuple[float, float, int]:
    """(wall, CPU) seconds to open and decode every input file once with ``open_source``; input bytes."""
    from ocean.io import open_source

    files = [(p, "glorys") for p in sorted((folder / "glorys").glob("*.nc"))]
    files += [(p, "era5") for p in sorted((folder / "era5").glob("*.nc"))]
    files += [(p, "glorys") for p in sorted((folder / "static").glob("*.nc"))]
    t0, c0 = time.perf_counter(), time.process_time()
    for path, product in files:
        ds = open_source(path, product, chunks=None, check=False)
        for v in ds.data_vars:
            np.asarray(ds[v].values)
        ds.close()
    return time.perf_counter() - t0, time.process_time() - c0, sum(p.stat().st_size for p, _ in files)


def write_once(cube: Path, out: Path, days_per_write: int) -> tuple[float, float]:
    """(wall, CPU) seconds to write ``cube``'s contents into a new store of the same layout."""
    import xarray as xr

    from ocean.cube import prepare_cube
    from ocean.store import quiet_zarr
    from pipelines.build import shard_chunks
    from pipelines.compute import fast_zarr

    src = xr.open_zarr(cube)
    attrs = {k: v for k, v in src.attrs.items() if k in ("recipe", "sources", "gaps")}
    ds, enc = prepare_cube(src, attrs, label=str(out))
    timed = {k: ds[k] for k in ds.data_vars if "time" in ds[k].dims}
    wall = cpu = 0.0
    with quiet_zarr():
        n = ds.sizes["time"]
        # the store's metadata for the whole record, then the days region by region
        shard_chunks(ds).to_zarr(out, mode="w", zarr_format=3, consolidated=False, encoding=enc, compute=False)
        for a in range(0, n, days_per_write):
            block = xr.Dataset({k: v.isel(time=slice(a, a + days_per_write)) for k, v in timed.items()}).load()
            block = block.drop_vars([c for c in block.coords if "time" not in block[c].dims])
            t0, c0 = time.perf_counter(), time.process_time()
            with fast_zarr():  # the zarr settings the build writes with
                block.to_zarr(out, region={"time": slice(a, min(a + days_per_write, n))}, zarr_format=3,
                              consolidated=False)
            wall += time.perf_counter() - t0
            cpu += time.process_time() - c0
    return wall, cpu


def old_writer(out: Path, grid: str, start: str, end: str, seed: int = 0, workers: int = 2) -> float:
    """The direct writer benchmarks/make_demo_cube.py used (copied here as the baseline); seconds."""
    import xarray as xr
    from concurrent.futures import ProcessPoolExecutor

    from ocean.cube import write_cube
    from ocean.levels import DEFAULT
    from ocean.normalize import compute_statistics
    from ocean.synthetic import SyntheticOcean

    t0 = time.perf_counter()
    edges = pd.date_range(start, end, freq="YS").union([pd.Timestamp(start)])
    spans = [(grid, str(a.date()), str(min(pd.Timestamp(end), b - pd.Timedelta(days=1)).date()), seed)
             for a, b in zip(edges, list(edges[1:]) + [pd.Timestamp(end) + pd.Timedelta(days=1)])]
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_old_year, spans))
    ds = xr.concat(parts, dim="time", data_vars="all", coords="minimal", compat="override",
                   combine_attrs="drop_conflicts")
    static = SyntheticOcean(grid, levels=DEFAULT, seed=seed).static()
    ds = ds.assign(mask=static["mask"], deptho=static["deptho"])
    physics = ["thetao", "so", "uo", "vo", "zos", "u10", "v10", "t2m", "msl", "sp"]
    stats = compute_statistics(ds[physics], period=(start, end)).compute()
    write_cube(ds, out, statistics=stats, attrs={"recipe": json.dumps({"builder": "old direct writer"}),
                                                 "sources": json.dumps([{"source": "synthetic", "seed": seed}])},
               overwrite=True)
    return time.perf_counter() - t0


def _old_year(args):
    import xarray as xr

    from ocean.levels import DEFAULT
    from ocean.synthetic import SyntheticOcean

    grid, start, end, seed = args
    so = SyntheticOcean(grid, levels=DEFAULT, seed=seed)
    dates = pd.date_range(start, end, freq="D")
    return xr.merge([so.physics(dates), so.forcing(dates)], combine_attrs="drop_conflicts")


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1e6


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", choices=sorted(SCALES), default="demo")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--start", default="2000-01-01")
    p.add_argument("--source-grid", help="grid of the synthetic files (default: the scale's)")
    p.add_argument("--scheduler", choices=("auto", "local-cluster", "processes", "synchronous"))
    p.add_argument("--workers", type=int)
    p.add_argument("--batch-days", type=int, help="compute.batch_days of the recipe (default: the build's choice)")
    p.add_argument("--write-days", type=int, default=32, help="days per region in the write-once measure")
    p.add_argument("--skip-old", action="store_true", help="do not time the old direct writer")
    p.add_argument("--workdir", type=Path, help="where to work (default: a temporary folder, removed)")
    p.add_argument("--reuse-input", action="store_true", help="reuse the synthetic files already in --workdir")
    a = p.parse_args(argv)
    scale = SCALES[a.scale]
    start = pd.Timestamp(a.start)
    end = str((start + pd.Timedelta(days=a.days - 1)).date())
    work = a.workdir or Path(tempfile.mkdtemp(prefix="build_throughput_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        inputs = work / "input"
        if a.reuse_input and (inputs / "manifest.json").exists():
            gen = 0.0
        else:
            gen = write_inputs(inputs, a.source_grid or scale["source"], str(start.date()), a.days)
        recipe = write_recipe(work, scale["grid"], str(start.date()), end, a.scheduler, a.workers, a.batch_days)
        read_wall, read_cpu, in_bytes = read_once(inputs)  # also warms the page cache
        build = run_build(recipe, work / "cube.zarr")
        cube_mb = folder_mb(work / "cube.zarr")
        write_wall, write_cpu = write_once(work / "cube.zarr", work / "rewrite.zarr", a.write_days)
        shutil.rmtree(work / "rewrite.zarr", ignore_errors=True)
        old = None if a.skip_old else old_writer(work / "old.zarr", scale["grid"], str(start.date()), end)
        base_wall, base_cpu = read_wall + write_wall, read_cpu + write_cpu
        print(f"scale {a.scale}: {scale['grid']} from {a.source_grid or scale['source']} files, {LEVELS}, "
              f"{a.days} days {start.date()}..{end}; inputs {in_bytes / 1e6:,.0f} MB "
              f"(generated in {gen:.0f} s)")
        print(f"build: {build['wall']:.1f} s wall ({build['cpu']:.1f} s CPU), {cube_mb:,.0f} MB written, "
              f"{cube_mb / build['wall']:.1f} MB/s, {a.days / build['wall']:.2f} days/s, "
              f"peak RSS {build['rss'] / 2**20:,.0f} MiB; phases "
              + ", ".join(f"{k} {v:.1f} s" for k, v in build["phases"].items()))
        print(f"read once: {read_wall:.1f} s wall ({read_cpu:.1f} s CPU, {in_bytes / 1e6 / read_wall:.0f} MB/s); "
              f"write once: {write_wall:.1f} s wall ({write_cpu:.1f} s CPU)")
        print(f"ratio build / (read once + write once): {build['wall'] / base_wall:.2f} wall, "
              f"{build['cpu'] / base_cpu:.2f} CPU (goal <= 2)")
        if old is not None:
            print(f"old direct writer (SyntheticOcean in memory + write_cube): {old:.1f} s wall; "
                  f"ratio build / old: {build['wall'] / old:.2f}")
        print(build["summary"])
    finally:
        if a.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
