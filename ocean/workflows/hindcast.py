"""The hindcast: forecasts from many past inits, scored against the cube and baselines.

``run_hindcast(HindcastRequest(...))`` (what ``ocean hindcast`` runs) does, in order:

1. checks everything before any work: the model matches the cube
   (variables, levels, grid, forcing), every init and every valid day lies in
   the cube, every region holds grid points;
2. makes the forecast for every init into ``OUT/forecasts/`` with
   :func:`ocean.workflows.forecast.run_forecast`, forced by the cube's own
   forcing on the lead days ("perfect forcing", the default, as hindcasts of
   AI-GOMS, XiHe and WenHai are forced by ERA5) or by the cube's forcing
   climatology. Existing forecasts are reused when the same model made them
   with the same forcing and enough leads, so an interrupted hindcast resumes;
3. fits the climatology the ACC and the climatology baseline need: three
   annual harmonics over the cube's statistics period
   (:func:`ocean.metrics.fit_harmonic_climatology`), cached in
   ``OUT/climatology.nc``;
4. scores blocks of inits (memory bounded by one block): loads the forecasts,
   the cube on the days they need and the baselines (persistence: the state
   at init; climatology), adds mixed-layer depth and geostrophic currents,
   and pools RMSE, bias and ACC over the blocks
   (:func:`ocean.metrics.partial_scores`); Niño3.4 by lead day and lead month;
5. optionally: Class-4 against Argo profiles (``argo``) and the ENSO head's
   hindcast (``enso``, :func:`downstream.enso.evaluate.enso_hindcast`);
   the downstream heads (``heads``: run inside every forecast and written as
   groups of its store) scored against a truth per head (``head_truth``,
   :func:`score_head`: RMSE, bias and ACC per lead, with persistence of the
   truth at init and its harmonic climatology as baselines) and the waves
   head against NDBC buoys (``buoys``,
   :func:`downstream.waves.verify.score_buoys`: bias, RMSE, scatter index);
6. writes ``metrics.nc`` (dims ``system x metric x region x lead_time
   [x depth]``, one variable per field), ``nino34.nc``, ``class4.nc``,
   ``heads_metrics.nc`` (dims ``system x metric x lead_time [x depth]``),
   ``buoys.nc``, ``scorecard.png``, ``lead_curves.png`` and ``report.md``,
   each atomically, only after everything has been computed.

Nothing here is CLI-specific: a notebook can call :func:`run_hindcast`.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ocean.errors import ConfigError, DataError
from ocean.forecast_store import forecast_path
from ocean.grid import REGIONS, Region
from ocean.lock import pid_alive
from ocean.workflows.hindcast_heads import (HeadPlan, buoys_table, heads_table, plan_buoys, plan_heads,
                                            score_buoys_of, score_head, score_heads)
from ocean.metrics import (combine_scores, derived_fields, fit_harmonic_climatology, harmonic_climatology_at,
                           on_grid_of, partial_scores, persistence, align_reference, region_masks,
                           regions_from_config, summarise)

__all__ = ["HindcastRequest", "HindcastResult", "run_hindcast", "DEFAULT_REGIONS", "BASELINES", "open_hindcast",
           "score_head"]

log = logging.getLogger(__name__)

DEFAULT_REGIONS = ("global", "tropics", "kuroshio", "gulf_stream", "nino34")
BASELINES = ("persistence", "climatology")
FORCINGS = {"cube": "the cube's own forcing", "climatology": "climatology of the cube's forcing"}
_DERIVED_ATTRS = {"mld": {"long_name": "mixed layer depth (sigma0 + 0.03 kg m-3 from 10 m, gsw)", "units": "m"},
                  "ugos": {"long_name": "surface geostrophic eastward velocity from zos", "units": "m s-1"},
                  "vgos": {"long_name": "surface geostrophic northward velocity from zos", "units": "m s-1"}}


@dataclass(frozen=True)
class HindcastRequest:
    """What to hindcast and how to score it. ``None`` fields take the defaults."""

    cube: Path
    start: str
    end: str
    out: Path
    model: Path | None = None
    every: str = "7D"
    leads: int = 30
    regions: tuple[str, ...] | None = None  # default: DEFAULT_REGIONS + the config's boxes
    regions_config: Path | None = None
    baselines: tuple[str, ...] = BASELINES
    forcing: str = "cube"
    argo: tuple[str, ...] = ()
    enso: bool = False
    enso_model: Path | None = None
    enso_stride: int = 3  # every n-th start month of the ENSO test period (1: all 840)
    derived: bool = True
    force: bool = False
    max_memory_mb: float = 1024.0
    heads: tuple[str, ...] = ()  # NAME or NAME=HEAD_DIR, as `ocean forecast --heads`
    head_truth: tuple[str, ...] = ()  # NAME=STORE (Zarr cube or NetCDF on the cube's grid)
    buoys: tuple[str, ...] = ()  # NDBC stdmet files (globs ok), scored against the waves head
    buoy_positions: tuple[str, ...] = ()  # ID=LAT,LON (NDBC files do not carry the position)
    buoy_max_km: float = 300.0

    def __post_init__(self) -> None:
        if not 1 <= self.leads <= 366:
            raise ConfigError(f"--leads must be between 1 and 366 days, found {self.leads}")
        if self.enso_stride < 1:
            raise ConfigError(f"--enso-stride must be >= 1, found {self.enso_stride}")
        unknown = sorted(set(self.baselines) - set(BASELINES))
        if unknown:
            raise ConfigError(f"unknown baseline(s) {unknown}; known: {', '.join(BASELINES)}")
        if self.forcing not in FORCINGS:
            raise ConfigError(f"--forcing must be one of {', '.join(FORCINGS)}, found {self.forcing!r}")
        try:
            pd.tseries.frequencies.to_offset(self.every)
        except ValueError as exc:
            raise ConfigError(f"--every {self.every!r} is not a pandas frequency (e.g. 7D, 1D, MS)") from exc
        names = self.head_names
        if len(set(names)) != len(names):
            raise ConfigError(f"--heads names a head twice: {list(names)}")
        for name in self.truths:
            if name not in names:
                raise ConfigError(f"--head-truth {name}=...: the head {name!r} is not in --heads "
                                  f"({', '.join(names) or 'none'}); add --heads {name}")
        if self.buoys and "waves" not in names:
            raise ConfigError("--buoys verifies the waves head: add --heads waves")
        if self.buoy_positions and not self.buoys:
            raise ConfigError("--buoy-position without --buoys: give the buoy files with --buoys GLOB")
        self.positions  # noqa: B018 (parse errors here)
        if not self.buoy_max_km > 0:
            raise ConfigError(f"--buoy-max-km must be positive, found {self.buoy_max_km}")

    @property
    def head_names(self) -> tuple[str, ...]:
        return tuple(str(h).partition("=")[0].strip() for h in self.heads)

    @property
    def truths(self) -> dict[str, Path]:
        """``--head-truth NAME=STORE`` as ``{name: path}``."""
        out: dict[str, Path] = {}
        for item in self.head_truth:
            name, sep, where = str(item).partition("=")
            if not sep or not name.strip() or not where.strip():
                raise ConfigError(f"--head-truth expects NAME=STORE (e.g. waves=outputs/waves/truth.zarr), "
                                  f"found {item!r}")
            if name.strip() in out:
                raise ConfigError(f"--head-truth gives the {name.strip()!r} head two truths")
            out[name.strip()] = Path(where.strip())
        return out

    @property
    def positions(self) -> dict[str, tuple[float, float]]:
        """``--buoy-position ID=LAT,LON`` as ``{id: (lat, lon)}``."""
        out: dict[str, tuple[float, float]] = {}
        for item in self.buoy_positions:
            sid, sep, where = str(item).partition("=")
            try:
                lat, lon = (float(x) for x in where.split(","))
            except ValueError:
                lat = lon = np.nan
            if not sep or not sid.strip() or not (-90 <= lat <= 90 and -360 <= lon <= 360):
                raise ConfigError(f"--buoy-position expects ID=LAT,LON in degrees (e.g. 46097=44.64,-124.30), "
                                  f"found {item!r}")
            out[sid.strip()] = (lat, lon)
        return out


@dataclass
class HindcastResult:
    out: Path
    inits: pd.DatetimeIndex
    files: dict[str, Path] = field(default_factory=dict)
    forecasts: dict[str, int] = field(default_factory=dict)  # status -> count (written, exists)
    metrics: xr.Dataset | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    model_dir: Path
    sha256: str
    variables: tuple[str, ...]
    inits: pd.DatetimeIndex
    regions: list[Region]
    period: tuple[str, str] | None
    heads: dict[str, HeadPlan] = field(default_factory=dict)
    buoys: xr.Dataset | None = None


def run_hindcast(req: HindcastRequest) -> HindcastResult:
    """Run the hindcast (see the module docstring)."""
    t0 = time.perf_counter()
    plan = _plan(req)
    result = HindcastResult(Path(req.out), plan.inits)
    result.forecasts = _make_forecasts(req, plan)
    result.timings["forecasts"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    clim = _climatology(req, plan)
    result.timings["climatology"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    metrics, nino = score_hindcast(_forecast_root(req), req.cube, plan.inits, req.leads, clim, plan.regions,
                                   req.baselines, plan.variables, req.derived, req.max_memory_mb)
    metrics.attrs.update(_attrs(req, plan))
    result.metrics = metrics
    result.timings["scoring"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    class4 = _class4(req, plan, result.notes) if req.argo else None
    enso = _enso(req) if req.enso else None
    result.timings["class4_enso"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    heads = score_heads(req, plan, _forecast_root(req)) if any(h.truth is not None for h in plan.heads.values()) else None
    buoys = score_buoys_of(req, plan, _forecast_root(req)) if plan.buoys is not None else None
    if heads is not None or buoys is not None:
        result.timings["heads"] = time.perf_counter() - t4
    result.files = _write_outputs(req, metrics, nino, class4, enso, result, heads, buoys)
    result.timings["total"] = time.perf_counter() - t0
    log.info("hindcast done in %.1f s: %s", result.timings["total"], ", ".join(p.name for p in result.files.values()))
    return result


def open_hindcast(path: "str | os.PathLike") -> xr.Dataset:
    """The metrics of a hindcast directory (``metrics.nc``), loaded; the path is kept in ``attrs``."""
    path = Path(path)
    file = path / "metrics.nc" if path.is_dir() else path
    if not file.is_file():
        raise DataError("no hindcast metrics here", file=path, expected="a directory written by `ocean hindcast`"
                        " (metrics.nc)", hint="Run `ocean hindcast ... --out DIR` first")
    with xr.open_dataset(file) as ds:
        out = ds.load()
    out.attrs["hindcast_dir"] = str(file.parent)
    return out


# --------------------------------------------------------------------------------------
# 1. checks
# --------------------------------------------------------------------------------------


def _plan(req: HindcastRequest) -> _Plan:
    from ocean.checkpoint import check_compatible, read_metadata
    from ocean.cube import cube_grid, cube_levels, forcing_variables, ocean_variables, open_cube, open_statistics
    from ocean.workflows.forecast import default_model_dir

    model_dir = Path(req.model) if req.model else default_model_dir()
    meta = read_metadata(model_dir)
    cube = open_cube(req.cube)
    check_compatible(meta, variables=ocean_variables(cube), levels=cube_levels(cube), grid=cube_grid(cube),
                     forcing_variables=forcing_variables(cube), what=f"cube {req.cube}")
    inits = _inits(req, pd.DatetimeIndex(cube["time"].values))
    regions = _regions(req, cube)
    attrs = open_statistics(req.cube).attrs
    period = (attrs["period_start"], attrs["period_end"]) if attrs.get("period_start") else None
    if period is None:
        log.warning("the cube's statistics carry no period: the climatology uses the whole cube")
    log.info("hindcast: %d inits %s..%s every %s, %d leads, model %s, regions %s", len(inits), inits[0].date(),
             inits[-1].date(), req.every, req.leads, meta.preset, [r.name for r in regions])
    plan = _Plan(model_dir, meta.weights_sha256, tuple(meta.variables), inits, regions, period)
    if req.heads:
        plan.heads = plan_heads(req, plan, cube)
    if req.buoys:
        plan.buoys = plan_buoys(req, plan, cube)
    return plan


def _inits(req: HindcastRequest, times: pd.DatetimeIndex) -> pd.DatetimeIndex:
    try:
        inits = pd.date_range(pd.Timestamp(req.start).normalize(), pd.Timestamp(req.end).normalize(), freq=req.every)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--start {req.start!r} / --end {req.end!r} are not dates (YYYY-MM-DD): {exc}") from exc
    if not len(inits):
        raise ConfigError(f"no init date between --start {req.start} and --end {req.end} every {req.every}")
    span = f"{times[0].date()}..{times[-1].date()}"
    outside = inits.difference(times)
    if len(outside):
        raise DataError("init dates outside the cube", file=req.cube, variable="time",
                        found=f"{len(outside)} of {len(inits)} inits, e.g. {outside[0].date()}",
                        expected=f"inits within {span}", hint="Choose --start/--end inside the cube")
    valid = pd.DatetimeIndex(np.unique((inits.values[:, None] + np.arange(1, req.leads + 1)[None, :]
                                        * np.timedelta64(1, "D")).ravel()))
    missing = valid.difference(times)
    if len(missing):
        latest = times[-1] - pd.Timedelta(days=req.leads)
        raise DataError("valid days of the hindcast outside the cube (the reference)", file=req.cube, variable="time",
                        found=f"{len(missing)} days missing, e.g. {missing[0].date()}",
                        expected=f"inits + {req.leads} leads within {span}",
                        hint=f"Move --end to {latest.date()} or earlier, or use fewer --leads")
    return inits


def _regions(req: HindcastRequest, cube: xr.Dataset) -> list[Region]:
    """The regions to score; a region asked for (by name or config) without grid points is an error,
    a default one is dropped with a warning (e.g. the Niño3.4 box on a very coarse grid)."""
    custom = {r.name: r for r in regions_from_config(req.regions_config)} if req.regions_config else {}
    known = {**REGIONS, **custom}
    names = list(req.regions) if req.regions else [*DEFAULT_REGIONS, *custom]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown region(s) {unknown}; known: {', '.join(known)} "
                          "(add boxes with --regions-config FILE.yaml)")
    regions = [known[n] for n in dict.fromkeys(names)]
    if not req.regions:
        lat, lon = cube["latitude"].values, cube["longitude"].values
        empty = [r.name for r in regions if r.name in DEFAULT_REGIONS and not r.contains(lat[:, None], lon[None, :]).any()]
        if empty:
            log.warning("default region(s) %s hold no grid point of the cube: not scored", empty)
            regions = [r for r in regions if r.name not in empty]
    region_masks(cube[["latitude", "longitude"]], regions)  # an empty region fails here, before any work
    return regions


# --------------------------------------------------------------------------------------
# 2. forecasts
# --------------------------------------------------------------------------------------


def _forecast_root(req: HindcastRequest) -> Path:
    return Path(req.out) / "forecasts"


def _make_forecasts(req: HindcastRequest, plan: _Plan) -> dict[str, int]:
    from ocean.workflows.forecast import ForecastRequest, run_forecast

    counts: dict[str, int] = {}
    root = _forecast_root(req)
    for i, init in enumerate(plan.inits):
        path = forecast_path(root, init)
        if path.exists() and not req.force:
            _check_reusable(path, req, plan)
            counts["exists"] = counts.get("exists", 0) + 1
            continue
        res = run_forecast(ForecastRequest(init=str(init.date()), model=plan.model_dir, cube=Path(req.cube), out=root,
                                           leads=req.leads, heads=tuple(req.heads),
                                           forcing_from_cube=req.forcing == "cube", force=req.force,
                                           quicklooks=False))
        counts[res.status] = counts.get(res.status, 0) + 1
        log.info("hindcast forecast %d/%d (%s): %s", i + 1, len(plan.inits), init.date(), res.status)
    return counts


def _check_reusable(path: Path, req: HindcastRequest, plan: _Plan) -> None:
    """An existing forecast is reused only when it is what this hindcast would make."""
    with xr.open_zarr(path, consolidated=None) as ds:
        sha, forcing, leads = ds.attrs.get("model_sha256", ""), ds.attrs.get("forcing", ""), ds.sizes["lead_time"]
    problems = []
    if plan.sha256 and sha != plan.sha256:
        problems.append(f"model sha256 {sha[:12]}... (this hindcast's model: {plan.sha256[:12]}...)")
    if not forcing.startswith(FORCINGS[req.forcing]):
        problems.append(f"forcing {forcing!r} (expected {FORCINGS[req.forcing]!r})")
    if leads < req.leads:
        problems.append(f"{leads} leads (expected at least {req.leads})")
    for name, head in plan.heads.items():
        try:
            with xr.open_zarr(path, group=name, consolidated=None) as g:
                head_sha = g.attrs.get("head_sha256", "")
        except (FileNotFoundError, KeyError, OSError, ValueError):
            problems.append(f"no {name!r} head group (this hindcast runs --heads {name})")
            continue
        if head.sha256 and head_sha != head.sha256:
            problems.append(f"{name} head sha256 {head_sha[:12]}... (this hindcast's head: {head.sha256[:12]}...)")
    if problems:
        raise DataError("an existing forecast was made differently", file=path, found="; ".join(problems),
                        hint="Use --force to recompute the forecasts, or another --out")


# --------------------------------------------------------------------------------------
# 3. climatology
# --------------------------------------------------------------------------------------


def _fast_reader(cube: "str | os.PathLike") -> xr.Dataset:
    """The cube opened lazily without dask: a selection reads only its days, at the store's speed.

    (``open_cube`` gives one dask task per stored chunk — a day and a level —
    whose overhead dominates reads of many days.)
    """
    from ocean.cube import open_cube

    open_cube(cube)  # the checks
    return xr.open_zarr(cube, consolidated=None, chunks=None)


def _climatology(req: HindcastRequest, plan: _Plan) -> xr.Dataset:
    from ocean.store import write_netcdf

    cache = Path(req.out) / "climatology.nc"
    key = {"cube": str(Path(req.cube).resolve()), "period": "/".join(plan.period) if plan.period else "all",
           "variables": ",".join(plan.variables)}
    if cache.is_file():
        with xr.open_dataset(cache) as ds:
            if all(ds.attrs.get(k) == v for k, v in key.items()):
                log.info("climatology: reusing %s", cache)
                return ds.load()
    log.info("climatology: fitting annual harmonics over %s (reads the whole period once)",
             "..".join(plan.period) if plan.period else "the whole cube")
    clim = fit_harmonic_climatology(_fast_reader(req.cube)[list(plan.variables)], plan.period)
    clim.attrs.update(key)
    write_netcdf(clim, cache)
    return clim


# --------------------------------------------------------------------------------------
# 4. scores
# --------------------------------------------------------------------------------------


def score_hindcast(forecast_root: "str | os.PathLike", cube: "str | os.PathLike", inits: Sequence, leads: int,
                   climatology: xr.Dataset | None, regions: Sequence["str | Region"],
                   baselines: Sequence[str] = BASELINES, variables: Sequence[str] | None = None,
                   derived: bool = True, max_memory_mb: float = 1024.0) -> tuple[xr.Dataset, xr.Dataset | None]:
    """Scores of the forecasts under ``forecast_root`` for ``inits``, in blocks of inits.

    Returns ``(metrics, nino34)``: metrics with dims ``system, metric, region,
    lead_time[, depth]`` (``system``: ``model`` and each baseline); Niño3.4
    scores by lead day and lead month (``None`` when the grid misses the box).
    """
    inits = pd.DatetimeIndex(inits)
    paths = [forecast_path(forecast_root, i) for i in inits]
    absent = [p for p in paths if not p.exists()]
    if absent:
        raise DataError("forecasts missing for some inits", file=absent[0].parent,
                        found=f"{len(absent)} of {len(paths)}, e.g. {absent[0].name}",
                        hint="Run the hindcast (or `ocean forecast`) for these inits first")
    ref = _fast_reader(cube)
    first = xr.open_zarr(paths[0], consolidated=None, chunks=None)
    variables = list(variables or [v for v in first.data_vars if v in ref.data_vars])
    masks = region_masks(first, regions)
    per_init = sum(first[v].isel(lead_time=slice(0, leads)).nbytes for v in variables) / 2**20
    block = max(1, int(max_memory_mb // (8 * per_init)))
    systems = ["model", *baselines]
    parts: dict[str, list] = {s: [] for s in systems}
    nino_parts: list[xr.Dataset] = []
    for b in range(0, len(paths), block):
        f = _load_forecasts(paths[b:b + block], variables, leads)
        with_sys, r, c = _block_datasets(f, ref, climatology, variables, baselines, derived)
        fields = list(r.data_vars)
        for s in systems:
            parts[s].append(partial_scores(with_sys[s], r, c, masks, fields))
        nino_parts.append(_nino34_block(with_sys, r, c, climatology))
        log.info("scored inits %d-%d of %d", b + 1, min(b + block, len(paths)), len(paths))
    attrs = {v: {"long_name": f"scores of {first[v].attrs.get('long_name', v)}",
                 "units": first[v].attrs.get("units", ""), "field": v} for v in variables}
    attrs |= {k: {**a, "long_name": f"scores of {a['long_name']}", "field": k} for k, a in _DERIVED_ATTRS.items()}
    metrics = summarise({s: combine_scores(parts[s], attrs) for s in systems})
    metrics = metrics.assign_coords(_region_coords(masks, regions))
    nino = _nino34_scores(nino_parts)
    return metrics, nino


def _load_forecasts(paths: Sequence[Path], variables: Sequence[str], leads: int) -> xr.Dataset:
    parts = []
    for p in paths:
        with xr.open_zarr(p, consolidated=None, chunks=None) as ds:
            parts.append(ds[list(variables)].isel(lead_time=slice(0, leads)).load())
    return xr.concat(parts, dim="init_time", coords="minimal", compat="override", join="exact")


def _block_datasets(f: xr.Dataset, ref: xr.Dataset, clim: xr.Dataset | None, variables, baselines, derived):
    """The systems' states, the reference and the climatology for one block, aligned on (init, lead)."""
    valid = f["valid_time"]
    days = np.unique(np.concatenate([valid.values.ravel(), f["init_time"].values]))
    window = on_grid_of(ref[list(variables)].sel(time=days).load(), f)
    r = align_reference(f, window)
    c = on_grid_of(harmonic_climatology_at(clim, valid), f) if clim is not None else None
    systems = {"model": f}
    if "persistence" in baselines:
        systems["persistence"] = persistence(f, window)
    if "climatology" in baselines and c is not None:
        systems["climatology"] = c.assign_coords(valid_time=valid)
    elif "climatology" in baselines:
        raise DataError("the climatology baseline needs a climatology", hint="Give the cube's statistics period")
    if derived:
        dwin = derived_fields(window)
        r = r.assign(align_reference(f, dwin).data_vars)
        for name in list(systems):
            extra = persistence(f, dwin) if name == "persistence" else derived_fields(systems[name])
            systems[name] = systems[name].assign(extra.data_vars)
        if c is not None:
            c = c.assign(derived_fields(c).data_vars)
    return systems, r, c


