"""``ocean info PATH``: what a file is, its variables, dims, time, grid and levels, its CF
problems and, apart from them, how it differs from the canonical form."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("info", help="describe a NetCDF file or Zarr store",
                       description="Describe a NetCDF file or Zarr store: what it is (a producer's file and "
                                   "which producer, a training cube, a forecast store or folder of them, "
                                   "hindcast metrics, Argo or NDBC observations), variables, dims, time range, "
                                   "grid, levels, CF problems (cf_xarray's criteria) and, apart from them, "
                                   "how it differs from the canonical form.")
    p.add_argument("path", help="NetCDF file, Zarr store, folder of forecast stores or NDBC text record")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def run(args) -> int:
    from ocean.info import describe, format_description

    info = describe(args.path)
    print(json.dumps(info, indent=2, default=str) if args.json else format_description(info))
    return 0
