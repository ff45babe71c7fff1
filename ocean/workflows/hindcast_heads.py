"""The downstream heads inside ``ocean hindcast`` (``--heads``, ``--head-truth``, ``--buoys``).

Checks before any work (:func:`plan_heads`, :func:`plan_buoys`), the heads'
scores against their truth with persistence and climatology
(:func:`score_head`, :func:`score_heads` -> ``heads_metrics.nc``), the waves
head against NDBC buoys (:func:`score_buoys_of` -> ``buoys.nc``) and their
report tables. :mod:`ocean.workflows.hindcast` calls these; ``plan`` and
``req`` are its ``_Plan`` and :class:`~ocean.workflows.hindcast.HindcastRequest`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ocean.errors import ConfigError, DataError
from ocean.forecast_store import forecast_path
from ocean.metrics import (align_reference, combine_scores, fit_harmonic_climatology, harmonic_climatology_at,
                           on_grid_of, partial_scores, persistence, region_masks, summarise)

__all__ = ["HeadPlan", "plan_heads", "plan_buoys", "score_head", "score_heads", "score_buoys_of", "heads_table",
           "buoys_table", "CIRCULAR"]

log = logging.getLogger(__name__)


@dataclass
class HeadPlan:
    """A head in a hindcast: its model directory, weights hash, fields and (optional) truth."""

    name: str
    head_dir: Path
    sha256: str
    variables: tuple[str, ...]
    truth: xr.Dataset | None = None
    truth_path: Path | None = None


# --------------------------------------------------------------------------------------
# heads: checks before any work
# --------------------------------------------------------------------------------------


def plan_heads(req, plan, cube: xr.Dataset) -> dict[str, HeadPlan]:
    """Each head resolved (unknown name, missing weights: ConfigError) and its truth checked."""
    from downstream.fields import open_truth
    from downstream.runtime import parse_head_specs, resolve_head_dir
    from ocean.checkpoint import read_metadata
    from ocean.cube import cube_grid

    heads = {}
    for name, explicit in parse_head_specs(req.heads):
        head_dir = resolve_head_dir(name, explicit, plan.model_dir, plan.sha256)
        meta = read_metadata(head_dir)
        heads[name] = HeadPlan(name, head_dir, meta.weights_sha256, tuple(meta.variables))
    valid = valid_days(plan.inits, req.leads)
    for name, path in req.truths.items():
        head = heads[name]
        truth = open_truth(path, cube_grid(cube), [])  # a missing store or another grid fail here
        scored = [v for v in head.variables if v not in CIRCULAR]
        shared = [v for v in scored if v in truth.data_vars]
        if not shared:
            raise DataError(f"the {name} head's truth lacks its fields", file=path,
                            found=sorted(map(str, truth.data_vars)), expected=f"some of {scored}",
                            hint=f"Give a truth of the {name} head's variables on the cube's grid")
        missing = [v for v in scored if v not in shared]
        if missing:
            log.warning("the %s truth %s lacks %s: not scored", name, path, missing)
        if "time" not in truth.dims:
            raise DataError("the truth has no time dimension", file=path, found=list(truth.dims))
        have = pd.DatetimeIndex(truth["time"].values)
        absent = plan.inits.union(valid).difference(have)
        if len(absent):
            raise DataError("the truth lacks days of the hindcast", file=path, variable="time",
                            found=f"{len(absent)} days missing, e.g. {absent[0].date()}",
                            expected=f"the inits and valid days {plan.inits[0].date()}..{valid[-1].date()}",
                            hint="Give a truth covering the hindcast, or move --start/--end")
        head.truth, head.truth_path = truth[shared], Path(path)
    return heads


def valid_days(inits: pd.DatetimeIndex, leads: int) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.unique((inits.values[:, None] + np.arange(1, leads + 1)[None, :]
                                       * np.timedelta64(1, "D")).ravel()))


def plan_buoys(req, plan, cube: xr.Dataset) -> xr.Dataset:
    """The NDBC buoys inside the hindcast's domain (ocean cells within ``buoy_max_km``, valid days)."""
    from downstream.waves.readers import read_ndbc_stdmet
    from downstream.waves.verify import nearest_cell
    from ocean.cube import cube_mask
    from ocean.io import resolve_paths

    positions = req.positions
    valid = valid_days(plan.inits, req.leads)
    ocean = cube_mask(cube)[0]
    lat, lon = cube["latitude"].values, cube["longitude"].values
    kept, dropped = [], []
    for path in resolve_paths(list(req.buoys)):
        sid = str(read_ndbc_stdmet(path)["station"].values[0])
        if sid not in positions:
            raise ConfigError(f"no position for buoy {sid} ({path}): NDBC files do not carry it; pass "
                              f"--buoy-position {sid}=LAT,LON (from the station page)")
        plat, plon = positions[sid]
        ds = read_ndbc_stdmet(path, latitude=plat, longitude=plon, station=sid)
        days = pd.DatetimeIndex(ds["time"].values[np.isfinite(ds["VHM0"].values[0])]).normalize()
        cell = nearest_cell(ocean, lat, lon, plat, plon, req.buoy_max_km)
        if cell is None:
            dropped.append(f"{sid} ({plat:g}, {plon:g}): no ocean cell within {req.buoy_max_km:g} km")
        elif not len(days.intersection(valid)):
            dropped.append(f"{sid}: observations {days.min().date()}..{days.max().date()} miss the valid days")
        else:
            kept.append(ds)
    if not kept:
        raise DataError("no buoy in the hindcast's domain", found="; ".join(dropped),
                        expected=f"buoys within {req.buoy_max_km:g} km of an ocean cell of the cube, with wave "
                                 f"heights on the valid days {valid[0].date()}..{valid[-1].date()}",
                        hint="Check --buoy-position, --buoy-max-km (coarse grids) and the buoy files' year")
    for d in dropped:
        log.warning("buoy not scored: %s", d)
    return xr.concat(kept, dim="station", join="outer") if len(kept) > 1 else kept[0]


