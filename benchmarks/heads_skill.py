"""Held-out skill of the wave and biogeochemistry heads against persistence and climatology (prints Markdown).

Two sub-commands::

    # the heads' synthetic truth on the backbone cube's grid and levels (same seed: the cube's winds, its physics)
    python benchmarks/heads_skill.py truth --product waves --out outputs/waves/truth.zarr
    python benchmarks/heads_skill.py truth --product bgc --out outputs/biochem/truth.zarr

    # the evidence table
    python benchmarks/heads_skill.py score --waves outputs/waves/demo/head --biochem outputs/biochem/demo/head \
        --backbone outputs/demo/model --cube outputs/demo/cube.zarr --period 2007-01-01 2007-12-31

Forecasts start every ``--every`` days of the test period from the backbone's
cube and run ``max(leads)`` daily steps with the cube's forcing (a forced
hindcast, as ``benchmarks/backbone_skill.py``); the heads run exactly as
inside ``ocean forecast`` (``FieldRunner.predict`` on each step's features,
the forecast state and forcing, and the head's own previous output), starting
from the truth at the initial date (the analysis). Baselines: persistence of
that analysis, and the truth's day-of-year climatology over
``--clim-period`` (daily means over the years, smoothed over +-15 days).
RMSE: cos-latitude weighted over cells where the truth and the head have
values, per lead.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np

SCORED = {"waves": ("VHM0", "VTM02"), "biochem": ("chl@0.5", "no3@0.5", "o2@0.5")}
UNITS = {"VHM0": "m", "VTM02": "s", "chl": "mg m-3", "no3": "mmol m-3", "o2": "mmol m-3"}


def make_truth(a) -> None:
    from downstream.fields import synthetic_truth
    from ocean import cube as C

    ds = C.open_cube(a.cube)
    t0 = time.perf_counter()
    synthetic_truth(a.out, a.product, grid=C.cube_grid(ds), levels=C.cube_levels(ds), start=a.start, end=a.end,
                    seed=int(ds.attrs.get("synthetic_seed", 0)), overwrite=a.force)
    print(json.dumps({"product": a.product, "out": a.out, "seconds": round(time.perf_counter() - t0, 1)}))


def _field(ds, channel: str, times) -> np.ndarray:
    """Physical ``(n, lat, lon)`` of ``channel`` (``var`` or ``var@depth``) at ``times`` from a truth cube."""
    var, _, depth = channel.partition("@")
    da = ds[var] if not depth else ds[var].sel(depth=float(depth), method="nearest")
    return da.sel(time=times).values.astype(np.float64)


def climatology(ds, channel: str, period, half_window: int = 15) -> np.ndarray:
    """Day-of-year climatology ``(366, lat, lon)``: daily means over the years, circularly smoothed."""
    import pandas as pd

    t = pd.DatetimeIndex(ds["time"].values)
    sel = t[(t >= pd.Timestamp(period[0])) & (t <= pd.Timestamp(period[1]))]
    x = _field(ds, channel, sel.values)
    doy = sel.day_of_year.values - 1
    total, count = np.zeros((366, *x.shape[1:])), np.zeros((366, 1, 1))
    np.add.at(total, doy, np.nan_to_num(x))
    np.add.at(count, doy, 1.0)
    kernel = np.arange(-half_window, half_window + 1)
    smooth_t = sum(np.roll(total, k, axis=0) for k in kernel)
    smooth_c = sum(np.roll(count, k, axis=0) for k in kernel)
    clim = smooth_t / np.maximum(smooth_c, 1)
    return np.where(np.isfinite(x).any(axis=0)[None], clim, np.nan)


def score(a) -> None:
    import pandas as pd
    import torch
    import xarray as xr

    from backbone.data import load_period, period_indices
    from downstream.checkpoint import load_head
    from downstream.data import open_backbone_cube
    from downstream.fields import FieldRunner, truth_channels
    from downstream.frozen import FrozenBackbone
    from downstream.runtime import ForecastContext, LeadStep

    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    bb = FrozenBackbone.load(a.backbone)
    info = open_backbone_cube(bb, a.cube)
    lo, hi = period_indices(info.times, tuple(a.period), a.cube)
    state_n, forcing_n = load_period(info, lo, hi)
    state = info.statistics.denormalise(state_n, channel_axis=1) * info.channel_mask[None]
    forcing = info.forcing_statistics.denormalise(forcing_n, channel_axis=1)
    times = info.times[lo:hi]
    leads = sorted(a.leads)
    heads = {}
    for name, path in (("waves", a.waves), ("biochem", a.biochem)):
        if not path:
            continue
        head, meta = load_head(path, bb, name)
        truth = xr.open_zarr(a.truth.get(name) or meta.config["data"]["truth"], chunks=None)
        runner = FieldRunner(head, meta, ForecastContext(np.datetime64(times[0], "ns"), leads[-1], bb, path))
        chans = [c for c in SCORED[name] if c in meta.channels]
        heads[name] = {"head": head, "meta": meta, "truth": truth, "runner": runner, "channels": chans,
                       "clim": {c: climatology(truth, c, a.clim_period) for c in chans},
                       "obs": {c: _field(truth, c, times) for c in chans}}
        logging.info("%s: %s on %s, scoring %s", name, path, meta.config["data"]["truth"], chans)
    w = np.cos(np.deg2rad(bb.grid.lat))[:, None]
    starts = np.arange(0, len(times) - leads[-1], a.every)
    sums = {(n, c, m): np.zeros(len(leads)) for n, h in heads.items() for c in h["channels"]
            for m in ("head", "persistence", "climatology", "weight")}
    for b0 in range(0, starts.size, a.batch):
        s = starts[b0:b0 + a.batch]
        previous = torch.as_tensor(state[s])
        f = torch.as_tensor(np.stack([forcing[t + 1:t + 1 + leads[-1]] for t in s]))
        hprev = {n: h["head"].normalise(torch.from_numpy(truth_channels(h["truth"], h["head"].channels, times[s])))
                 for n, h in heads.items()}
        with torch.no_grad():
            for k, pred in enumerate(bb.forecaster.rollout(previous, f), start=1):
                feats = bb.features(bb.normalise_state(previous), bb.normalise_forcing(f[:, k - 1]))
                lead = LeadStep(k - 1, times[s[0] + k], previous, pred, f[:, k - 1], feats)
                for n, h in heads.items():
                    hprev[n] = h["runner"].predict(lead, hprev[n], valid_times=times[s + k])
                    if k not in leads:
                        continue
                    fields = h["head"].to_fields(hprev[n], h["head"].extra_mask(pred))
                    j = leads.index(k)
                    for c in h["channels"]:
                        var, _, depth = c.partition("@")
                        x = fields[var] if not depth else fields[var][:, h["head"].channel_depths(var).index(
                            float(depth))]
                        obs = h["obs"][c][s + k]
                        pers = h["obs"][c][s]
                        clim = h["clim"][c][pd.DatetimeIndex(times[s + k]).day_of_year.values - 1]
                        ok = np.isfinite(x) & np.isfinite(obs) & np.isfinite(pers) & np.isfinite(clim)
                        wk = np.where(ok, w[None], 0.0)
                        for m, est in (("head", x), ("persistence", pers), ("climatology", clim)):
                            sums[(n, c, m)][j] += (np.nan_to_num(est - obs) ** 2 * wk).sum()
                        sums[(n, c, "weight")][j] += wk.sum()
                previous = pred
        logging.info("scored starts %d..%d of %d", b0 + 1, b0 + len(s), starts.size)
    _report(a, heads, sums, leads, starts.size, time.perf_counter() - t0)


def _report(a, heads, sums, leads, n, seconds) -> None:
    print(f"backbone {a.backbone}; cube {a.cube}; period {a.period[0]}..{a.period[1]}, {n} starts every "
          f"{a.every} days; climatology {a.clim_period[0]}..{a.clim_period[1]}; {seconds:.0f} s\n")
    print("| head | channel | lead (days) | head RMSE | persistence RMSE | climatology RMSE | head / best baseline |")
    print("|---|---|---:|---:|---:|---:|---:|")
    table = {}
    for name, h in heads.items():
        for c in h["channels"]:
            r = {m: np.sqrt(sums[(name, c, m)] / np.maximum(sums[(name, c, "weight")], 1e-12))
                 for m in ("head", "persistence", "climatology")}
            table[f"{name}/{c}"] = {m: v.tolist() for m, v in r.items()}
            unit = UNITS.get(c.split("@")[0], "")
            for j, lead in enumerate(leads):
                best = min(r["persistence"][j], r["climatology"][j])
                print(f"| {name} | {c} ({unit}) | {lead} | {r['head'][j]:.4g} | {r['persistence'][j]:.4g} | "
                      f"{r['climatology'][j]:.4g} | {r['head'][j] / best:.3f} |")
    print("\n| head | trainable parameters | total (head + backbone) | trainable share |")
    print("|---|---:|---:|---:|")
    for name, h in heads.items():
        p = h["meta"].extra["parameters"]
        print(f"| {name} | {p['trainable_parameters']:,} | {p['total_parameters']:,} | "
              f"{100 * p['trainable_share']:.1f} % |")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"leads": leads, "starts": int(n), "rmse": table,
                       "parameters": {k: h["meta"].extra["parameters"] for k, h in heads.items()}}, fh, indent=1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("truth", help="write a head's synthetic truth on the cube's grid and levels")
    t.add_argument("--product", choices=("waves", "bgc"), required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--cube", default="outputs/demo/cube.zarr")
    t.add_argument("--start", default="2000-01-01")
    t.add_argument("--end", default="2007-12-31")
    t.add_argument("--force", action="store_true")
    s = sub.add_parser("score", help="print the evidence table")
    s.add_argument("--waves", default="outputs/waves/demo/head")
    s.add_argument("--biochem", default="outputs/biochem/demo/head")
    s.add_argument("--waves-truth", default=None, help="default: the truth the head was trained on")
    s.add_argument("--biochem-truth", default=None)
    s.add_argument("--backbone", default="outputs/demo/model")
    s.add_argument("--cube", default="outputs/demo/cube.zarr")
    s.add_argument("--period", nargs=2, default=["2007-01-01", "2007-12-31"])
    s.add_argument("--clim-period", nargs=2, default=["2000-01-01", "2005-12-31"])
    s.add_argument("--leads", nargs="+", type=int, default=[1, 5, 10])
    s.add_argument("--every", type=int, default=5)
    s.add_argument("--batch", type=int, default=16)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--json", metavar="PATH")
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    np.seterr(all="ignore")
    if a.command == "truth":
        make_truth(a)
    else:
        a.truth = {"waves": a.waves_truth, "biochem": a.biochem_truth}
        score(a)


if __name__ == "__main__":
    main()
