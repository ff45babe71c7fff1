"""``ocean enso --init YYYY-MM [--model DIR] --out DIR``: the ENSO outlook.

Thin: parses options and calls :func:`downstream.enso.outlook.enso_outlook`
and :func:`~downstream.enso.outlook.write_outlook` (a notebook calls the
same). Without ``--model`` the model shipped with the package is used;
without ``--inputs`` the 12 input months come from the synthetic ocean, so
the command works on a fresh install with no data. Writes
``OUT/enso_outlook_YYYY-MM.nc`` (fields and Niño3.4 by lead month) and
``OUT/enso_plume_YYYY-MM.png``.
"""

from __future__ import annotations

import argparse
import logging
import re

from ocean.cli._args import iso_month

__all__ = ["register", "run"]

log = logging.getLogger(__name__)


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "enso", help="ENSO outlook: Niño3.4 and upper-ocean fields for the next 20 months (3D-Geoformer)",
        description="Forecast the tropical Pacific's monthly temperature (7 levels to 150 m) and wind stress for "
                    "20 months from the 12 months before --init, with Niño3.4 by lead month; writes a NetCDF "
                    "outlook and a plume plot. Scores: downstream.enso.enso_hindcast (`ocean hindcast --enso`).")
    p.add_argument("--init", required=True, type=iso_month, metavar="YYYY-MM", help="first forecast month (lead 1)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--model", metavar="DIR", help="ENSO model directory (default: the one shipped with the package)")
    p.add_argument("--inputs", nargs="+", metavar="PATH",
                   help="monthly input files (default: the synthetic ocean); see --reader")
    p.add_argument("--reader", default="canonical", choices=["canonical", "godas", "oras5", "soda"],
                   help="layout of --inputs (canonical: any file ocean.io.open_source reads)")
    p.add_argument("--zonal-stress", nargs="+", metavar="PATH", help="GODAS uflx / ORAS5 sozotaux files")
    p.add_argument("--meridional-stress", nargs="+", metavar="PATH", help="GODAS vflx / ORAS5 sometauy files")
    p.add_argument("--members", type=int, default=3, help="lagged-ensemble members in the plume (default 3)")
    p.add_argument("--base-period", metavar="START/END",
                   help="Niño3.4 base period, e.g. 1991-01-01/2020-12-31 (default: the model's climatology)")
    p.add_argument("--seed", type=int, default=0, help="synthetic-ocean seed for the default inputs")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import pandas as pd

    from downstream.enso.outlook import enso_outlook, inputs_from_files, load_forecaster, write_outlook
    from ocean.errors import ConfigError

    if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", args.init.strip()):
        raise ConfigError(f"--init must be a month like 2020-01, found {args.init!r}")
    init = pd.Timestamp(args.init.strip())
    if args.members < 1:
        raise ConfigError(f"--members must be >= 1, found {args.members}")
    base = None
    if args.base_period:
        parts = args.base_period.split("/")
        if len(parts) != 2:
            raise ConfigError(f"--base-period must be START/END, found {args.base_period!r}")
        base = (parts[0], parts[1])
    fc = load_forecaster(args.model)
    fields = None
    if args.inputs:
        fields = inputs_from_files(args.reader, args.inputs, fc.layout, zonal_stress=args.zonal_stress,
                                   meridional_stress=args.meridional_stress)
    ds = enso_outlook(init, fc, fields, seed=args.seed, members=args.members, base_period=base)
    paths = write_outlook(ds, args.out)
    n = ds["nino34"]
    log.info("Nino3.4 from %s: %s (lead 1..%d); wrote %s and %s", f"{init:%Y-%m}",
             " ".join(f"{v:+.2f}" for v in n.values), n.sizes["lead_time"], paths["netcdf"], paths["plume"])
    return 0
