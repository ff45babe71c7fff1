"""``ocean data build|append|validate``: training cubes from data recipes (see docs/pipeline.md)."""

from __future__ import annotations

import json

from ocean.cli._args import iso_date


def register(sub) -> None:
    p = sub.add_parser("data", help="build, append to and validate training cubes",
                       description="Build a training cube from a data recipe (configs/data/*.yaml), append "
                                   "a day to it for the daily chain, or validate one.")
    cmds = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    b = cmds.add_parser("build", help="build a cube from a recipe",
                        description="Read, regrid, check and write every day of the recipe, then the "
                                    "statistics; the cube appears only when complete.")
    b.add_argument("recipe", help="recipe YAML (e.g. configs/data/synthetic_4deg.yaml)")
    b.add_argument("--out", required=True, metavar="CUBE.zarr", help="the cube to write")
    b.add_argument("--force", action="store_true", help="replace an existing cube (only once the new one is complete)")
    add_pipeline_options(b)
    b.set_defaults(func=run_build)

    a = cmds.add_parser("append", help="append one day (idempotent)",
                        description="Append DATE to the cube. Rerunning a date already in the cube does "
                                    "nothing; a gap is refused unless the recipe's missing policy allows it.")
    a.add_argument("recipe", help="the recipe the cube was built from")
    a.add_argument("--date", required=True, type=iso_date, metavar="DATE", help="the day to append, YYYY-MM-DD")
    a.add_argument("--cube", required=True, metavar="CUBE.zarr", help="the cube to append to")
    add_pipeline_options(a)
    a.set_defaults(func=run_append)

    v = cmds.add_parser("validate", help="check a cube",
                        description="Read every chunk (each damaged one is reported by variable, day and "
                                    "file), then check CF attributes, value ranges, NaN only over land, a daily "
                                    "time axis and the statistics. Exit 0 when sound, 3 when problems are found.")
    v.add_argument("cube", metavar="CUBE.zarr")
    v.add_argument("--json", action="store_true", help="print the problems as JSON")
    v.add_argument("--quick", action="store_true",
                   help="read the metadata and the last days only (default: every chunk, to find damaged ones)")
    v.set_defaults(func=run_validate)


def add_pipeline_options(p) -> None:
    p.add_argument("--root", metavar="DIR", help="folder the recipe's relative paths start from, relative to the "
                                                 "current folder (default: the recipe's root key, relative to "
                                                 "the recipe's folder, else that folder)")
    p.add_argument("--dask-address", metavar="ADDRESS",
                   help="a dask.distributed scheduler (tcp://host:8786) to run on instead of locally")
    p.add_argument("--scheduler", choices=("auto", "local-cluster", "processes", "synchronous"),
                   help="local scheduler (default from the recipe, else auto: a LocalCluster of process "
                        "workers with more than 2 cores, else synchronous)")
    p.add_argument("--workers", type=int, metavar="N", help="local workers (default: one per core, at most 8)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another build/append of the same cube (default: fail, exit 4)")


def recipe_from_args(args):
    from pipelines.recipe import load_recipe

    from pathlib import Path

    # a path typed on the command line means what the shell means: relative to the current folder
    root = None if args.root is None else Path(args.root).expanduser().absolute()
    recipe = load_recipe(args.recipe, root=root)
    return recipe.with_compute(address=args.dask_address, scheduler=args.scheduler, workers=args.workers,
                               progress=False if (args.no_progress or args.quiet) else None)


def run_build(args) -> int:
    from pipelines.build import build_cube

    print(build_cube(recipe_from_args(args), args.out, overwrite=args.force, wait=args.wait).summary())
    return 0


def run_append(args) -> int:
    from pipelines.append import append_day

    print(append_day(recipe_from_args(args), args.cube, args.date, wait=args.wait).summary())
    return 0


def run_validate(args) -> int:
    from pipelines.validate import validate_cube

    problems = validate_cube(args.cube, quick=args.quick)
    if args.json:
        print(json.dumps({"cube": args.cube, "problems": problems}, indent=2))
    elif problems:
        print(f"{args.cube}: {len(problems)} problems")
        for p in problems:
            print(f"  - {p}")
    else:
        print(f"{args.cube}: valid training cube")
    return 3 if problems else 0