def _region_coords(masks: xr.DataArray, regions) -> dict:
    regs = [REGIONS[r] if isinstance(r, str) else r for r in regions]
    return {f"region_{k}": ("region", [getattr(r, k) for r in regs]) for k in ("lon_min", "lon_max", "lat_min", "lat_max")}


def _nino34_block(systems: dict, r: xr.Dataset, c: xr.Dataset | None, coefs: xr.Dataset | None) -> xr.Dataset | None:
    """Daily Niño3.4 box-mean SST anomalies ``(init_time, lead_time)`` of the reference and each system.

    Persistence is the anomaly at init held (the usual index baseline).
    """
    from ocean.indices import NINO34, box_mean

    if c is None or "thetao" not in r:
        return None
    sst = lambda ds: box_mean(ds["thetao"].isel(depth=0, drop=True), NINO34)  # noqa: E731
    try:
        clim = sst(c)
    except DataError:
        return None
    out = {"observed": sst(r) - clim}
    for name, ds in systems.items():
        if name == "model":
            out[name] = sst(ds) - clim
        elif name == "persistence":
            at_init = harmonic_climatology_at(coefs[["thetao"]].isel(depth=[0]), ds["init_time"])
            at_init = at_init.assign_coords(latitude=ds["latitude"], longitude=ds["longitude"])
            out[name] = sst(ds) - sst(at_init)
    return xr.Dataset({k: v.drop_vars([x for x in v.coords if x not in ("init_time", "lead_time")])
                       for k, v in out.items()})


