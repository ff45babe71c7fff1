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

For hindcasts (``ocean.workflows.hindcast``) the same metrics are pooled over
blocks of inits (:func:`partial_scores` + :func:`combine_scores`, equal to
:func:`score` on the whole set), against a least-squares annual-harmonic
climatology streamed from the cube (:func:`fit_harmonic_climatology`), with
mixed-layer depth and geostrophic currents as extra fields
(:func:`derived_fields`) and Niño3.4 scored by lead (:func:`index_scores`).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import xarray as xr
import xskillscore as xs

from ocean.errors import DataError
from ocean.grid import REGIONS, Region

__all__ = ["weights", "region_masks", "align_reference", "persistence", "climatology_at",
           "daily_climatology", "score", "acc", "summarise", "METRICS", "fit_harmonic_climatology",
           "harmonic_climatology_at", "derived_fields", "partial_scores", "combine_scores", "regions_from_config",
           "index_scores", "on_grid_of"]

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
    if full.chunks:  # one chunk along dayofyear: a rolling window over one-day chunks is a graph of
        # ~10^5 tasks per variable (minutes for a 40-day cube); the other dims keep dask's auto size
        full = full.chunk({d: (-1 if d == "dayofyear" else "auto") for d in full.dims})
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


# --------------------------------------------------------------------------------------
# Hindcasts: a smooth climatology streamed from a cube, derived ocean fields, and scores
# pooled over blocks of inits (memory bounded by one block).
# --------------------------------------------------------------------------------------

#: Days per year of the harmonic climatology's basis (mean tropical year).
YEAR_DAYS = 365.2425
_EPOCH = np.datetime64("2000-01-01", "ns")


def _harmonic_basis(time: np.ndarray, harmonics: int) -> np.ndarray:
    """``(time, 1 + 2 * harmonics)``: 1, cos(k w t), sin(k w t) for k = 1..harmonics."""
    days = (np.asarray(time, dtype="datetime64[ns]") - _EPOCH) / np.timedelta64(1, "D")
    phase = 2 * np.pi * days[:, None] * np.arange(1, harmonics + 1)[None, :] / YEAR_DAYS
    cols = [np.ones((days.size, 1))]
    for k in range(harmonics):
        cols += [np.cos(phase[:, k:k + 1]), np.sin(phase[:, k:k + 1])]
    return np.concatenate(cols, axis=1)


def fit_harmonic_climatology(reference: xr.Dataset, period: tuple[str, str] | None = None, harmonics: int = 3,
                             block_days: int = 64) -> xr.Dataset:
    """Least-squares annual-harmonic climatology of ``reference`` (``time, ...``), streamed.

    Returns coefficients ``(harmonic, ...)`` (mean, then a cos/sin pair per
    harmonic) in float64: seven numbers per point for three harmonics, where a
    day-of-year climatology keeps 366. Three harmonics resolve the seasonal
    cycle about as a 31-day running window does. The data are read
    ``block_days`` at a time, so memory is one block plus the coefficients.
    A period shorter than a year cannot separate the harmonics: the
    climatology is then the period mean (``harmonics`` 0, with a warning).
    A point that is NaN on any day of the period is NaN (land).
    """
    import logging

    ref = reference.sel(time=slice(*period)) if period else reference
    times = ref["time"].values
    if times.size == 0:
        raise DataError("the climatology period selects no dates", variable="time", found=period,
                        expected=f"dates within {str(reference.time.values[0])[:10]}..{str(reference.time.values[-1])[:10]}")
    span = (times[-1] - times[0]) / np.timedelta64(1, "D") + 1
    n = harmonics if span >= 365 else 0
    if n < harmonics:
        logging.getLogger(__name__).warning(
            "climatology period %s..%s is shorter than a year: using its mean (no seasonal cycle)",
            str(times[0])[:10], str(times[-1])[:10])
    basis = _harmonic_basis(times, n)
    gram_inv = np.linalg.pinv(basis.T @ basis)
    sums = {v: 0.0 for v in ref.data_vars}
    bad = {v: False for v in ref.data_vars}
    for start in range(0, times.size, block_days):
        part = ref.isel(time=slice(start, start + block_days)).load()
        b = basis[start:start + block_days]
        for v in ref.data_vars:
            x = part[v].transpose("time", ...).values.astype(np.float64)
            finite = np.isfinite(x)
            bad[v] = bad[v] | ~finite.all(axis=0)
            sums[v] = sums[v] + np.tensordot(b.T, np.where(finite, x, 0.0), axes=1)
    out = {}
    for v, da in ref.data_vars.items():
        coef = np.tensordot(gram_inv, sums[v], axes=1)
        coef[:, bad[v]] = np.nan
        other = [d for d in da.dims if d != "time"]
        out[v] = (("harmonic", *other), coef, da.attrs)
    coords = {c: ref[c] for c in ref.coords if "time" not in ref[c].dims}
    return xr.Dataset(out, coords={**coords, "harmonic": np.arange(1 + 2 * n)}, attrs={
        "climatology": f"{n} annual harmonics + mean, least squares", "harmonics": n,
        "period_start": str(times[0])[:10], "period_end": str(times[-1])[:10], "year_days": YEAR_DAYS})


