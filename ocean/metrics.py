"""Skill scores of gridded forecasts: area-weighted, land-masked RMSE, bias and ACC.

Conventions (DESIGN.md "Evaluation"):

* weights are ``cos(latitude)`` (proportional to cell area on a regular
  grid) times the region's mask; land is NaN and skipped;
* RMSE and bias pool the squared / signed errors over space and all inits
  (``sqrt`` of the weighted mean squared error), computed with xskillscore;
* ACC is the uncentred anomaly correlation (WeatherBench's definition)
  against a climatology, computed per init over space and then averaged
  over inits (xskillscore only has the centred Pearson correlation);
* results are an ``xarray.Dataset`` with dims ``metric x region x lead_time
  [x depth]``, one variable per field.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import xarray as xr
import xskillscore as xs

from ocean.errors import DataError
from ocean.grid import REGIONS, Region

__all__ = ["weights", "region_masks", "align_reference", "persistence", "climatology_at",
           "daily_climatology", "score", "acc", "summarise", "METRICS"]

METRICS = ("rmse", "bias", "acc")
_SPACE = ("latitude", "longitude")


def weights(lat: xr.DataArray) -> xr.DataArray:
    """cos-latitude weights (area-proportional on a regular grid)."""
    return np.cos(np.deg2rad(lat)).clip(min=0.0)


def region_masks(ds: xr.Dataset | xr.DataArray, regions: Sequence["str | Region"]) -> xr.DataArray:
    """Boolean ``(region, latitude, longitude)`` masks; an empty region is an error."""
    regs = [REGIONS[r] if isinstance(r, str) else r for r in regions]
    lat, lon = ds["latitude"].values, ds["longitude"].values
    masks = np.stack([r.contains(lat[:, None], lon[None, :]) for r in regs])
    empty = [r.name for r, m in zip(regs, masks) if not m.any()]
    if empty:
        raise DataError("a region contains no grid points of the data", variable="region", found=empty,
                        expected=f"boxes overlapping latitude {lat.min():g}..{lat.max():g}, "
                                 f"longitude {lon.min():g}..{lon.max():g}")
    return xr.DataArray(masks, dims=("region", *_SPACE),
                        coords={"region": [r.name for r in regs], "latitude": ds["latitude"],
                                "longitude": ds["longitude"]})


def _check_same_grid(forecast: xr.Dataset, reference: xr.Dataset) -> None:
    for c in ("latitude", "longitude", "depth"):
        if c in forecast.coords and c in reference.coords:
            a, b = forecast[c].values, reference[c].values
            if a.shape != b.shape or not np.allclose(a, b, atol=1e-6):
                raise DataError(f"forecast and reference have different {c}", variable=c,
                                found=f"forecast {a.size} values {a.min():g}..{a.max():g}",
                                expected=f"the reference's {b.size} values {b.min():g}..{b.max():g}",
                                hint="Score on the grid and levels the model was trained on")


def align_reference(forecast: xr.Dataset, reference: xr.Dataset) -> xr.Dataset:
    """The reference at each forecast's valid time: dims ``init_time, lead_time, ...``."""
    _check_same_grid(forecast, reference)
    valid = forecast["valid_time"]
    have = reference["time"].values
    missing = np.setdiff1d(np.unique(valid.values), have)
    if missing.size:
        raise DataError("valid times outside the reference", variable="time",
                        found=f"{missing.size} dates missing, e.g. {str(missing[0])[:10]}",
                        expected=f"dates within {str(have[0])[:10]}..{str(have[-1])[:10]}",
                        hint="Shorten --leads or move --end earlier")
    return reference.sel(time=valid).drop_vars("time")


def persistence(forecast: xr.Dataset, reference: xr.Dataset) -> xr.Dataset:
    """Persistence baseline: the reference state at init, for every lead."""
    have = reference["time"].values
    inits = forecast["init_time"].values
    missing = np.setdiff1d(inits, have)
    if missing.size:
        raise DataError("init dates outside the reference", variable="init_time",
                        found=[str(m)[:10] for m in missing[:3]],
                        expected=f"dates within {str(have[0])[:10]}..{str(have[-1])[:10]}")
    state = reference.sel(time=forecast["init_time"]).drop_vars("time")
    state = state.expand_dims(lead_time=forecast["lead_time"]).transpose("init_time", "lead_time", ...)
    return state.assign_coords(valid_time=forecast["valid_time"])


