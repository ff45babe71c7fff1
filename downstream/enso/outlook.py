"""The ENSO outlook: fields and Niño3.4 by lead month, a NetCDF file and a plume plot.

Notebook use (the CLI ``ocean enso`` calls the same functions)::

    from downstream.enso import enso_outlook, plot_plume, write_outlook
    ds = enso_outlook("2020-01")              # shipped model, synthetic inputs
    fig = plot_plume(ds)                      # a matplotlib Figure
    write_outlook(ds, "out/")                 # NetCDF + PNG

``init`` is the first forecast month: the inputs are the ``input_months``
months before it and lead 1 is ``init`` itself. Without ``fields``, the
inputs come from the synthetic ocean (so a fresh install needs no data).
The plume is a lagged ensemble: forecasts from ``init`` and the
``members - 1`` months before, each aligned on valid month.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from downstream.enso.data import Layout, synthetic_fields, to_array
from downstream.enso.forecaster import EnsoForecaster
from downstream.enso.index import box_climatology, forecast_nino34, running_mean
from ocean.indices import NINO34, box_mean
from ocean.store import write_netcdf

__all__ = ["default_model_dir", "load_forecaster", "enso_outlook", "write_outlook", "plot_plume"]

log = logging.getLogger(__name__)

_ASSETS = Path(__file__).resolve().parent / "assets"


def default_model_dir() -> Path:
    """The model shipped with the package (trained on the synthetic ocean; docs/enso.md)."""
    return _ASSETS / "geoformer"


def load_forecaster(model: "str | os.PathLike | EnsoForecaster | None" = None) -> EnsoForecaster:
    if isinstance(model, EnsoForecaster):
        return model
    return EnsoForecaster.load(model or default_model_dir())


def _month(init) -> pd.Timestamp:
    return pd.Timestamp(init).to_period("M").to_timestamp()


def _sst_climatology(fc: EnsoForecaster, fields: xr.Dataset | None, base_period, seed: int) -> xr.DataArray:
    """Nino3.4 box-mean SST climatology (month 1..12): the model's, or over ``base_period``."""
    g = fc.layout.grid
    if base_period is None:
        return box_climatology(fc.climatology.values[:, 0], g.lat, g.lon)
    start, end = _month(base_period[0]), _month(base_period[1])
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    wanted = pd.date_range(start, end, freq="MS")
    if fields is None or not wanted.isin(pd.DatetimeIndex(fields["time"].values)).all():
        log.info("Nino3.4 base period %s..%s from the synthetic ocean (seed %d)", start, end, seed)
        fields = synthetic_fields(fc.layout, start, months, seed)
    sst = fields["thetao"].sel(time=slice(start, end)).isel(depth=0)
    return box_mean(sst, NINO34).groupby("time.month").mean()


def enso_outlook(init, model=None, fields: xr.Dataset | None = None, *, seed: int = 0, members: int = 3,
                 base_period: tuple[str, str] | None = None) -> xr.Dataset:
    """The outlook dataset for ``init`` (``YYYY-MM``); see the module docstring."""
    fc = load_forecaster(model)
    init = _month(init)
    n_in = fc.config.io.input_months
    first = init - pd.DateOffset(months=n_in + members - 1)
    if fields is None:
        fields = synthetic_fields(fc.layout, first, n_in + members - 1, seed)
    ds = fc.forecast(fields, init)
    clim_box = _sst_climatology(fc, fields, base_period, seed)
    observed = _observed_index(fc, fields, init, n_in, clim_box)
    lagged = []
    for k in range(members):
        start = init - pd.DateOffset(months=k)
        member = ds if k == 0 else fc.forecast(fields, start)
        lagged.append(_nino34(fc, fields, member, start, clim_box).shift(lead_time=-k))  # align on valid month
    ds["nino34"] = lagged[0]
    ds["nino34_members"] = xr.concat(lagged, dim="member").assign_coords(
        member=("member", np.arange(members), {"long_name": "lagged member: initialised this many months earlier"}))
    ds["nino34_members"].attrs = {**lagged[0].attrs, "long_name": "Nino 3.4 index of the lagged members"}
    ds["nino34_observed"] = observed
    ds["valid_time"].attrs = {"standard_name": "time", "long_name": "valid month"}
    ds["init_time"].attrs = {"standard_name": "forecast_reference_time", "long_name": "first forecast month"}
    ds["lead_time"].attrs = {"long_name": "lead month (1 = the init month)", "units": "1"}
    meta = fc.metadata
    ds.attrs = {
        "title": f"ENSO outlook from {init:%Y-%m}", "Conventions": "CF-1.8",
        "source": f"3D-Geoformer ({fc.config.name}), model sha256 {meta.weights_sha256[:12] if meta else '?'}",
        "inputs": str(fields.attrs.get("source_description", fields.attrs.get("source", "given fields"))),
        "climatology_period": "/".join(fc.climatology.period),
        "nino34_base_period": "/".join(base_period) if base_period else "/".join(fc.climatology.period),
        "nino34_definition": "3-month centred running mean of SST anomalies (top level) over 5S-5N 170W-120W; "
                             "lead 1 includes the last observed month, the last lead is a 2-month mean",
        "history": f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%dT%H:%M:%SZ} downstream.enso.enso_outlook",
    }
    return ds


