"""Held-out RMSE of a backbone model directory vs persistence (prints a Markdown table).

    python benchmarks/backbone_skill.py outputs/demo/model outputs/demo/cube.zarr \
        --period 2007-01-01 2007-12-31 --leads 1 5 10 30

Forecasts start every ``--every`` days in the period and use the cube's
forcing for the predicted days; RMSE is area-weighted over ocean points, in
physical units (see ``backbone.evaluate``).
"""

from __future__ import annotations

import argparse
import json
import logging
import time


def main() -> None:
    p = argparse.ArgumentParser(description="held-out RMSE of a backbone vs persistence")
    p.add_argument("model_dir")
    p.add_argument("cube")
    p.add_argument("--period", nargs=2, default=["2007-01-01", "2007-12-31"], metavar=("START", "END"))
    p.add_argument("--leads", nargs="+", type=int, default=[1, 5, 10, 30])
    p.add_argument("--channels", nargs="+", default=["thetao@0.5", "thetao@100", "zos", "uo@0.5"])
    p.add_argument("--every", type=int, default=5, help="days between forecast starts")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    import torch

    from backbone.evaluate import format_skill, rollout_skill
    from backbone.forecaster import Forecaster

    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    fc = Forecaster.load(a.model_dir)
    skill = rollout_skill(fc, a.cube, tuple(a.period), a.leads, a.channels, a.every)
    print(f"model {a.model_dir} (sha256 {fc.metadata.weights_sha256[:12]}), cube {a.cube}, "
          f"period {a.period[0]}..{a.period[1]}, {skill.starts} starts every {a.every} days, "
          f"{time.perf_counter() - t0:.0f} s")
    print(format_skill(skill))
    beats = all(r["model"] < r["persistence"] for r in skill.as_rows() if r["lead"] in (1, 5, 10))
    print(f"model beats persistence at leads 1, 5, 10 for every channel: {beats}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"period": a.period, "starts": skill.starts, "rows": skill.as_rows()}, f, indent=1)


if __name__ == "__main__":
    main()
