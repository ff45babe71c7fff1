"""Predictability of the synthetic ocean: persistence, climatology and a perfect model.

Prints, for the 4-degree grid (15 levels) over one year, the area-weighted
ocean RMSE of persistence at leads 1, 5, 10 and 30 days for SST (thetao at
the top level), thetao at 100 m, zos and surface uo, next to the
climatology RMSE (deviation from the synthetic world's true day-of-year
climatology, ``SyntheticOcean.climatology``), the standard deviation of
daily tendencies, and two perfect-model forecasts that know the dynamics
and the initial state but not the ocean's future innovations or eddy births
(``physics.Known``): one given the future atmospheric forcing (as the
backbone is) and one without it; both keep the true ENSO scalars. For
ENSO it prints the lag autocorrelation of the Nino3.4 index (3-month
running mean of monthly anomalies from the monthly ENSO fields) at 3, 6 and
12 months from a 200-year run, its dominant period, the perfect-model
anomaly correlation at 12 months and the cost of a 500-year monthly run.

Usage::

    .venv/bin/python benchmarks/synthetic_predictability.py [--seed 0] [--year 2020]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import signal

from ocean.synthetic import SyntheticOcean
from ocean.synthetic.enso import NINO34, _matrices
from ocean.synthetic.noise import to_days
from ocean.synthetic.physics import Known

LEADS = (1, 5, 10, 30)
FIELDS = ("SST", "thetao100", "zos", "uo0")


def _extract(out: dict, k100: int) -> dict:
    return {"SST": out["thetao"][0], "thetao100": out["thetao"][k100], "zos": out["zos"], "uo0": out["uo"][0]}


def _series(so: SyntheticOcean, days, known=Known()) -> dict:
    k100 = so.levels.index(100.0)
    rows = [_extract(o, k100) for _, o in so.iter_days(days, known=known)]
    return {f: np.stack([r[f] for r in rows]) for f in FIELDS}


def _weights(so: SyntheticOcean) -> dict:
    area = so.grid.cell_area()
    m0, m100 = so.ctx.mask[0], so.ctx.mask[so.levels.index(100.0)]
    w = {"SST": area * m0, "thetao100": area * m100, "zos": area * m0, "uo0": area * m0}
    return {k: v / v.sum() for k, v in w.items()}


def _rmse(err: np.ndarray, w: np.ndarray) -> float:
    return float(np.sqrt(np.nansum(np.nan_to_num(err) ** 2 * w, axis=(-2, -1)).mean()))


def daily_table(seed: int, year: int) -> None:
    so = SyntheticOcean("4deg", levels="aigoms15", seed=seed)
    d0 = int(to_days(f"{year}-01-01")[0])
    days = np.arange(d0, d0 + 365 + max(LEADS))
    t = time.perf_counter()
    truth = _series(so, days)
    elapsed = time.perf_counter() - t
    clim = _series(so, days[:365], Known.climatology())
    w = _weights(so)
    print(f"4-degree grid (45x90), 15 levels, seed {seed}: {days.size} days of physics in {elapsed:.1f} s")
    inits = np.arange(0, 365, 10)
    forecasts = {}
    for name, forcing in (("perfect model + forcing", True), ("perfect model, no forcing", False)):
        per_lead = {}
        for lead in LEADS:
            rows = []
            for i in inits:
                known = Known(ocean_until=int(days[i]), forcing_until=None if forcing else int(days[i]))
                rows.append(_series(so, days[i + lead: i + lead + 1], known))
            per_lead[lead] = {f: np.concatenate([r[f] for r in rows]) for f in FIELDS}
        forecasts[name] = per_lead
    header = f"{'field':10s} {'metric':32s}" + "".join(f"{'lead ' + str(L):>10s}" for L in LEADS)
    print(header)
    print("-" * len(header))
    for f in FIELDS:
        x = truth[f]
        pers = [_rmse(x[L:L + 365] - x[:365], w[f]) for L in LEADS]
        print(f"{f:10s} {'persistence RMSE':32s}" + "".join(f"{v:10.4f}" for v in pers))
        for name, per_lead in forecasts.items():
            vals = [_rmse(per_lead[L][f] - x[inits + L], w[f]) for L in LEADS]
            print(f"{'':10s} {name + ' RMSE':32s}" + "".join(f"{v:10.4f}" for v in vals))
        print(f"{'':10s} {'persistence (same inits)':32s}"
              + "".join(f"{_rmse(x[inits + L] - x[inits], w[f]):10.4f}" for L in LEADS))
        climate = _rmse(x[:365] - clim[f], w[f])
        tend = np.diff(x[:366], axis=0)
        tend_std = _rmse(tend - np.nansum(np.nan_to_num(tend) * w[f]) / tend.shape[0], w[f])
        print(f"{'':10s} {'climatology RMSE':32s}{climate:10.4f}   daily-tendency std {tend_std:.4f}")


def _nino34(ds) -> np.ndarray:
    lat_min, lat_max, lon_min, lon_max = NINO34
    box = ds["thetao"].isel(depth=0).sel(latitude=slice(lat_min, lat_max))
    lon = (box["longitude"] + 180.0) % 360.0 - 180.0
    box = box.where((lon >= lon_min) & (lon <= lon_max))
    w = np.cos(np.deg2rad(box["latitude"]))
    series = box.weighted(w).mean(("latitude", "longitude")).values
    months = np.arange(series.size) % 12
    anomaly = series - np.array([series[months == m].mean() for m in range(12)])[months]
    return np.convolve(anomaly, np.ones(3) / 3.0, mode="same")


def enso_table(seed: int) -> None:
    so = SyntheticOcean("4deg", seed=seed)
    t = time.perf_counter()
    ds = so.enso_monthly("1850-01-01", 500 * 12, grid="tropical_pacific@2")
    elapsed = time.perf_counter() - t
    print(f"\nENSO: 500 years of monthly fields on the 2-degree tropical Pacific "
          f"({ds.sizes['latitude']}x{ds.sizes['longitude']}, 7 levels) in {elapsed:.1f} s")
    x = _nino34(ds.isel(time=slice(0, 200 * 12)))
    x = x - x.mean()
    acf = {k: float(np.corrcoef(x[:-k], x[k:])[0, 1]) for k in (3, 6, 12)}
    f, p = signal.welch(x, fs=12.0, nperseg=50 * 12, nfft=400 * 12)
    period = 1.0 / f[1:][np.argmax(p[1:])]
    print(f"Nino3.4 (200 years, 3-month running mean): std {x.std():.2f} K, "
          + ", ".join(f"lag-{k} autocorrelation {v:.2f}" for k, v in acf.items())
          + f", dominant period {period:.1f} years")
    idx = so.enso_index("1850-01-01", 200 * 12)
    M, _ = _matrices(so.config.enso)
    M12 = np.linalg.matrix_power(M, 12)
    phi12 = np.exp(-12.0 / so.config.enso.background_tau_months)
    state = np.stack([idx["t_east"].values, idx["h_west"].values])
    pred = (M12 @ state)[0] + phi12 * idx["background"].values
    truth = idx["nino34"].values
    acc = np.corrcoef(pred[:-12], truth[12:])[0, 1]
    print(f"perfect-model Nino3.4 anomaly correlation at 12 months (from the oscillator state): {acc:.2f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--skip-daily", action="store_true")
    args = parser.parse_args(argv)
    if not args.skip_daily:
        daily_table(args.seed, args.year)
    enso_table(args.seed)


if __name__ == "__main__":
    main()
