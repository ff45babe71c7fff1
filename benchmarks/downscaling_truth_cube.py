"""Build the synthetic fine truth cube for a downscaling head (prints figures as JSON).

The fine grid is the head's: the region's box of backbone cells refined
``--factor`` times (``RegionGeometry``), so the cube nests exactly in the
backbone's cube. For the demo evidence (docs/downstream.md): the demo
backbone's 4 degree cells over the Kuroshio box refined 3x (4/3 degree),
the 15 default levels, 2000-2007, statistics over the training years::

    python benchmarks/downscaling_truth_cube.py --out outputs/downscaling/truth.zarr \
        --coarse-res 4 --region kuroshio --factor 3 --start 2000-01-01 --end 2007-12-31 --stats-end 2005-12-31

The real set-up takes its 1/12 degree truth from GLORYS through a recipe instead.
"""

from __future__ import annotations

import argparse
import json
import logging


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--coarse-res", default="4", help="the backbone's global grid resolution (degrees)")
    p.add_argument("--region", default="kuroshio", help="a region name, or lon_min,lon_max,lat_min,lat_max")
    p.add_argument("--factor", type=int, default=3)
    p.add_argument("--levels", default="aigoms15")
    p.add_argument("--start", default="2000-01-01")
    p.add_argument("--end", default="2007-12-31")
    p.add_argument("--stats-end", default="2005-12-31")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--force", action="store_true")
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from downstream.downscaling.geometry import RegionGeometry, resolve_region
    from downstream.downscaling.truth import synthetic_truth_cube
    from ocean.grid import Grid

    region = a.region
    if "," in region:
        lo, hi, s, n = (float(x) for x in region.split(","))
        region = {"name": "custom", "lon_min": lo, "lon_max": hi, "lat_min": s, "lat_max": n}
    geometry = RegionGeometry.build(Grid.global_(a.coarse_res), resolve_region(region), a.factor)
    figures = synthetic_truth_cube(a.out, grid=geometry.fine, levels=a.levels, start=a.start, end=a.end,
                                   stats_end=a.stats_end, seed=a.seed, workers=a.workers, overwrite=a.force)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
