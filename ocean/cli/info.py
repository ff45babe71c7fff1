"""``ocean info PATH``: variables, dims, time range, grid, levels and CF problems."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("info", help="describe a NetCDF file or Zarr store",
                       description="Describe a NetCDF file or Zarr store: variables, dims, time range, "
                                   "grid, levels, the producer it comes from and CF problems found.")
    p.add_argument("path", help="NetCDF file or Zarr store")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def run(args) -> int:
    from ocean.info import describe, format_description

    info = describe(args.path)
    print(json.dumps(info, indent=2, default=str) if args.json else format_description(info))
    return 0
