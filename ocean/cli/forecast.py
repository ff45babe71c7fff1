"""``ocean forecast``: the operational daily forecast (one init, 30 daily leads by default)."""

from __future__ import annotations

from pathlib import Path

from ocean.cli._args import iso_date


def add_forecast_options(p, wait: bool = True) -> None:
    """Options shared by ``ocean forecast`` and ``ocean daily`` (which has its own ``--wait``)."""
    p.add_argument("--model", type=Path, metavar="MODEL_DIR",
                   help="model directory (safetensors + metadata.json); default: the demo model shipped in the package")
    p.add_argument("--out", type=Path, default=Path("forecasts"), metavar="ROOT",
                   help="output root: one store forecast_YYYY-MM-DD.zarr per init (default: ./forecasts)")
    p.add_argument("--leads", type=int, default=30, help="number of daily lead times (default: 30)")
    p.add_argument("--heads", default="", metavar="NAMES", help="comma-separated downstream heads to run after the rollout")
    p.add_argument("--forcing", action="append", default=[], metavar="PATH",
                   help="forcing forecast files (ERA5-like; globs ok; repeatable). Default with --cube: "
                        "the cube's day-of-year forcing climatology")
    p.add_argument("--force", action="store_true", help="replace an existing forecast for this init")
    p.add_argument("--dry-run", action="store_true", help="load and check everything, write nothing")
    if wait:
        p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                       help="wait up to SECONDS for another run on the same init (default: exit 4 at once)")
    p.add_argument("--no-quicklooks", action="store_true", help="skip the PNG quicklooks")


def request_from_args(args, init=None, cube=None):
    from ocean.workflows.forecast import ForecastRequest

    return ForecastRequest(init=init, model=args.model, cube=cube, out=args.out, leads=args.leads,
                           heads=tuple(h for h in args.heads.split(",") if h), forcing=tuple(args.forcing),
                           forcing_from_cube=getattr(args, "forcing_from_cube", False),
                           force=args.force, dry_run=args.dry_run, wait=args.wait,
                           quicklooks=not args.no_quicklooks)


def report(result) -> None:
    """What a cron log or a person needs: where the forecast and the pictures are."""
    if result.status == "exists":
        print(f"forecast already published: {result.path} (use --force to replace it)")
    elif result.status == "dry-run":
        print(f"dry run OK: would write {result.path} (forcing: {result.forcing_source})")
    else:
        print(f"forecast published: {result.path}")
        print(f"  forcing: {result.forcing_source}")
        if result.quicklooks:
            print(f"  quicklooks: {result.quicklooks[0].parent} ({len(result.quicklooks)} PNGs)")
        t = result.timings
        print(f"  wall time {t.get('total', 0):.1f} s (rollout and write {t.get('rollout_and_write', 0):.1f} s)")


def register(sub) -> None:
    p = sub.add_parser("forecast", help="run the forecast for one init date",
                       description="Forecast the ocean from one initial date. With no options: the demo model "
                                   "shipped in the package, started from the synthetic ocean, today's date.")
    p.add_argument("--init", type=iso_date, metavar="DATE", help="initial date YYYY-MM-DD (default: the cube's last day, "
                                                  "or today for the synthetic default)")
    p.add_argument("--cube", type=Path, metavar="CUBE.zarr", help="training cube holding the initial state")
    add_forecast_options(p)
    p.add_argument("--forcing-from-cube", action="store_true",
                   help="with --cube: force the rollout with the cube's own forcing for the lead days "
                        "(\"perfect forcing\", for hindcasts) instead of a forcing forecast or climatology")
    p.set_defaults(func=run)


def run(args) -> int:
    from ocean.workflows.forecast import run_forecast

    report(run_forecast(request_from_args(args, init=args.init, cube=args.cube)))
    return 0
