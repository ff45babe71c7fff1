"""``ocean synthetic``: write the deterministic synthetic ocean in producers' formats.

Thin: parses options and calls :func:`ocean.synthetic.generate`, which a
notebook can call too. Bad options (unknown product, ``--days`` < 1, an
unparseable date or grid, a non-empty ``--out`` without ``--force``) raise
:class:`ocean.errors.ConfigError` before anything is written (exit code 3).
"""

from __future__ import annotations

import argparse

from ocean.cli._args import iso_date

__all__ = ["register", "run"]


def register(subparsers) -> argparse.ArgumentParser:
    from ocean.synthetic.writer import DEFAULT_PRODUCTS, PRODUCTS

    p = subparsers.add_parser(
        "synthetic",
        help="write a deterministic synthetic ocean (GLORYS-, ERA5-, CMEMS-like files)",
        description="Write the synthetic ocean as producer-format NetCDF files plus OUT/manifest.json. "
                    "Layout: OUT/static, OUT/glorys, OUT/era5, OUT/bgc, OUT/waves, OUT/enso (docs/synthetic.md).",
    )
    p.add_argument("--grid", default="4deg",
                   help="grid: '4deg', '1deg', '0.25deg', 'kuroshio@1/12', ... (default 4deg)")
    p.add_argument("--start", default="2020-01-01", type=iso_date, metavar="DATE", help="first date, YYYY-MM-DD (default 2020-01-01)")
    p.add_argument("--days", type=int, default=30, help="number of days (default 30)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (must be empty unless --force)")
    p.add_argument("--levels", default=None,
                   help="level preset (aigoms15, glorys23, glorys50, enso7) or depths 'd1,d2,...' in m "
                        "(default: native GLORYS levels to 541 m)")
    p.add_argument("--products", default=",".join(DEFAULT_PRODUCTS),
                   help=f"comma-separated subset of {','.join(PRODUCTS)} (default {','.join(DEFAULT_PRODUCTS)})")
    p.add_argument("--seed", type=int, default=0, help="random seed (geography is shared by all seeds)")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty folder, replacing a previous synthetic run's files")
    p.add_argument("--daily-forcing", action="store_true",
                   help="write one daily mean per ERA5 file instead of 24 hourly records")
    p.add_argument("--enso-grid", default=None, help="grid of the monthly ENSO fields (default: --grid)")
    p.add_argument("--enso-levels", default="enso7", help="levels of the monthly ENSO fields (default enso7)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from ocean.synthetic import generate

    manifest = generate(
        args.out, grid=args.grid, start=args.start, days=args.days, levels=args.levels,
        products=args.products, seed=args.seed, force=args.force,
        progress=False if args.no_progress or args.quiet else None,
        hourly_forcing=not args.daily_forcing, enso_grid=args.enso_grid, enso_levels=args.enso_levels,
    )
    return 0 if manifest else 1