def daily_climatology(reference: xr.Dataset, period: tuple[str, str] | None = None,
                      window: int = 31) -> xr.Dataset:
    """Day-of-year climatology (1..366), smoothed with a circular ``window``-day mean."""
    ref = reference.sel(time=slice(*period)) if period else reference
    clim = ref.groupby("time.dayofyear").mean()
    full = clim.reindex(dayofyear=np.arange(1, 367))
    if window > 1:
        half = window // 2
        padded = xr.concat([full.isel(dayofyear=slice(-half, None)), full, full.isel(dayofyear=slice(0, half))],
                           dim="dayofyear")
        smooth = padded.rolling(dayofyear=window, center=True, min_periods=1).mean()
        full = smooth.isel(dayofyear=slice(half, half + 366)).assign_coords(dayofyear=np.arange(1, 367))
    return full


def climatology_at(clim: xr.Dataset, valid_time: xr.DataArray) -> xr.Dataset:
    """The day-of-year climatology at ``valid_time`` (dims of ``valid_time``)."""
    doy = valid_time.dt.dayofyear
    return clim.sel(dayofyear=doy).drop_vars("dayofyear", errors="ignore")


def acc(forecast: xr.DataArray, reference: xr.DataArray, clim: xr.DataArray, w: xr.DataArray,
        dim: Sequence[str] = _SPACE) -> xr.DataArray:
    """Uncentred anomaly correlation over ``dim`` (NaN skipped)."""
    fa, ra = forecast - clim, reference - clim
    valid = fa.notnull() & ra.notnull()
    fa, ra = fa.where(valid, 0.0), ra.where(valid, 0.0)
    ww = w.where(valid, 0.0)
    num = (ww * fa * ra).sum(dim)
    den = np.sqrt((ww * fa**2).sum(dim) * (ww * ra**2).sum(dim))
    return num / den.where(den > 0)


def score(forecast: xr.Dataset, reference: xr.Dataset, climatology: xr.Dataset | None = None,
          regions: Sequence["str | Region"] = ("global",), variables: Sequence[str] | None = None,
          aligned: bool = False) -> xr.Dataset:
    """Scores of ``forecast`` (``init_time, lead_time, [depth,] lat, lon``) against ``reference``.

    ``reference`` has a ``time`` dim (``aligned=False``) or is already at the
    forecast's valid times. ``climatology`` (same dims as the aligned
    reference) enables ACC. Returns dims ``metric, region, lead_time[, depth]``.
    """
    variables = list(variables or [v for v in forecast.data_vars if v in reference.data_vars])
    ref = reference if aligned else align_reference(forecast[variables], reference[variables])
    masks = region_masks(forecast, regions)
    w0 = weights(forecast["latitude"])
    out = {}
    for v in variables:
        f, r = forecast[v], ref[v]
        per_region = []
        for name in masks["region"].values:
            w = w0 * masks.sel(region=name, drop=True)
            wt = w.expand_dims(init_time=f["init_time"])  # xskillscore: weights span exactly `dim`
            dims = ["init_time", *_SPACE]
            m = [xs.rmse(f, r, dim=dims, weights=wt, skipna=True),
                 xs.me(f, r, dim=dims, weights=wt, skipna=True)]
            if climatology is not None:
                m.append(acc(f, r, climatology[v], w).mean("init_time"))
            else:
                m.append(xr.full_like(m[0], np.nan))
            per_region.append(xr.concat(m, dim=xr.DataArray(list(METRICS), dims="metric", name="metric")))
        out[v] = xr.concat(per_region, dim=masks["region"]).assign_attrs(forecast[v].attrs)
    return xr.Dataset(out).transpose("metric", "region", "lead_time", ...)


def summarise(scores: Mapping[str, xr.Dataset]) -> xr.Dataset:
    """Stack the scores of several systems (model, baselines) along a ``system`` dim."""
    names = list(scores)
    return xr.concat([scores[n] for n in names], dim=xr.DataArray(names, dims="system", name="system"))
