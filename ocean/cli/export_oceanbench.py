"""``ocean export-oceanbench ROOT --out CHALLENGER.zarr``: forecasts in OceanBench's challenger layout."""

from __future__ import annotations

from pathlib import Path

from ocean.cli._args import iso_date


def register(sub) -> None:
    p = sub.add_parser("export-oceanbench", help="write forecasts in OceanBench's challenger layout",
                       description="Write the forecasts under ROOT (forecast_YYYY-MM-DD.zarr stores, e.g. a "
                                   "hindcast's DIR/forecasts) as one OceanBench challenger dataset: dims "
                                   "first_day_datetime (init + 1 day), lead_day_index (0-based), depth, latitude, "
                                   "longitude; CF names zos, thetao, so, uo, vo (ocean.oceanbench).")
    p.add_argument("root", type=Path, metavar="ROOT", help="folder of forecast stores")
    p.add_argument("--out", type=Path, required=True, metavar="PATH", help="output .zarr (Zarr format 2) or .nc")
    p.add_argument("--lead-days", type=int, default=10, help="lead days to keep (OceanBench scores 10; default 10)")
    p.add_argument("--start", type=iso_date, metavar="DATE", help="first init to export (default: all)")
    p.add_argument("--end", type=iso_date, metavar="DATE", help="last init to export (default: all)")
    p.add_argument("--resolution", type=float, choices=(1.0,), default=None,
                   help="interpolate onto OceanBench's whole-degree 1-degree grid (for coarser models)")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.set_defaults(func=run)


def run(args) -> int:
    from ocean.forecast_store import open_forecasts
    from ocean.oceanbench import to_challenger, write_challenger

    fc = open_forecasts(args.root)
    inits = fc["init_time"].to_index()
    if args.start or args.end:
        inits = inits[(inits >= (args.start or inits[0])) & (inits <= (args.end or inits[-1]))]
    ds = to_challenger(fc, lead_days=args.lead_days, inits=inits, resolution=args.resolution)
    path = write_challenger(ds, args.out, overwrite=args.force)
    print(f"OceanBench challenger written: {path} ({ds.sizes['first_day_datetime']} forecasts x "
          f"{ds.sizes['lead_day_index']} lead days, {ds.sizes['latitude']}x{ds.sizes['longitude']} grid)")
    return 0