def _nino34_scores(parts: Sequence[xr.Dataset | None]) -> xr.Dataset | None:
    from ocean.metrics import index_scores

    if any(p is None for p in parts):
        return None
    series = xr.concat(parts, dim="init_time")
    truth = series["observed"]
    systems = {k: series[k] for k in series.data_vars if k != "observed"}
    daily = index_scores(systems, truth)
    days = (series["lead_time"].values / np.timedelta64(1, "D")).astype(int)
    out = daily.assign(nino34_forecast=xr.concat(list(systems.values()), dim=daily["system"]), nino34_observed=truth)
    months = np.ceil(days / 30).astype(int)
    complete = [int(m) for m in np.unique(months) if (months == m).sum() == 30]
    if complete:
        lead_month = xr.DataArray(months, dims="lead_time")
        monthly = series.groupby(lead_month.rename("lead_month")).mean().sel(lead_month=complete)
        m = index_scores({k: monthly[k] for k in systems}, monthly["observed"])
        out = out.assign(acc_month=m["acc"], rmse_month=m["rmse"])
    out.attrs = {"title": "Nino3.4 (5S-5N, 170W-120W) box-mean SST anomaly scores by lead",
                 "anomalies": "against the hindcast's harmonic climatology of the cube",
                 "lead_month": "lead days 30(m-1)+1..30m averaged; only complete months",
                 "note": "the backbone forecasts 30 days: lead month 1 at most; the 3-month running mean of the "
                         "ONI needs longer forecasts (the ENSO head, --enso)"}
    return out


