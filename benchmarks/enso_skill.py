"""Niño3.4 skill of an ENSO model on the synthetic ocean's test period, with the synthetic ENSO's own predictability.

Prints, by lead month, the ACC and RMSE of the model, persistence, damped
persistence (:func:`downstream.enso.evaluate.enso_hindcast`, which also
writes NetCDF, PNG and Markdown to ``--out``), of the last observed month's
anomaly held (a stronger persistence: what an untrained residual model
forecasts) and of a perfect model of the
recharge oscillator (the true oscillator state ``T, h, D`` at the last
observed month propagated exactly with the generator's matrices, no noise),
plus the observed index's standard deviation and lag autocorrelations::

    nice -n 15 .venv/bin/python benchmarks/enso_skill.py --stride 3 --out outputs/enso/scores   # the shipped model
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pandas as pd
import xarray as xr

from downstream.enso.evaluate import enso_hindcast, lag_autocorrelation
from downstream.enso.outlook import load_forecaster
from ocean.synthetic import SyntheticOcean
from ocean.synthetic.enso import _matrices


def perfect_oscillator(fc, scores: xr.Dataset, seed: int) -> xr.DataArray:
    """Nino3.4 forecasts ``(init_time, lead_time)`` from the true oscillator state at the last observed month."""
    inits = pd.DatetimeIndex(scores["init_time"].values)
    n_out = scores.sizes["lead_time"]
    so = SyntheticOcean("tropical_pacific@2", seed=seed)
    a, b = fc.climatology.period
    clim = so.enso_index(a, (pd.Timestamp(b).year - pd.Timestamp(a).year + 1) * 12)
    offset = clim["nino34"].groupby("time.month").mean().values  # the climatology's share of T + D
    start = inits[0] - pd.DateOffset(months=1)
    idx = so.enso_index(start, (inits[-1].year - start.year) * 12 + inits[-1].month - start.month + n_out + 2)
    times = pd.DatetimeIndex(idx["time"].values)
    M, _ = _matrices(so.config.enso)
    phi = np.exp(-1.0 / so.config.enso.background_tau_months)
    out = np.empty((len(inits), n_out))
    for i, t in enumerate(inits):
        p = times.get_loc(t - pd.DateOffset(months=1))
        x = np.array([idx["t_east"].values[p], idx["h_west"].values[p]])
        d = float(idx["background"].values[p])
        path = [x[0] + d]
        for _ in range(n_out + 1):
            x, d = M @ x, phi * d
            path.append(x[0] + d)
        months = times[p:p + n_out + 2].month
        anomaly = np.asarray(path) - offset[months - 1]
        smooth = np.convolve(anomaly, np.ones(3) / 3, mode="valid")  # centred on months 1..n_out
        out[i] = smooth[:n_out]
    return xr.DataArray(out, dims=("init_time", "lead_time"), coords={"init_time": inits,
                                                                      "lead_time": scores["lead_time"].values})


def last_month_persistence(fc, scores: xr.DataArray, seed: int) -> xr.DataArray:
    """The box-mean SST anomaly of the last observed month (init - 1) held: a stronger persistence.

    It is what an untrained residual model forecasts; the issue's persistence holds the mean of the last
    three months, centred a month earlier.
    """
    from downstream.enso.data import synthetic_fields
    from downstream.enso.index import box_climatology
    from ocean.indices import NINO34, box_mean

    inits = pd.DatetimeIndex(scores["init_time"].values)
    first = inits[0] - pd.DateOffset(months=1)
    months = (inits[-1].year - first.year) * 12 + inits[-1].month - first.month
    sst = synthetic_fields(fc.layout, first, months, seed)["thetao"].isel(depth=0)
    g = fc.layout.grid
    clim = box_climatology(fc.climatology.values[:, 0], g.lat, g.lon)
    series = box_mean(sst, NINO34) - clim.sel(month=sst["time"].dt.month).drop_vars("month")
    held = series.sel(time=[t - pd.DateOffset(months=1) for t in inits]).values
    return xr.DataArray(np.repeat(held[:, None], scores.sizes["lead_time"], axis=1), dims=("init_time", "lead_time"),
                        coords={"init_time": inits, "lead_time": scores["lead_time"].values})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", nargs="?", default=None, help="model directory (default: the shipped one)")
    parser.add_argument("--out", default="outputs/enso/scores")
    parser.add_argument("--stride", type=int, default=1, help="months between start dates")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t0 = time.perf_counter()
    fc = load_forecaster(args.model)
    scores = enso_hindcast(fc, args.out, stride=args.stride, batch_size=args.batch_size)
    seed = fc.metadata.provenance["data"]["synthetic"]["seed"]
    obs = scores["nino34_observed"]
    extra = {"last-month persistence": last_month_persistence(fc, scores, seed),
             "perfect oscillator": perfect_oscillator(fc, scores, seed)}
    acc_x = {k: xr.corr(v, obs, dim="init_time") for k, v in extra.items()}
    rmse_x = {k: np.sqrt(((v - obs) ** 2).mean("init_time")) for k, v in extra.items()}
    print(f"\nENSO hindcast: {scores.attrs['starts']} starts (every {args.stride} months), test period "
          f"{scores.attrs['test_period']}, {time.perf_counter() - t0:.0f} s")
    systems = [str(s) for s in scores["system"].values]
    names = systems + list(extra)
    print("| lead | " + " | ".join(f"ACC {s}" for s in names) + " | " + " | ".join(f"RMSE {s}" for s in names) + " |")
    print("|" + "---|" * (1 + 2 * len(names)))
    for lead in scores["lead_time"].values:
        a = [float(scores["acc"].sel(system=s, lead_time=lead)) for s in systems]
        a += [float(acc_x[k].sel(lead_time=lead)) for k in extra]
        r = [float(scores["rmse"].sel(system=s, lead_time=lead)) for s in systems]
        r += [float(rmse_x[k].sel(lead_time=lead)) for k in extra]
        print(f"| {lead} | " + " | ".join(f"{v:.2f}" for v in a) + " | " + " | ".join(f"{v:.2f}" for v in r) + " |")
    first = obs.sel(lead_time=1)
    series = first.assign_coords(init_time=first["init_time"]).sortby("init_time")
    if args.stride == 1:
        ac = lag_autocorrelation(series, np.array([3, 6, 12]))
        print(f"\nobserved Nino3.4 over the test starts: std {float(series.std()):.2f} K, lag autocorrelation "
              f"{ac[0]:.2f} (3 mo), {ac[1]:.2f} (6 mo), {ac[2]:.2f} (12 mo)")
    beat = [int(lead) for lead in scores["lead_time"].values
            if float(scores["acc"].sel(system="model", lead_time=lead))
            > float(scores["acc"].sel(system="persistence", lead_time=lead))]
    at12 = (f"model ACC at 12 months: {float(scores['acc'].sel(system='model', lead_time=12)):.2f}; "
            if 12 in scores["lead_time"].values else "")
    print(f"{at12}model ACC above persistence at leads {beat}")


if __name__ == "__main__":
    main()
