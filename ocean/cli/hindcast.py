"""``ocean hindcast``: forecasts from many past inits, scored against the cube, persistence and climatology."""

from __future__ import annotations

from pathlib import Path

from ocean.cli._args import iso_date


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def register(sub) -> None:
    p = sub.add_parser("hindcast", help="score forecasts from many past inits against the cube and baselines",
                       description="Make (or reuse) the forecast for every init between --start and --end, score "
                                   "them against the cube with persistence and climatology as baselines, and write "
                                   "metrics.nc, scorecard.png, lead_curves.png and report.md into --out "
                                   "(docs/evaluation.md).")
    p.add_argument("--cube", type=Path, required=True, metavar="CUBE.zarr",
                   help="training cube: initial states, forcing and the reference")
    p.add_argument("--start", required=True, type=iso_date, metavar="DATE", help="first init date (YYYY-MM-DD)")
    p.add_argument("--end", required=True, type=iso_date, metavar="DATE", help="last init date (YYYY-MM-DD)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="output directory (forecasts go to DIR/forecasts/ and are reused on a rerun)")
    p.add_argument("--model", type=Path, metavar="MODEL_DIR", help="model directory (default: the shipped demo model)")
    p.add_argument("--every", default="7D", metavar="FREQ", help="spacing of the inits, a pandas frequency (default 7D)")
    p.add_argument("--leads", type=int, default=30, help="daily lead times per forecast (default 30)")
    p.add_argument("--regions", type=_names, default=None, metavar="NAMES",
                   help="comma-separated regions (default: global,tropics,kuroshio,gulf_stream,nino34 plus the "
                        "--regions-config boxes)")
    p.add_argument("--regions-config", type=Path, metavar="FILE.yaml",
                   help="custom boxes: regions: {NAME: {lon_min, lon_max, lat_min, lat_max}}")
    p.add_argument("--baselines", type=_names, default=("persistence", "climatology"), metavar="NAMES",
                   help="comma-separated baselines among persistence,climatology (default both)")
    p.add_argument("--forcing", choices=("cube", "climatology"), default="cube",
                   help="forcing of the forecasts: the cube's own on the lead days (perfect forcing, default) "
                        "or the cube's day-of-year forcing climatology")
    p.add_argument("--argo", action="append", default=[], metavar="PATH",
                   help="Argo profile files for the Class-4 comparison (globs ok; repeatable)")
    p.add_argument("--enso", action="store_true", help="also run the ENSO head's hindcast (Niño3.4 to 20 months)")
    p.add_argument("--enso-model", type=Path, metavar="DIR", help="ENSO model directory (default: the shipped one)")
    p.add_argument("--enso-stride", type=int, default=3, metavar="N",
                   help="score every N-th start month of the ENSO test period (default 3: 280 of 840 starts)")
    p.add_argument("--heads", type=_names, default=(), metavar="NAME[,NAME=HEAD_DIR]",
                   help="downstream heads to run inside every forecast (as `ocean forecast --heads`); existing "
                        "forecasts without them are refused (use --force)")
    p.add_argument("--head-truth", action="append", default=[], metavar="NAME=STORE",
                   help="truth of a head (Zarr cube or NetCDF on the cube's grid, e.g. outputs/waves/truth.zarr): "
                        "its fields are scored against it (RMSE, bias, ACC per lead; persistence, climatology) "
                        "into heads_metrics.nc (repeatable)")
    p.add_argument("--buoys", action="append", default=[], metavar="GLOB",
                   help="NDBC stdmet files to verify the waves head against (bias, RMSE, scatter index) into "
                        "buoys.nc (globs ok; repeatable; needs --heads waves)")
    p.add_argument("--buoy-position", action="append", default=[], metavar="ID=LAT,LON",
                   help="position of an NDBC station (the files do not carry it; repeatable)")
    p.add_argument("--buoy-max-km", type=float, default=300.0, metavar="KM",
                   help="farthest grid cell a buoy may be matched to (default 300)")
    p.add_argument("--no-derived", action="store_true", help="skip mixed-layer depth and geostrophic currents")
    p.add_argument("--force", action="store_true", help="recompute forecasts that already exist under DIR/forecasts")
    p.add_argument("--max-memory-mb", type=float, default=1024.0, metavar="MB",
                   help="memory for one block of inits while scoring (default 1024)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ocean.scorecard import summary_table
    from ocean.workflows.hindcast import HindcastRequest, run_hindcast

    req = HindcastRequest(cube=args.cube, start=args.start, end=args.end, out=args.out, model=args.model,
                          every=args.every, leads=args.leads, regions=args.regions,
                          regions_config=args.regions_config, baselines=args.baselines, forcing=args.forcing,
                          argo=tuple(args.argo), enso=args.enso, enso_model=args.enso_model, enso_stride=args.enso_stride,
                          derived=not args.no_derived, force=args.force, max_memory_mb=args.max_memory_mb,
                          heads=tuple(args.heads), head_truth=tuple(args.head_truth), buoys=tuple(args.buoys),
                          buoy_positions=tuple(args.buoy_position), buoy_max_km=args.buoy_max_km)
    result = run_hindcast(req)
    counts = ", ".join(f"{n} {k}" for k, n in result.forecasts.items())
    print(f"hindcast: {len(result.inits)} inits ({counts}) scored in {result.timings.get('total', 0):.1f} s")
    for name, path in result.files.items():
        print(f"  {name}: {path}")
    print(summary_table(result.metrics, headline=[("thetao", 0.5), ("zos", None)], leads=(1, 10, 30)))
    for note in result.notes:
        print(f"note: {note}")
    return 0