# --------------------------------------------------------------------------------------
# 5. Class-4 and ENSO
# --------------------------------------------------------------------------------------


def _class4(req: HindcastRequest, plan: _Plan, notes: list[str]) -> xr.Dataset | None:
    from ocean.argo import class4, class4_summary, read_argo
    from ocean.cube import open_cube
    from ocean.forecast_store import open_forecasts

    profiles = read_argo(list(req.argo))
    first = np.datetime64(plan.inits[0] + pd.Timedelta(days=1))
    last = np.datetime64(plan.inits[-1] + pd.Timedelta(days=req.leads + 1))
    keep = (profiles["time"].values >= first) & (profiles["time"].values < last)
    if not keep.any():
        note = (f"Class-4: no Argo profile of {len(req.argo)} file(s) falls within the hindcast's valid days "
                f"{str(first)[:10]}..{str(last)[:10]}")
        log.warning(note)
        notes.append(note)
        return None
    profiles = profiles.isel(profile=np.nonzero(keep)[0])
    fc = open_forecasts(_forecast_root(req)).sel(init_time=plan.inits.values).isel(lead_time=slice(0, req.leads))
    variables = [v for v in ("thetao", "so") if v in fc]
    systems = {"model": fc}
    if "persistence" in req.baselines:
        systems["persistence"] = persistence(fc[variables], open_cube(req.cube)[variables])
    out = {}
    for name, ds in systems.items():
        out[name] = class4_summary(class4(ds, profiles, variables), variables=variables)
    summary = summarise(out)
    summary.attrs = {"title": "Class-4 comparison with Argo profiles", "profiles": int(profiles.sizes["profile"]),
                     "argo_files": ", ".join(str(a) for a in req.argo),
                     "method": "forecast valid on the observation's day, trilinear in lat, lon (periodic) and depth; "
                               "QC flags 1, 2, 5, 8 kept; adjusted values in A/D mode"}
    return summary


