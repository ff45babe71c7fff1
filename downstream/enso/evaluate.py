"""ENSO hindcast scores: Niño3.4 ACC and RMSE by lead month against persistence and damped persistence.

:func:`enso_hindcast` is what ``ocean hindcast --enso`` calls. It forecasts
from every start month of a test period (``stride`` months apart), takes
Niño3.4 of each forecast (:func:`downstream.enso.index.forecast_nino34`)
and of the truth (:func:`ocean.indices.box_mean` + the same climatology and
3-month centred mean), and scores three systems:

* ``model``: the 3D-Geoformer;
* ``persistence``: the last observed 3-month mean (the months ``init-3 ..
  init-1``) held for every lead;
* ``damped_persistence``: that anomaly times ``r(lead + 1)``, the lag
  autocorrelation of the observed index over the fitting period (the
  training period by default); a constant factor per lead, so its ACC equals
  persistence's up to the sign of r and only its RMSE differs.

ACC is the Pearson correlation over start dates of predicted and observed
index at each lead; RMSE the root mean square difference. Outputs (in
``out_dir``): ``enso_scores.nc`` (``acc``, ``rmse`` by ``system x
lead_time``; ``acc_map`` by ``system x start_month x lead_time``; the
forecast and observed indices by ``init_time x lead_time``), ``enso_skill.png``
and ``enso_scores.md``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import xskillscore as xs

from downstream.enso.data import synthetic_fields, to_array
from downstream.enso.forecaster import EnsoForecaster
from downstream.enso.index import box_climatology, forecast_nino34, running_mean
from downstream.enso.outlook import load_forecaster
from ocean.errors import DataError
from ocean.indices import NINO34, box_mean
from ocean.store import write_netcdf

__all__ = ["enso_hindcast", "hindcast_indices", "score_indices", "lag_autocorrelation", "markdown_table",
           "plot_skill", "SYSTEMS"]

log = logging.getLogger(__name__)

SYSTEMS = ("model", "persistence", "damped_persistence")


def _synthetic_seed(fc: EnsoForecaster) -> int | None:
    data = (fc.metadata.provenance.get("data", {}) if fc.metadata else {})
    return data.get("synthetic", {}).get("seed") if "synthetic" in data else None


def _period(fc: EnsoForecaster, key: str) -> tuple[str, str] | None:
    data = fc.metadata.provenance.get("data", {}) if fc.metadata else {}
    return tuple(data[key]) if key in data else None


def observed_index(fields: xr.Dataset, clim_box: xr.DataArray) -> xr.DataArray:
    """Monthly Niño3.4 (3-month centred mean) of ``fields``' top temperature level against ``clim_box``."""
    sst = fields["thetao"].isel(depth=0)
    series = box_mean(sst, NINO34) - clim_box.sel(month=sst["time"].dt.month).drop_vars("month")
    return running_mean(series, "time").rename("nino34")


def lag_autocorrelation(index: xr.DataArray, lags: np.ndarray) -> np.ndarray:
    """Autocorrelation of a monthly index at ``lags`` months (NaN-safe)."""
    x = np.asarray(index.values, dtype=np.float64)
    out = []
    for k in lags:
        a, b = x[:-k] if k else x, x[k:]
        ok = np.isfinite(a) & np.isfinite(b)
        out.append(np.corrcoef(a[ok], b[ok])[0, 1] if ok.sum() > 2 else np.nan)
    return np.asarray(out)


def hindcast_indices(fc: EnsoForecaster, fields: xr.Dataset, inits: pd.DatetimeIndex,
                     batch_size: int = 8) -> xr.DataArray:
    """Forecast Niño3.4 ``(init_time, lead_time)`` for every init (inputs taken from ``fields``).

    Anomalies are against the model's climatology, as :func:`observed_index` with ``clim_box`` from it.
    """
    n_in, n_out = fc.config.io.input_months, fc.config.io.output_months
    times = pd.DatetimeIndex(fields["time"].values)
    raw = to_array(fields, fc.layout, "the hindcast fields")
    g = fc.layout.grid
    out = []
    for b in range(0, len(inits), batch_size):
        chunk = inits[b:b + batch_size]
        pos = [times.get_loc(t) for t in chunk]
        x = np.stack([raw[p - n_in:p] for p in pos])
        anom = fc.predict_anomalies(x, [times[p - n_in:p] for p in pos], batch_size=batch_size)[:, :, 0]
        last = np.stack([raw[p - 1, 0] - fc.climatology.at(times[p - 1:p])[0, 0] for p in pos])
        sst = np.concatenate([last[:, None], anom], axis=1)  # (b, 1 + n_out, lat, lon) anomalies
        da = xr.DataArray(sst, dims=("init_time", "lead_time", "latitude", "longitude"),
                          coords={"init_time": chunk, "lead_time": np.arange(n_out + 1), "latitude": g.lat,
                                  "longitude": g.lon})
        out.append(forecast_nino34(da))
        log.info("ENSO hindcast: %d/%d starts", min(b + batch_size, len(inits)), len(inits))
    return xr.concat(out, dim="init_time")