# --------------------------------------------------------------------------------------
# heads: scores
# --------------------------------------------------------------------------------------

#: Directions (degrees): an RMSE of raw differences means nothing; the buoys' scores wrap them.
CIRCULAR = frozenset({"VMDR"})


def score_head(forecast_root: "str | os.PathLike", name: str, truth: xr.Dataset, inits: Sequence, leads: int,
               baselines: Sequence[str] = ("persistence", "climatology"), variables: Sequence[str] | None = None,
               climatology: xr.Dataset | None = None, max_memory_mb: float = 1024.0) -> xr.Dataset:
    """Scores of head ``name``'s group of the forecasts for ``inits`` against ``truth`` (``time, [depth,]
    latitude, longitude`` on the forecasts' grid), in blocks of inits.

    Returns dims ``system, metric, lead_time[, depth]`` (global, cos-latitude
    weighted over the cells where both have values, pooled over inits:
    :func:`ocean.metrics.partial_scores`). Systems: ``model``; persistence:
    the truth at init; climatology: :func:`ocean.metrics.fit_harmonic_climatology`
    of the truth over its whole period (``climatology`` to give another one;
    the period mean when it is shorter than a year).
    """
    inits = pd.DatetimeIndex(inits)
    paths = [forecast_path(forecast_root, i) for i in inits]
    first = _open_group(paths[0], name)
    fields = list(variables or [v for v in first.data_vars if v in truth.data_vars and v not in CIRCULAR])
    if not fields:
        raise DataError(f"the {name} head's fields and the truth share no variable",
                        found=sorted(map(str, truth.data_vars)),
                        expected=f"some of {sorted(map(str, first.data_vars))}")
    truth = truth[fields]
    masks = region_masks(first, ["global"])
    if climatology is None and "climatology" in baselines:
        climatology = fit_harmonic_climatology(truth)
    per_init = sum(first[v].isel(lead_time=slice(0, leads)).nbytes for v in fields) / 2**20
    block = max(1, int(max_memory_mb // (8 * per_init)))
    systems = ["model", *baselines]
    parts: dict[str, list] = {s: [] for s in systems}
    for b in range(0, len(paths), block):
        f = xr.concat([_open_group(p, name)[fields].isel(lead_time=slice(0, leads)).load() for p in paths[b:b + block]],
                      dim="init_time", coords="minimal", compat="override", join="exact")
        valid = f["valid_time"]
        days = np.unique(np.concatenate([valid.values.ravel(), f["init_time"].values]))
        window = _truth_on(truth.sel(time=days).load(), f, name)
        r = align_reference(f, window)
        c = _truth_on(harmonic_climatology_at(climatology, valid), f, name) if climatology is not None else None
        state = {"model": f}
        if "persistence" in baselines:
            state["persistence"] = persistence(f, window)
        if "climatology" in baselines:
            state["climatology"] = c.assign_coords(valid_time=valid)
        for s in systems:
            parts[s].append(partial_scores(state[s], r, c, masks, fields))
    attrs = {v: {"long_name": f"scores of the {name} head's {first[v].attrs.get('long_name', v)}",
                 "units": first[v].attrs.get("units", ""), "field": v, "head": name} for v in fields}
    return summarise({s: combine_scores(parts[s], attrs) for s in systems}).squeeze("region", drop=True)


def _open_group(path: Path, name: str) -> xr.Dataset:
    try:
        return xr.open_zarr(path, group=name, consolidated=None, chunks=None)
    except (FileNotFoundError, KeyError, OSError, ValueError) as exc:
        raise DataError(f"the forecast has no {name!r} head group", file=path,
                        hint=f"Run the hindcast with --heads {name} (and --force to remake old forecasts)") from exc


def _truth_on(ds: xr.Dataset, f: xr.Dataset, name: str) -> xr.Dataset:
    """``ds`` on the head's output levels (a subset of the truth's) and with ``f``'s coordinate values."""
    if "depth" in f.coords and "depth" in ds.dims:
        want, have = f["depth"].values, ds["depth"].values
        idx = np.abs(have[None, :] - want[:, None]).argmin(axis=1)
        if not np.allclose(have[idx], want, atol=1e-3):
            raise DataError(f"the truth lacks output levels of the {name} head", variable="depth",
                            found=have.tolist(), expected=want.tolist())
        ds = ds.isel(depth=idx)
    return on_grid_of(ds, f)


def score_heads(req, plan, forecast_root: Path) -> xr.Dataset:
    out = []
    for name, head in plan.heads.items():
        if head.truth is None:
            continue
        log.info("scoring the %s head against %s", name, head.truth_path)
        m = score_head(forecast_root, name, head.truth, plan.inits, req.leads, req.baselines,
                       max_memory_mb=req.max_memory_mb)
        taken = {str(v) for d in out for v in d.data_vars}
        m = m.rename({v: f"{name}_{v}" for v in m.data_vars if v in taken})
        m.attrs = {}
        out.append(m)
    metrics = xr.merge(out, combine_attrs="override")
    metrics.attrs = {"title": "ocean-forecast hindcast scores of the downstream heads",
                     "model_sha256": plan.sha256, "cube": str(req.cube),
                     "inits": f"{plan.inits[0].date()}..{plan.inits[-1].date()} every {req.every}",
                     "init_count": len(plan.inits), "leads": req.leads,
                     "heads": ", ".join(f"{n} ({h.head_dir}, sha256 {h.sha256[:12]})" for n, h in plan.heads.items()),
                     "truths": ", ".join(f"{n}: {h.truth_path}" for n, h in plan.heads.items() if h.truth is not None),
                     "metrics": "rmse, bias (head - truth), acc: cos-latitude weighted over the cells where both have "
                                "values, pooled over inits (acc: per init, averaged)",
                     "systems": "model: the head inside the hindcast's forecasts; persistence: the truth at init; "
                                "climatology: 3 annual harmonics of the truth over its period (its mean when "
                                "shorter than a year)",
                     "not_scored": ", ".join(sorted(CIRCULAR)) + " (directions)",
                     "history": f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%dT%H:%M:%SZ} ocean hindcast --heads"}
    return metrics


def score_buoys_of(req, plan, forecast_root: Path) -> xr.Dataset:
    from downstream.waves.verify import score_buoys
    from ocean.forecast_store import open_forecasts

    paths = [forecast_path(forecast_root, i) for i in plan.inits]
    ocean = None
    for p in paths:  # cells with any value over the hindcast, one init at a time
        with xr.open_zarr(p, group="waves", consolidated=None, chunks=None) as g:
            any_value = np.isfinite(g["VHM0"].isel(lead_time=slice(0, req.leads)).values).any(axis=(0, 1))
        ocean = any_value if ocean is None else ocean | any_value
    fc = open_forecasts(forecast_root, group="waves").sel(init_time=plan.inits.values)
    scores = score_buoys(fc.isel(lead_time=slice(0, req.leads)), plan.buoys, max_km=req.buoy_max_km,
                         ocean_cells=ocean)
    scores.attrs.update({"title": "the waves head against NDBC buoys", "buoy_files": ", ".join(req.buoys),
                         "positions": ", ".join(f"{k}={a:g},{b:g}" for k, (a, b) in req.positions.items()),
                         "head": str(plan.heads["waves"].head_dir)})
    return scores


def report_leads(lead_time) -> list[int]:
    days = (np.asarray(lead_time) / np.timedelta64(1, "D")).astype(int) if np.asarray(lead_time).dtype.kind == "m" \
        else np.asarray(lead_time).astype(int)
    return sorted({int(d) for d in days if d in (1, 5, 10, 30)} | {int(days[-1])})


def heads_table(metrics: xr.Dataset) -> str:
    """Markdown: the heads' RMSE (and the model's bias) by lead for each system, the shallowest level."""
    systems = [str(s) for s in metrics["system"].values]
    days = (metrics["lead_time"].values / np.timedelta64(1, "D")).astype(int)
    rows = [f"{metrics.attrs.get('inits', '')}; truths: {metrics.attrs.get('truths', '')}. "
            f"File: `heads_metrics.nc` (dims system x metric x lead_time [x depth]).", "",
            "| head | field | lead (days) | " + " | ".join(f"{s} RMSE" for s in systems) + " | model bias |",
            "|---|---|---:|" + "---:|" * (len(systems) + 1)]
    for v, da in metrics.data_vars.items():
        label = str(da.attrs.get("field", v))
        if "depth" in da.dims:
            label += f" {float(da['depth'][0]):g} m"
            da = da.isel(depth=0)
        unit = da.attrs.get("units", "")
        for lead in report_leads(metrics["lead_time"].values):
            j = int(np.nonzero(days == lead)[0][0])
            x = da.isel(lead_time=j)
            cells = " | ".join(f"{float(x.sel(system=s, metric='rmse')):.4g}" for s in systems)
            rows.append(f"| {da.attrs.get('head', '')} | {label} ({unit}) | {lead} | {cells} | "
                        f"{float(x.sel(system='model', metric='bias')):.4g} |")
    return "\n".join(rows)


def buoys_table(scores: xr.Dataset) -> str:
    """Markdown: bias, RMSE, scatter index and count by lead for each variable scored against the buoys."""
    days = (scores["lead_time"].values / np.timedelta64(1, "D")).astype(int)
    names = [str(k)[:-5] for k in scores.data_vars if str(k).endswith("_rmse")]
    rows = [f"Stations (matched cell): {scores.attrs.get('stations', '')}; {scores.attrs.get('matching', '')}. "
            "File: `buoys.nc`.", "", "| variable | lead (days) | bias | RMSE | scatter index | n |",
            "|---|---:|---:|---:|---:|---:|"]
    for v in names:
        for lead in report_leads(scores["lead_time"].values):
            j = int(np.nonzero(days == lead)[0][0])
            g = {k: scores[f"{v}_{k}"].values[j] for k in ("bias", "rmse", "si", "n")}
            rows.append(f"| {v} | {lead} | {g['bias']:.3g} | {g['rmse']:.3g} | {g['si']:.3g} | {int(g['n'])} |")
    return "\n".join(rows)
