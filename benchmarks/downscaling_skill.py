"""Held-out skill of a downscaling head against bilinear and bicubic interpolation (prints Markdown).

Forecasts start every ``--every`` days of the test period from the backbone's
cube and run 10 daily steps with the cube's forcing (a forced hindcast, as
``benchmarks/backbone_skill.py``); at each scored lead the head is applied
exactly as inside ``ocean forecast`` (``DownscalingRunner.predict`` on the
step's features and the coarse forecast). Baselines interpolate the same
coarse forecast with scipy (``RectBivariateSpline``, degree 1 and 3) after
filling land with the nearest ocean value, then re-mask with the fine land
mask. Truth: the fine cube at the valid date.

* RMSE: cos-latitude weighted over fine ocean cells, per channel and lead.
* KE spectra: zonal spectra of surface (u, v) on every all-ocean run of at
  least ``--min-run`` fine cells of a latitude row (Hann window, mean
  removed); the energy at wavelengths below the coarse cell size, of each
  method over the truth's.

    python benchmarks/downscaling_skill.py --head outputs/downscaling/demo/head \
        --backbone outputs/demo/model --coarse-cube outputs/demo/cube.zarr \
        --fine-cube outputs/downscaling/truth.zarr --period 2007-01-01 2007-12-31
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np

CHANNELS = ("thetao@0.5", "so@0.5", "uo@0.5", "vo@0.5", "zos", "thetao@100", "uo@100")


def interpolate(coarse: np.ndarray, geometry, fill_index: list, kind: int) -> np.ndarray:
    """``coarse (b, c, hh, wh)`` physical on the halo -> ``(b, c, y, x)`` on the fine grid (scipy)."""
    from scipy.interpolate import RectBivariateSpline

    res, h = geometry.coarse.res, geometry.halo
    lat = geometry.box.lat0 + (np.arange(-h, geometry.box.nlat + h) + 0.5) * res
    lon = geometry.box.lon0 + (np.arange(-h, geometry.box.nlon + h) + 0.5) * res
    out = np.empty((*coarse.shape[:2], *geometry.fine.shape))
    for b in range(coarse.shape[0]):
        for c in range(coarse.shape[1]):
            filled = np.nan_to_num(coarse[b, c][fill_index[c]])
            out[b, c] = RectBivariateSpline(lat, lon, filled, kx=kind, ky=kind)(geometry.fine.lat, geometry.fine.lon)
    return out


def ocean_runs(mask_row: np.ndarray, min_run: int) -> list[slice]:
    """Contiguous ocean runs of a row at least ``min_run`` long."""
    runs, start = [], None
    for i, m in enumerate(list(mask_row) + [False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            if i - start >= min_run:
                runs.append(slice(start, i))
            start = None
    return runs


def small_scale_ke(u: np.ndarray, v: np.ndarray, ocean: np.ndarray, factor: int, min_run: int) -> float:
    """Zonal-spectrum KE at wavelengths below the coarse cell (``factor`` fine cells), summed over runs."""
    total = 0.0
    for b in range(u.shape[0]):
        for y in range(u.shape[1]):
            for run in ocean_runs(ocean[y], min_run):
                n = run.stop - run.start
                win = np.hanning(n)
                k = np.arange(n // 2 + 1)
                band = k > n / factor  # wavelength n / k fine cells < factor fine cells
                for f in (u, v):
                    seg = f[b, y, run] - f[b, y, run].mean()
                    total += 0.5 * float((np.abs(np.fft.rfft(seg * win)) ** 2)[band].sum())
    return total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--head", required=True)
    p.add_argument("--backbone", default="outputs/demo/model")
    p.add_argument("--coarse-cube", default="outputs/demo/cube.zarr")
    p.add_argument("--fine-cube", default="outputs/downscaling/truth.zarr")
    p.add_argument("--period", nargs=2, default=["2007-01-01", "2007-12-31"])
    p.add_argument("--leads", nargs="+", type=int, default=[1, 5, 10])
    p.add_argument("--every", type=int, default=5)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--min-run", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", metavar="PATH")
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    import torch
    import xarray as xr
    from scipy import ndimage

    from backbone.data import load_period, period_indices
    from downstream.checkpoint import load_head
    from downstream.data import open_backbone_cube
    from downstream.frozen import FrozenBackbone
    from downstream.registry import get_head
    from downstream.runtime import ForecastContext, LeadStep

    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    bb = FrozenBackbone.load(a.backbone)
    head, meta = load_head(a.head, bb, "downscaling")
    geometry, leads = head.geometry, sorted(a.leads)
    runner = get_head("downscaling").runner(head, meta, ForecastContext(np.datetime64("2000-01-01"), leads[-1], bb,
                                                                        a.head))
    info = open_backbone_cube(bb, a.coarse_cube)
    lo, hi = period_indices(info.times, tuple(a.period), a.coarse_cube)
    state_n, forcing_n = load_period(info, lo, hi)
    state = info.statistics.denormalise(state_n, channel_axis=1) * info.channel_mask[None]
    forcing = info.forcing_statistics.denormalise(forcing_n, channel_axis=1)
    starts = np.arange(0, hi - lo - leads[-1], a.every)
    channels = [c for c in CHANNELS if c in meta.channels]
    idx = [list(meta.channels).index(c) for c in channels]
    coarse_idx = [list(bb.channels).index(c) for c in meta.channels]
    halo_mask = geometry.crop(info.channel_mask)[coarse_idx]
    fill = [ndimage.distance_transform_edt(~m, return_distances=False, return_indices=True) if (~m).any() and m.any()
            else np.indices(m.shape) for m in halo_mask]
    fill = [tuple(f) for f in fill]
    fine = xr.open_zarr(a.fine_cube)
    ocean = head.out_mask.numpy() > 0  # (c_out, y, x)
    w = np.cos(np.deg2rad(geometry.fine.lat))[:, None] * ocean  # (c_out, y, x)
    methods = ("head", "bilinear", "bicubic")
    sq = {m: np.zeros((len(leads), len(meta.channels))) for m in methods}
    ke = {m: np.zeros(len(leads)) for m in (*methods, "truth")}
    iu, iv = list(meta.channels).index("uo@0.5"), list(meta.channels).index("vo@0.5")
    for b0 in range(0, starts.size, a.batch):
        s = starts[b0:b0 + a.batch]
        previous = torch.as_tensor(state[s])
        f = torch.as_tensor(np.stack([forcing[t + 1:t + 1 + leads[-1]] for t in s]))
        for k, pred in enumerate(bb.forecaster.rollout(previous, f), start=1):
            if k in leads:
                feats = bb.features(bb.normalise_state(previous), bb.normalise_forcing(f[:, k - 1]))
                valid = info.times[lo + s + k]
                truth_ds = fine.sel(time=valid)
                truth = np.stack([(truth_ds[c.split("@")[0]].sel(depth=float(c.split("@")[1]), method="nearest")
                                   if "@" in c else truth_ds[c]).values for c in meta.channels], axis=1)
                out = {"head": runner.predict(LeadStep(k - 1, valid[0], previous, pred, f[:, k - 1], feats))}
                halo = geometry.crop(pred.numpy())[:, coarse_idx]
                for name, kind in (("bilinear", 1), ("bicubic", 3)):
                    out[name] = np.where(ocean[None], interpolate(halo, geometry, fill, kind), np.nan)
                j = leads.index(k)
                for m in methods:
                    err = np.nan_to_num((out[m] - truth) ** 2) * w[None]
                    sq[m][j] += (err.sum(axis=(2, 3)) / w.sum(axis=(1, 2))[None]).sum(0)
                for m, fld in (*out.items(), ("truth", truth)):
                    ke[m][j] += small_scale_ke(np.nan_to_num(fld[:, iu]), np.nan_to_num(fld[:, iv]), ocean[iu],
                                               geometry.factor, a.min_run)
            previous = pred
        logging.info("scored starts %d..%d of %d", b0 + 1, b0 + len(s), starts.size)
    n = starts.size
    rmse = {m: np.sqrt(sq[m] / n) for m in methods}
    print(f"head {a.head} (sha256 {meta.weights_sha256[:12]}) on backbone {a.backbone} (sha256 {bb.sha256[:12]}); "
          f"fine grid {geometry.fine.describe()}; period {a.period[0]}..{a.period[1]}, {n} starts every {a.every} "
          f"days; {time.perf_counter() - t0:.0f} s\n")
    print("| lead (days) | channel | head RMSE | bilinear RMSE | bicubic RMSE | head / bicubic |")
    print("|---:|---|---:|---:|---:|---:|")
    for j, lead in enumerate(leads):
        for c, i in zip(channels, idx):
            r = {m: rmse[m][j, i] for m in methods}
            print(f"| {lead} | {c} | {r['head']:.4g} | {r['bilinear']:.4g} | {r['bicubic']:.4g} | "
                  f"{r['head'] / r['bicubic']:.3f} |")
    rel = {m: (rmse[m] / rmse["bicubic"]).mean(axis=1) for m in methods}
    wins = {lead: int(((rmse["head"][j] < rmse["bilinear"][j]) & (rmse["head"][j] < rmse["bicubic"][j])).sum())
            for j, lead in enumerate(leads)}
    print("\n| lead (days) | mean RMSE / bicubic, all channels (head, bilinear) | channels where the head beats "
          "both | KE below the coarse cell / truth (head, bilinear, bicubic) |")
    print("|---:|---|---:|---|")
    for j, lead in enumerate(leads):
        kr = {m: ke[m][j] / ke["truth"][j] for m in methods}
        print(f"| {lead} | {rel['head'][j]:.3f}, {rel['bilinear'][j]:.3f} | {wins[lead]} of {len(meta.channels)} | "
              f"{kr['head']:.3g}, {kr['bilinear']:.3g}, {kr['bicubic']:.3g} |")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"leads": leads, "channels": list(meta.channels), "starts": int(n),
                       "rmse": {m: rmse[m].tolist() for m in methods},
                       "ke_ratio": {m: (ke[m] / ke["truth"]).tolist() for m in methods}}, fh, indent=1)


if __name__ == "__main__":
    main()