def score_indices(forecast: xr.DataArray, observed: xr.DataArray) -> xr.Dataset:
    """ACC and RMSE by lead, and the start-month x lead ACC map, of ``forecast (system, init_time, lead_time)``."""
    acc = xs.pearson_r(forecast, observed, dim="init_time", skipna=True)
    rmse = xs.rmse(forecast, observed, dim="init_time", skipna=True)
    month = forecast["init_time"].dt.month.rename("start_month")
    maps = []
    for m in range(1, 13):  # every start month; NaN where fewer than 3 starts (e.g. a stride of 3 or 4)
        if int((month == m).sum()) > 2:
            r = xs.pearson_r(forecast.where(month == m, drop=True), observed.where(month == m, drop=True),
                             dim="init_time", skipna=True)
        else:
            r = xr.full_like(acc, np.nan)
        maps.append(r.expand_dims(start_month=[m]))
    acc_map = xr.concat(maps, dim="start_month").transpose(*forecast.dims[:-2], "start_month", "lead_time")
    ds = xr.Dataset({"acc": acc, "rmse": rmse, "acc_map": acc_map,
                     "count": xr.DataArray(forecast.sizes["init_time"])})
    ds["acc"].attrs = {"long_name": "Nino3.4 anomaly correlation over start dates (Pearson)", "units": "1"}
    ds["rmse"].attrs = {"long_name": "Nino3.4 root-mean-square error", "units": "degrees_C"}
    ds["acc_map"].attrs = {"long_name": "Nino3.4 anomaly correlation by start month of the forecast", "units": "1"}
    return ds


def enso_hindcast(model=None, out_dir: "str | os.PathLike | None" = None, *, fields: xr.Dataset | None = None,
                  period: tuple[str, str] | None = None, fit_period: tuple[str, str] | None = None,
                  stride: int = 1, seed: int | None = None, batch_size: int = 8) -> xr.Dataset:
    """Score the model's Niño3.4 on a test period; see the module docstring.

    ``fields``: monthly truth covering ``period`` plus the 12 months before
    and 21 after (default: the synthetic ocean the model was trained on);
    ``period`` defaults to the model's test period, ``fit_period`` (damped
    persistence) to its training period.
    """
    fc = load_forecaster(model)
    period = tuple(period or _period(fc, "test") or ())
    if len(period) != 2:
        raise DataError("no test period", expected="period=(start, end) or a model trained with a test period")
    n_in, n_out = fc.config.io.input_months, fc.config.io.output_months
    start, end = pd.Timestamp(period[0]).to_period("M").to_timestamp(), pd.Timestamp(period[1])
    seed = _synthetic_seed(fc) if seed is None else seed
    if fields is None:
        if seed is None:
            raise DataError("no truth fields", expected="fields=... (monthly reanalysis) for a model not "
                                                        "trained on the synthetic ocean")
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        fields = synthetic_fields(fc.layout, start, months, seed)
    times = pd.DatetimeIndex(fields["time"].values)
    inits = pd.DatetimeIndex([t for t in times[n_in::stride] if t + pd.DateOffset(months=n_out) <= times[-1]])
    if len(inits) < 3:
        raise DataError("too few start dates", found=f"{len(inits)} in {times[0]:%Y-%m}..{times[-1]:%Y-%m}",
                        expected=f"at least 3 starts with {n_in} months before and {n_out + 1} after")
    g = fc.layout.grid
    clim_box = box_climatology(fc.climatology.values[:, 0], g.lat, g.lon)
    obs = observed_index(fields, clim_box)
    log.info("ENSO hindcast: %d starts %s..%s (every %d months)", len(inits), f"{inits[0]:%Y-%m}",
             f"{inits[-1]:%Y-%m}", stride)
    model_index = hindcast_indices(fc, fields, inits, batch_size)
    r = _damping(fc, fit_period, seed, clim_box, obs, n_out)
    truth, persistence = _truth_and_persistence(obs, inits, n_out)
    damped = persistence * xr.DataArray(r[1:], dims="lead_time", coords={"lead_time": truth["lead_time"]})
    forecast = xr.concat([model_index.assign_coords(lead_time=truth["lead_time"]), persistence, damped],
                         dim=xr.DataArray(list(SYSTEMS), dims="system", name="system"))
    scores = score_indices(forecast, truth)
    scores["nino34_forecast"] = forecast
    scores["nino34_observed"] = truth
    scores["damping"] = xr.DataArray(r[1:], dims="lead_time", attrs={"long_name": "r(lead + 1) of damped persistence"})
    scores.attrs = {"title": "ENSO hindcast scores (Nino3.4)", "test_period": f"{period[0]}/{period[1]}",
                    "starts": len(inits), "stride_months": stride,
                    "model": ("shipped" if model is None else
                              str(model) if isinstance(model, (str, os.PathLike)) else "an EnsoForecaster"),
                    "model_sha256": fc.metadata.weights_sha256 if fc.metadata else "",
                    "climatology_period": "/".join(fc.climatology.period),
                    "persistence": "mean of the 3 months before init, held",
                    "damped_persistence": "persistence x lag autocorrelation r(lead+1) over the fitting period"}
    if out_dir is not None:
        write_scores(scores, out_dir)
    return scores


