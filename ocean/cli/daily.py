"""``ocean daily``: the cron job — append the day to the cube, then forecast from it."""

from __future__ import annotations

from pathlib import Path

from ocean.cli._args import iso_date
from ocean.cli.data import add_pipeline_options, recipe_from_args
from ocean.cli.forecast import add_forecast_options, report, request_from_args


def register(sub) -> None:
    p = sub.add_parser("daily", help="append a day to the cube, then forecast from it (the cron job)",
                       description="The daily chain: `ocean data append RECIPE --date DATE --cube CUBE`, then "
                                   "`ocean forecast --cube CUBE --init DATE`. Both steps are idempotent.")
    p.add_argument("--recipe", required=True, help="the data recipe the cube was built from")
    p.add_argument("--date", required=True, type=iso_date, metavar="DATE", help="the day to append and forecast from, YYYY-MM-DD")
    p.add_argument("--cube", required=True, type=Path, metavar="CUBE.zarr", help="the training/analysis cube")
    add_pipeline_options(p)
    add_forecast_options(p, wait=False)
    p.set_defaults(func=run)


def run(args) -> int:
    from ocean.workflows.daily import run_daily

    appended, result = run_daily(recipe_from_args(args), args.date, request_from_args(args, cube=args.cube), wait=args.wait)
    print(appended.summary())
    report(result)
    return 0