def _enso(req: HindcastRequest) -> xr.Dataset:
    from downstream.enso.evaluate import enso_hindcast

    log.info("ENSO head hindcast (downstream.enso.evaluate.enso_hindcast) -> %s", Path(req.out) / "enso")
    return enso_hindcast(model=req.enso_model, out_dir=Path(req.out) / "enso", stride=req.enso_stride)


# --------------------------------------------------------------------------------------
# 6. outputs
# --------------------------------------------------------------------------------------


def _attrs(req: HindcastRequest, plan: _Plan) -> dict:
    return {"title": "ocean-forecast hindcast scores", "model_dir": str(plan.model_dir), "model_sha256": plan.sha256,
            "cube": str(req.cube), "inits": f"{plan.inits[0].date()}..{plan.inits[-1].date()} every {req.every}",
            "init_count": len(plan.inits), "leads": req.leads, "forcing": FORCINGS[req.forcing],
            "climatology_period": "/".join(plan.period) if plan.period else "whole cube",
            "metrics": "rmse, bias (forecast - reference): cos-latitude weighted, land masked, pooled over inits and "
                       "space (xskillscore); acc: uncentred anomaly correlation per init against the climatology, "
                       "averaged over inits",
            "systems": "model; persistence: the cube's state at init; climatology: 3 annual harmonics over the "
                       "statistics period",
            "derived": "mld: gsw sigma0 threshold 0.03 kg m-3 from 10 m; ugos, vgos: geostrophic from zos, "
                       "|lat| >= 0.5 deg; for the climatology system, of the climatological state",
            "history": f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%dT%H:%M:%SZ} ocean hindcast"}