def _truth_and_persistence(obs: xr.DataArray, inits: pd.DatetimeIndex, n_out: int):
    leads = np.arange(1, n_out + 1)
    valid = [[t + pd.DateOffset(months=int(k) - 1) for k in leads] for t in inits]
    truth = xr.DataArray(np.stack([obs.sel(time=v).values for v in valid]), dims=("init_time", "lead_time"),
                         coords={"init_time": inits, "lead_time": leads}, name="nino34")
    held = obs.sel(time=[t - pd.DateOffset(months=2) for t in inits]).values  # centre of init-3..init-1
    persistence = xr.DataArray(np.repeat(held[:, None], n_out, axis=1), dims=truth.dims, coords=truth.coords)
    return truth, persistence


def _damping(fc, fit_period, seed, clim_box, obs, n_out) -> np.ndarray:
    fit_period = fit_period or _period(fc, "train")
    series = obs
    if fit_period is not None and seed is not None:
        a, b = pd.Timestamp(fit_period[0]), pd.Timestamp(fit_period[1])
        months = (b.year - a.year) * 12 + b.month - a.month + 1
        series = observed_index(synthetic_fields(fc.layout, a, months, seed), clim_box)
    elif fit_period is not None:
        series = obs.sel(time=slice(*fit_period))
    return lag_autocorrelation(series, np.arange(1, n_out + 2))


def markdown_table(scores: xr.Dataset) -> str:
    """ACC and RMSE by lead month for each system, as a Markdown table."""
    head = "| lead (months) | " + " | ".join(f"ACC {s}" for s in scores["system"].values) + " | " + \
        " | ".join(f"RMSE {s}" for s in scores["system"].values) + " |"
    sep = "|" + "---|" * (1 + 2 * scores.sizes["system"])
    rows = [head, sep]
    for lead in scores["lead_time"].values:
        a = scores["acc"].sel(lead_time=lead).values
        r = scores["rmse"].sel(lead_time=lead).values
        rows.append(f"| {int(lead)} | " + " | ".join(f"{v:.2f}" for v in a) + " | " +
                    " | ".join(f"{v:.2f}" for v in r) + " |")
    return "\n".join(rows) + "\n"


def plot_skill(scores: xr.Dataset):
    """ACC and RMSE by lead (all systems) and the model's start-month x lead ACC map; returns the Figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_acc, ax_rmse, ax_map = fig.subplots(1, 3)
    lead = scores["lead_time"].values
    for s, style in zip(scores["system"].values, ("-o", "--", ":")):
        ax_acc.plot(lead, scores["acc"].sel(system=s), style, ms=3, label=str(s))
        ax_rmse.plot(lead, scores["rmse"].sel(system=s), style, ms=3, label=str(s))
    ax_acc.axhline(0.5, color="0.5", lw=0.8)
    low = float(scores["acc"].min())
    ax_acc.set(xlabel="lead (months)", ylabel="ACC", title="Niño3.4 anomaly correlation",
               ylim=(min(-0.2, low - 0.05) if np.isfinite(low) else -0.2, 1.0))
    ax_rmse.set(xlabel="lead (months)", ylabel="RMSE (°C)", title="Niño3.4 RMSE")
    ax_acc.legend(fontsize=8)
    m = scores["acc_map"].sel(system="model")
    mesh = ax_map.pcolormesh(lead, m["start_month"].values, m.values, vmin=0, vmax=1, cmap="viridis",
                             shading="nearest")
    v = m.values
    if np.isfinite(v).any() and np.nanmin(v) < 0.5 < np.nanmax(v):
        cs = ax_map.contour(lead, m["start_month"].values, v, levels=[0.5], colors="w", linewidths=1)
        ax_map.clabel(cs, fontsize=7)
    ax_map.set(xlabel="lead (months)", ylabel="start month", title="model ACC by start month")
    fig.colorbar(mesh, ax=ax_map, shrink=0.85)
    for a in (ax_acc, ax_rmse):
        a.grid(alpha=0.3)
    return fig


def write_scores(scores: xr.Dataset, out_dir: "str | os.PathLike") -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ds = scores.assign_coords(system=scores["system"].astype(str))
    nc = write_netcdf(ds, out / "enso_scores.nc")
    png = out / "enso_skill.png"
    tmp = png.with_name(f".{png.name}.tmp")
    plot_skill(scores).savefig(tmp, dpi=110, format="png")
    os.replace(tmp, png)
    md = out / "enso_scores.md"
    md.write_text(f"# {scores.attrs.get('title', 'ENSO scores')}\n\nTest period {scores.attrs.get('test_period')}, "
                  f"{scores.attrs.get('starts')} starts.\n\n" + markdown_table(scores))
    log.info("wrote %s, %s, %s", nc, png, md)
    return {"netcdf": nc, "plot": png, "markdown": md}