def harmonic_climatology_at(coefs: xr.Dataset, valid_time: xr.DataArray) -> xr.Dataset:
    """The harmonic climatology evaluated at ``valid_time`` (dims of ``valid_time``), float32."""
    n = (coefs.sizes["harmonic"] - 1) // 2
    flat = np.asarray(valid_time.values).ravel()
    basis = xr.DataArray(_harmonic_basis(flat, n).reshape(*valid_time.shape, -1), dims=(*valid_time.dims, "harmonic"),
                         coords={d: valid_time[d] for d in valid_time.dims if d in valid_time.coords})
    out = xr.Dataset({v: xr.dot(basis, coefs[v], dim="harmonic").astype(np.float32).assign_attrs(coefs[v].attrs)
                      for v in coefs.data_vars})
    return out.transpose(*valid_time.dims, ...)


def derived_fields(ds: xr.Dataset) -> xr.Dataset:
    """Mixed-layer depth (``mld``, from ``thetao`` and ``so`` with gsw) and geostrophic currents from ``zos``.

    Whatever the inputs allow: ``mld`` needs ``thetao``, ``so`` and levels
    reaching 10 m; ``ugos``/``vgos`` need ``zos`` (NaN within 0.5° of the
    equator). Dims of the inputs without ``depth``.
    """
    from ocean.diagnostics import geostrophic_currents, mixed_layer_depth

    out = xr.Dataset()
    if "thetao" in ds and "so" in ds and "depth" in ds.dims and float(ds["depth"].max()) >= 10.0:
        out["mld"] = mixed_layer_depth(ds["thetao"], ds["so"]).astype(np.float32)
    if "zos" in ds:
        geo = geostrophic_currents(ds["zos"])
        out["ugos"], out["vgos"] = geo["ugos"].astype(np.float32), geo["vgos"].astype(np.float32)
    return out


def partial_scores(forecast: xr.Dataset, reference: xr.Dataset, climatology: xr.Dataset | None,
                   masks: xr.DataArray, variables: Sequence[str] | None = None) -> xr.Dataset:
    """Additive pieces of RMSE, bias and ACC for one block of inits (see :func:`combine_scores`).

    ``forecast``, ``reference`` and ``climatology`` are aligned (``init_time,
    lead_time, [depth,] latitude, longitude``) and in memory; ``masks`` from
    :func:`region_masks`. Per variable, dims ``region, lead_time[, depth]``:
    ``{v}_w`` (sum of the weights of the valid points over inits and space),
    ``{v}_mse`` and ``{v}_me`` (weighted sums of squared and signed errors),
    ``{v}_acc`` (sum over inits of the per-init uncentred ACC) and ``{v}_n``
    (how many inits have an ACC).

    The weighted sums are xarray's weighted reductions (``DataArray.weighted``,
    one ``xr.dot`` for all regions at once). xskillscore's weighted RMSE, which
    :func:`score` calls, broadcasts the weights to the data's shape and checks
    them element by element as Python objects: about 40 times slower on a
    hindcast, for the same numbers (``tests/test_hindcast.py`` checks that the
    pooled scores equal :func:`score`'s).
    """
    variables = list(variables or [v for v in forecast.data_vars if v in reference.data_vars])
    w = xr.DataArray(masks.transpose("region", *_SPACE).values * weights(forecast["latitude"]).values[None, :, None],
                     dims=("region", *_SPACE))
    dims = ["init_time", *_SPACE]
    out = {}
    for v in variables:
        # Bare arrays (dims, no coordinates): nothing to align, so xarray's overhead stays small.
        order = ["init_time", "lead_time", *[d for d in forecast[v].dims if d not in (*dims, "lead_time")], *_SPACE]
        f, r = (_bare(ds[v].transpose(*order)) for ds in (forecast, reference))
        err = f - r  # NaN where either is
        weighted = err.weighted(w)
        parts = {"w": weighted.sum_of_weights(dims), "mse": (err**2).weighted(w).sum(dims), "me": weighted.sum(dims)}
        if climatology is not None and v in climatology:
            c = _bare(climatology[v].transpose(*order))
            valid = err.notnull()
            fa, ra = (f - c).where(valid), (r - c).where(valid)
            num = (fa * ra).weighted(w).sum(_SPACE)
            den = np.sqrt((fa**2).weighted(w).sum(_SPACE) * (ra**2).weighted(w).sum(_SPACE))
            a = num / den.where(den > 0)
            parts["acc"], parts["n"] = a.fillna(0.0).sum("init_time"), a.notnull().sum("init_time")
        else:
            parts["acc"] = parts["n"] = xr.zeros_like(parts["w"])
        coords = {d: forecast[d] for d in order[1:-2] if d in forecast.coords}
        for key, da in parts.items():
            out[f"{v}_{key}"] = da.transpose("region", ...).astype(np.float64).assign_coords(coords)
    return xr.Dataset(out).assign_coords(region=masks["region"].values)