def _nino34(fc: EnsoForecaster, fields: xr.Dataset, forecast: xr.Dataset, init: pd.Timestamp,
            clim_box: xr.DataArray) -> xr.DataArray:
    """Index by lead for one forecast: the last observed month then the predicted SST."""
    last = init - pd.DateOffset(months=1)
    obs = fields["thetao"].sel(time=last).isel(depth=0).drop_vars(["time", "depth"])
    pred = forecast["thetao"].isel(depth=0)
    pred = pred.drop_vars([c for c in pred.coords if c not in pred.dims])
    sst = xr.concat([obs.expand_dims(lead_time=[0]), pred], dim="lead_time")
    months = pd.DatetimeIndex([last, *pd.DatetimeIndex(forecast["valid_time"].values)]).month
    anomaly = sst - xr.DataArray(clim_box.sel(month=list(months)).values, dims="lead_time")
    # box_mean is linear, so the box mean of (SST - box climatology) is the index's anomaly
    return forecast_nino34(anomaly)


def _observed_index(fc: EnsoForecaster, fields: xr.Dataset, init, n_in: int, clim_box: xr.DataArray) -> xr.DataArray:
    months = pd.date_range(init - pd.DateOffset(months=n_in), periods=n_in, freq="MS")
    sst = fields["thetao"].sel(time=months).isel(depth=0)
    series = box_mean(sst, NINO34) - clim_box.sel(month=sst["time"].dt.month).drop_vars("month")
    out = running_mean(series, "time", 3, min_periods=2).rename("nino34_observed")
    out.attrs = {"long_name": "Nino 3.4 index of the input months (edges: 2-month means)", "units": "degrees_C"}
    return out


def write_outlook(ds: xr.Dataset, out_dir: "str | os.PathLike", dpi: int = 110) -> dict[str, Path]:
    """``OUT/enso_outlook_YYYY-MM.nc`` (atomic) and ``OUT/enso_plume_YYYY-MM.png``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tag = pd.Timestamp(ds["init_time"].values).strftime("%Y-%m")
    nc = write_netcdf(ds, out / f"enso_outlook_{tag}.nc")
    fig = plot_plume(ds)
    png = out / f"enso_plume_{tag}.png"
    tmp = png.with_name(f".{png.name}.tmp")
    fig.savefig(tmp, dpi=dpi, format="png")
    os.replace(tmp, png)
    log.info("wrote %s and %s", nc, png)
    return {"netcdf": nc, "plume": png}


def plot_plume(ds: xr.Dataset, ax=None):
    """Observed index, lagged members and the forecast by valid month; returns the Figure."""
    from matplotlib.figure import Figure

    fig = ax.figure if ax is not None else Figure(figsize=(8, 4.2), layout="constrained")
    ax = ax or fig.add_subplot(111)
    valid = pd.DatetimeIndex(ds["valid_time"].values)
    obs = ds["nino34_observed"]
    ax.plot(pd.DatetimeIndex(obs["time"].values), obs.values, color="k", lw=2, label="observed (inputs)")
    for m in ds["member"].values[1:]:
        ax.plot(valid, ds["nino34_members"].sel(member=m).values, color="tab:blue", lw=0.9, alpha=0.6,
                label="lagged members" if m == 1 else None)
    ax.plot(valid, ds["nino34"].values, color="tab:red", lw=2.2, marker="o", ms=3, label="forecast")
    ax.axhspan(-0.5, 0.5, color="0.9", zorder=0)
    for y, name in ((0.5, "El Niño"), (-0.5, "La Niña")):
        ax.axhline(y, color="0.5", lw=0.8, ls="--")
        ax.text(valid[-1], y, f" {name}", va="bottom" if y > 0 else "top", ha="right", fontsize=8, color="0.35")
    init = pd.Timestamp(ds["init_time"].values)
    ax.axvline(init - pd.Timedelta(days=15), color="0.3", lw=0.8)
    ax.set_title(f"Niño3.4 outlook from {init:%Y-%m} ({ds.attrs.get('source', '').split(',')[0]})", fontsize=10)
    ax.set_ylabel("Niño3.4 (°C, 3-month mean)")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return fig


def inputs_from_files(reader: str, paths, layout: Layout, **stress) -> xr.Dataset:
    """Input months from reanalysis files (GODAS, ORAS5, SODA or canonical), regridded onto ``layout``."""
    from downstream.enso.readers import read_monthly

    ds = read_monthly(reader, paths, layout, **stress)
    to_array(ds.isel(time=slice(0, 1)), layout, f"the {reader} files")  # refuse another grid/levels early
    return ds