def _write_outputs(req, *args, **kwargs) -> dict[str, Path]:
    """Every result file drawn into a hidden staging folder first, then renamed into ``OUT`` together,
    ``report.md`` last: a run killed while drawing (seconds) publishes none of them, not some."""
    import shutil
    import uuid

    out = Path(req.out)
    for stale in out.glob(".outputs.tmp-*"):  # left by killed runs (a live run's PID is skipped)
        pid = stale.name.split("-")[1]
        if not (pid.isdigit() and pid_alive(int(pid))):
            shutil.rmtree(stale, ignore_errors=True)
    stage = out / f".outputs.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    stage.mkdir(parents=True)
    try:
        files = _write_files(stage, *args, **kwargs)
        for key in sorted(files, key=lambda k: k == "report"):
            os.replace(files[key], out / files[key].name)
            files[key] = out / files[key].name
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return files


def _write_files(out: Path, metrics, nino, class4, enso, result: HindcastResult, heads=None,
                 buoys=None) -> dict[str, Path]:
    from ocean.scorecard import lead_curves_figure, markdown_report, save_figure, scorecard_figure
    from ocean.store import atomic_path, write_netcdf

    files = {"metrics": write_netcdf(metrics, out / "metrics.nc")}
    if nino is not None:
        files["nino34"] = write_netcdf(nino, out / "nino34.nc")
    if class4 is not None:
        files["class4"] = write_netcdf(class4, out / "class4.nc")
    if heads is not None:
        files["heads_metrics"] = write_netcdf(heads, out / "heads_metrics.nc")
    if buoys is not None:
        files["buoys"] = write_netcdf(buoys, out / "buoys.nc")
    if "persistence" in metrics["system"].values:
        files["scorecard"] = save_figure(scorecard_figure(metrics), out / "scorecard.png")
    files["lead_curves"] = save_figure(lead_curves_figure(metrics), out / "lead_curves.png")
    sections = []
    if enso is not None:
        from downstream.enso.evaluate import markdown_table

        sections.append(("ENSO head: Niño3.4 by lead month",
                         f"{enso.attrs.get('test_period', '')}, {enso.attrs.get('starts', '?')} starts "
                         f"(`downstream.enso.evaluate.enso_hindcast`; files in `enso/`).\n\n" + markdown_table(enso)))
    if heads is not None:
        sections.append(("Heads: RMSE against their truth", heads_table(heads)))
    if buoys is not None:
        sections.append(("Waves head against buoys", buoys_table(buoys)))
    text = markdown_report(metrics, nino=nino, class4=class4, sections=sections, forecasts=result.forecasts,
                           notes=result.notes, timings=result.timings)
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text(text)
    files["report"] = out / "report.md"
    return files