def _bare(da: xr.DataArray) -> xr.DataArray:
    return xr.DataArray(np.asarray(da.values), dims=da.dims)


def combine_scores(parts: Sequence[xr.Dataset], attrs: Mapping[str, Mapping] | None = None) -> xr.Dataset:
    """Pool :func:`partial_scores` of several blocks: dims ``metric, region, lead_time[, depth]``.

    RMSE and bias pool the weighted squared / signed errors over all inits
    (exactly what :func:`score` gives on the whole set); ACC is the mean of
    the per-init ACCs.
    """
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    names = list(dict.fromkeys(str(k).rsplit("_", 1)[0] for k in total.data_vars))
    out = {}
    for v in names:
        w = total[f"{v}_w"].where(total[f"{v}_w"] > 0)
        n = total[f"{v}_n"].where(total[f"{v}_n"] > 0)
        m = [np.sqrt(total[f"{v}_mse"] / w), total[f"{v}_me"] / w, total[f"{v}_acc"] / n]
        da = xr.concat(m, dim=xr.DataArray(list(METRICS), dims="metric", name="metric"))
        out[v] = da.transpose("metric", "region", "lead_time", ...).assign_attrs((attrs or {}).get(v, {}))
    return xr.Dataset(out)


def regions_from_config(path) -> list[Region]:
    """Custom region boxes from a YAML file.

    A mapping (or a list of boxes with a ``name``) under ``regions``::

        regions:
          north_atlantic: {lon_min: -80, lon_max: 0, lat_min: 30, lat_max: 65}
          dateline: {lon_min: 160, lon_max: -160, lat_min: -10, lat_max: 10}  # lon_min > lon_max: crosses 180

    Longitudes in degrees east, either convention.
    """
    from pathlib import Path

    import yaml

    from ocean.errors import ConfigError

    try:
        doc = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the regions config ({exc})") from exc
    items = doc.get("regions", doc) if isinstance(doc, Mapping) else doc
    if isinstance(items, Mapping):
        items = [{"name": k, **(v or {})} for k, v in items.items()]
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: expected a list or mapping of boxes under 'regions', found {type(items).__name__}")
    regions = []
    for item in items:
        try:
            regions.append(Region.from_dict(item))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: region {item!r} cannot be used ({type(exc).__name__}: {exc}); expected "
                              "name, lon_min, lon_max, lat_min, lat_max in degrees") from exc
    return regions


def index_scores(forecast: Mapping[str, xr.DataArray], truth: xr.DataArray) -> xr.Dataset:
    """ACC (Pearson over inits) and RMSE of an index, by lead, for each system.

    ``forecast[system]`` and ``truth`` have dims ``init_time, lead_time``
    (e.g. Niño3.4 anomalies); fewer than 3 inits give NaN.
    """
    stacked = xr.concat([forecast[s] for s in forecast], dim=xr.DataArray(list(forecast), dims="system", name="system"))
    enough = truth.sizes["init_time"] >= 3
    acc_ = xs.pearson_r(stacked, truth, dim="init_time", skipna=True) if enough \
        else xr.full_like(stacked.isel(init_time=0, drop=True), np.nan)
    return xr.Dataset({"acc": acc_.assign_attrs(long_name="anomaly correlation over inits (Pearson)", units="1"),
                       "rmse": xs.rmse(stacked, truth, dim="init_time", skipna=True).assign_attrs(
                           long_name="root-mean-square error over inits", units=truth.attrs.get("units", ""))})


def on_grid_of(ds: xr.Dataset, f: xr.Dataset) -> xr.Dataset:
    """``ds`` with ``f``'s coordinate values, once they are checked to be the same grid and levels."""
    _check_same_grid(f, ds)
    return ds.assign_coords({k: f[k] for k in ("latitude", "longitude", "depth") if k in ds.coords and k in f.coords})
