"""The operational forecast: what ``ocean forecast`` (and the daily cron job) runs.

``run_forecast(ForecastRequest(...))`` does, in order:

1. load the model directory (safetensors + metadata; the demo model shipped
   in the package when none is given);
2. take the initial state for the init date — from a training cube
   (``--cube``) or, with no cube, from the synthetic ocean — and check that
   its variables, levels and grid are the model's;
3. take the forcing for every lead: a forcing forecast when given
   (``--forcing``: ERA5-like files, hourly or daily); otherwise, with a
   cube, the cube's day-of-year forcing climatology (31-day window over its
   statistics period); with the synthetic ocean, its own forcing;
4. under a lock for (output root, init): skip if the forecast exists (unless
   ``force``), roll out lead by lead, put NaN back over land, write into a
   hidden temporary store and publish it with one rename;
5. run the enabled downstream heads (``--heads NAME[,NAME=HEAD_DIR]``) inside
   the same rollout loop — each lead's previous and new state, forcing and
   backbone features go to :class:`downstream.runtime.HeadSet` — and write
   each head's fields as a group of the same store (docs/downstream.md);
   heads are resolved, loaded and checked against the backbone before the
   rollout starts, so an unknown head or a mismatched backbone fails early;
6. draw quicklook PNGs (SST, SSH, surface currents) beside it.

Nothing here is CLI-specific: a notebook can call :func:`run_forecast`.
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
import torch
import xarray as xr

from ocean.errors import ConfigError, DataError
from ocean.forecast_store import ForecastWriter, cleanup_stale, forecast_path
from ocean.lock import store_lock
from ocean.quality import OUTPUT_MARGIN, check_field
from ocean.store import clean_debris, disk_errors

__all__ = ["ForecastRequest", "ForecastResult", "run_forecast", "default_model_dir"]

log = logging.getLogger(__name__)


def default_model_dir() -> Path:
    """The demo model shipped inside the package (``ocean/assets/demo-model``)."""
    return Path(__file__).resolve().parents[1] / "assets" / "demo-model"


@dataclass(frozen=True)
class ForecastRequest:
    """What to forecast. ``None`` fields take the embedded defaults."""

    init: str | None = None
    model: Path | None = None
    cube: Path | None = None
    out: Path = Path("forecasts")
    leads: int = 30
    heads: tuple[str, ...] = ()
    forcing: tuple[str, ...] = ()
    forcing_from_cube: bool = False  # hindcasts: the cube's own forcing for the lead days ("perfect forcing")
    force: bool = False
    dry_run: bool = False
    wait: float = 0.0
    quicklooks: bool = True
    quicklook_leads: tuple[int, ...] = (1, 10, 30)
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.leads <= 366:
            raise ConfigError(f"--leads must be between 1 and 366 days, found {self.leads}")
        if self.forcing_from_cube and (self.forcing or not self.cube):
            raise ConfigError("--forcing-from-cube needs --cube and no --forcing (it takes the cube's own forcing "
                              f"for the lead days); found cube={self.cube}, forcing={list(self.forcing)}")


@dataclass
class ForecastResult:
    status: str  # "written", "exists" or "dry-run"
    path: Path
    init: pd.Timestamp
    forcing_source: str = ""
    quicklooks: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def run_forecast(req: ForecastRequest) -> ForecastResult:
    """Run one forecast (see the module docstring)."""
    from backbone import Forecaster

    t0 = time.perf_counter()
    model_dir = Path(req.model) if req.model else default_model_dir()
    if not (model_dir / "metadata.json").exists():
        raise DataError("no model directory here", file=model_dir,
                        expected="model.safetensors + metadata.json (from `ocean export`)")
    fc = Forecaster.load(model_dir)
    meta = fc.metadata
    source = _source(req, fc)
    init = source.init
    final = forecast_path(req.out, init)
    heads = _prepare_heads(req, fc, model_dir, init)
    log.info("forecast %s from %s: model %s (%s), %d leads -> %s", init.date(), source.label, meta.preset,
             model_dir, req.leads, final)
    state_ds, mask = source.initial_state()
    batch = _initial_batch(state_ds, mask, fc, source.label)
    forcing, forcing_source = source.forcing(req.leads)
    timings = {"load": time.perf_counter() - t0}
    if req.dry_run:
        log.info("dry run: inputs checked (state %s, forcing %s); nothing written", tuple(batch.state.shape), forcing_source)
        return ForecastResult("dry-run", final, init, forcing_source, timings=timings)
    _check_writable(Path(req.out))
    with disk_errors(final), store_lock(final, wait=req.wait) as real:  # debris of killed runs removed here
        looks = Path(req.out) / "quicklooks" / f"{init:%Y-%m-%d}"
        clean_debris(looks)
        cleanup_stale(req.out)
        if real.exists() and not req.force:
            result = ForecastResult("exists", final, init, forcing_source, timings=timings)
            if req.quicklooks and not looks.exists():  # quicklooks are part of what is published
                log.info("forecast %s exists without its quicklooks; drawing them", final)
                result.quicklooks = _quicklooks(req, final, init)
            else:
                log.info("forecast %s exists; keeping it (use --force to replace it)", final)
            return result
        t1 = time.perf_counter()
        _write(req, fc, batch, forcing, mask, init, forcing_source, model_dir, source.label, heads)
        timings["rollout_and_write"] = time.perf_counter() - t1
        result = ForecastResult("written", final, init, forcing_source, timings=timings)
        if req.quicklooks:
            result.quicklooks = _quicklooks(req, final, init)
    timings["total"] = time.perf_counter() - t0
    return result


def _check_writable(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"the output root cannot be created ({exc.strerror})", file=root,
                        hint="Choose a writable --out") from exc
    if not os.access(root, os.W_OK | os.X_OK):
        raise DataError("the output root is not writable", file=root, hint="Choose a writable --out or fix its permissions")


def _initial_batch(state_ds: xr.Dataset, mask: np.ndarray, fc, label: str = "the initial state"):
    """The initial state as a Batch, refused when it is not the model's or not physical (exit 3)."""
    from ocean.batch import Batch

    meta = fc.metadata
    mask_da = xr.DataArray(mask, dims=("depth", "latitude", "longitude"),
                           coords={"depth": state_ds["depth"], "latitude": state_ds["latitude"],
                                   "longitude": state_ds["longitude"]})
    batch = Batch.from_xarray(state_ds, variables=meta.variables, levels=meta.levels, mask=mask_da)
    fc.check(batch)
    day = str(state_ds["time"].values[0])[:10]
    for v in meta.variables:
        values = state_ds[v].values[0]  # (depth, lat, lon) or (lat, lon)
        check_field(values, v, ocean=mask if values.ndim == 3 else mask[0], file=label,
                    what=f"the initial state on {day}",
                    hint="Fix or rebuild that day of the data, or choose another --init")
    return batch


def _write(req, fc, batch, forcing: torch.Tensor, mask: np.ndarray, init, forcing_source, model_dir, label,
           heads=None) -> None:
    from tqdm.auto import tqdm

    meta = fc.metadata
    attrs = {"model_preset": meta.preset, "model_sha256": meta.weights_sha256,
             "model_dir": str(model_dir), "initial_state": label, "forcing": forcing_source,
             "institution": "ocean-forecast", "source": "ocean-forecast Fourier masked autoencoder",
             "history": f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%dT%H:%M:%SZ} ocean forecast"}
    nz = len(meta.levels)
    with ForecastWriter(req.out, init, batch.grid, meta.levels, meta.variables, req.leads, attrs) as writer:
        previous = batch.state[:, 0]
        steps = fc.rollout(previous, forcing)
        model = f"model {meta.preset} ({model_dir})"
        for i, state in enumerate(tqdm(steps, total=req.leads, desc="forecast", unit="day", disable=None)):
            fields = _fields(state[0].numpy(), meta.variables, nz, mask)
            for v, values in fields.items():
                check_field(values, v, ocean=mask if values.ndim == 3 else mask[0], file=model, hint=_BAD_OUTPUT,
                            what=f"the forecast at lead {i + 1} ({(init + pd.Timedelta(days=i + 1)).date()})",
                            margin=OUTPUT_MARGIN)
            writer.write_lead(i, fields)
            if heads:
                heads.step(i, previous, state, forcing[:, i])
            previous = state
        for name, ds in (heads.results() if heads else ()):
            _check_head(name, ds, init)
            writer.write_group(name, ds)


_BAD_OUTPUT = "Nothing was published. The model or its statistics are unfit for this initial state"


def _check_head(name: str, ds: xr.Dataset, init) -> None:
    """Every lead of every field of a head, before its group is written."""
    label = f"head {name} ({ds.attrs.get('head', name)}, sha256 {str(ds.attrs.get('head_sha256', ''))[:12]})"
    for v, da in ds.data_vars.items():
        if "lead_time" not in da.dims or not np.issubdtype(da.dtype, np.floating):
            continue
        values = da.transpose("lead_time", ...).values
        for i in range(values.shape[0]):
            check_field(values[i], str(v), file=label, hint=_BAD_OUTPUT, margin=OUTPUT_MARGIN,
                        what=f"the forecast at lead {i + 1} ({(init + pd.Timedelta(days=i + 1)).date()})")


def _fields(state: np.ndarray, variables: Sequence[str], nz: int, mask: np.ndarray) -> dict:
    from ocean import variables as V

    out, c = {}, 0
    for v in variables:
        if V.get(v).is_3d:
            out[v] = np.where(mask, state[c:c + nz], np.nan)
            c += nz
        else:
            out[v] = np.where(mask[0], state[c], np.nan)
            c += 1
    return out


def _prepare_heads(req: ForecastRequest, fc, model_dir: Path, init):
    """The requested downstream heads, loaded and checked before the rollout (None when none)."""
    if not req.heads:
        return None
    from downstream.runtime import prepare_heads

    return prepare_heads(req.heads, fc, model_dir, init, req.leads)


def _quicklooks(req: ForecastRequest, final: Path, init) -> list[Path]:
    from ocean.plot import quicklooks
    from ocean.store import atomic_path

    target = Path(req.out) / "quicklooks" / f"{init:%Y-%m-%d}"
    try:
        ds = xr.open_zarr(final, consolidated=None)
        with atomic_path(target) as tmp:
            files = quicklooks(ds, tmp, leads=req.quicklook_leads)
        return [target / f.name for f in files]
    except Exception as exc:  # pictures are secondary: never fail a published forecast
        log.warning("quicklooks failed (%s: %s); the forecast itself is published", type(exc).__name__, exc)
        return []


# --------------------------------------------------------------------------------------
# Sources of the initial state and the forcing
# --------------------------------------------------------------------------------------


class _Source:
    label: str
    init: pd.Timestamp

    def initial_state(self) -> tuple[xr.Dataset, np.ndarray]:
        raise NotImplementedError

    def forcing(self, leads: int) -> tuple[torch.Tensor, str]:
        raise NotImplementedError


def _lead_dates(init: pd.Timestamp, leads: int) -> pd.DatetimeIndex:
    return pd.date_range(init + pd.Timedelta(days=1), periods=leads, freq="D")


def _forcing_tensor(ds: xr.Dataset, variables: Sequence[str]) -> torch.Tensor:
    arr = np.stack([ds[v].transpose("time", "latitude", "longitude").values for v in variables], axis=1)
    if not np.isfinite(arr).all():
        raise DataError("the forcing has NaN or inf", found=f"{int((~np.isfinite(arr)).sum())} values",
                        expected="finite forcing everywhere (over land too)")
    for k, v in enumerate(variables):
        check_field(arr[:, k], v, ocean=np.ones(arr[:, k].shape, dtype=bool), what="the forcing of the leads")
    return torch.as_tensor(arr[None], dtype=torch.float32)  # (1, leads, F, H, W)


def _forecast_forcing(paths: Sequence[str], dates: pd.DatetimeIndex, variables, grid) -> xr.Dataset:
    """Daily means of a forcing forecast for ``dates`` (ERA5-like files, hourly or daily)."""
    from ocean.io import open_source

    ds = open_source(list(paths), "era5", variables)
    day = ds["time"].dt.floor("D")
    daily = ds.groupby(day.rename("day")).mean().rename(day="time")
    missing = dates.difference(pd.DatetimeIndex(daily["time"].values))
    if len(missing):
        raise DataError("the forcing forecast does not cover every lead", file=paths[0], variable="time",
                        found=f"{len(missing)} missing days, e.g. {missing[0].date()}",
                        expected=f"daily data {dates[0].date()}..{dates[-1].date()}")
    daily = daily.sel(time=dates)
    lat, lon = grid.lat, grid.lon
    if daily.sizes["latitude"] != lat.size or not np.allclose(daily["latitude"], lat) \
            or not np.allclose(daily["longitude"], lon):
        daily = daily.interp(latitude=lat, longitude=lon)
        if daily.to_array().isnull().any():
            raise DataError("the forcing forecast does not cover the model grid", file=paths[0],
                            expected=grid.describe(), hint="Download the forcing for the model's whole domain")
    return daily


def _source(req: ForecastRequest, fc) -> _Source:
    if req.cube:
        return _CubeSource(req, fc)
    return _SyntheticSource(req, fc)


class _CubeSource(_Source):
    def __init__(self, req: ForecastRequest, fc):
        from ocean.cube import cube_grid, cube_levels, forcing_variables, ocean_variables, open_cube

        self.req, self.fc = req, fc
        self.cube = open_cube(req.cube)
        fc.check_data(ocean_variables(self.cube), cube_levels(self.cube), cube_grid(self.cube),
                      forcing_variables(self.cube))
        times = pd.DatetimeIndex(self.cube["time"].values)
        self.init = pd.Timestamp(req.init).normalize() if req.init else times[-1]
        if self.init not in times:
            raise DataError("the init date is not in the cube", file=req.cube, variable="time",
                            found=str(self.init.date()), expected=f"a date within {times[0].date()}..{times[-1].date()}",
                            hint="Append the day first (ocean data append / ocean daily)")
        self.grid = cube_grid(self.cube)
        self.label = f"cube {req.cube}"

    def initial_state(self):
        from ocean.cube import cube_mask

        meta = self.fc.metadata
        ds = self.cube[list(meta.variables)].sel(time=[self.init.to_datetime64()]).load()
        return ds, cube_mask(self.cube)

    def forcing(self, leads):
        meta = self.fc.metadata
        dates = _lead_dates(self.init, leads)
        if self.req.forcing:
            return (_forcing_tensor(_forecast_forcing(self.req.forcing, dates, meta.forcing_variables, self.grid),
                                    meta.forcing_variables), f"forcing forecast {self.req.forcing[0]}")
        if self.req.forcing_from_cube:
            return self._cube_forcing(dates)
        from ocean.metrics import climatology_at, daily_climatology

        from ocean.cube import open_statistics

        f = self.cube[list(meta.forcing_variables)]
        stats = open_statistics(self.req.cube).attrs
        period = (stats["period_start"], stats["period_end"]) if stats.get("period_start") else None
        clim = daily_climatology(f, period)
        valid = xr.DataArray(dates.values, dims="time", coords={"time": dates.values})
        daily = climatology_at(clim, valid).load()
        span = f"{str(f.time.values[0])[:10]}..{str(f.time.values[-1])[:10]}" if period is None else "/".join(period)
        uncovered = dates[daily[meta.forcing_variables[0]].isnull().any(("latitude", "longitude")).values]
        if len(uncovered):
            raise DataError("the cube's forcing climatology does not cover every lead", file=self.req.cube,
                            found=f"no data for days of year of {uncovered[0].date()}..{uncovered[-1].date()} "
                                  f"(statistics period {span})",
                            expected=f"forcing for {dates[0].date()}..{dates[-1].date()}",
                            hint="Give a forcing forecast with --forcing, fewer --leads, or a cube spanning a year")
        log.warning("no forcing forecast given: using the cube's day-of-year forcing climatology (%s)", span)
        return _forcing_tensor(daily, meta.forcing_variables), f"climatology of the cube's forcing ({span}, 31-day window)"


    def _cube_forcing(self, dates: pd.DatetimeIndex) -> tuple[torch.Tensor, str]:
        """The cube's own forcing on the lead days: "perfect forcing", for hindcasts."""
        meta = self.fc.metadata
        times = pd.DatetimeIndex(self.cube["time"].values)
        missing = dates.difference(times)
        if len(missing):
            raise DataError("the cube does not hold the forcing for every lead", file=self.req.cube, variable="time",
                            found=f"{len(missing)} lead days missing, e.g. {missing[0].date()}",
                            expected=f"daily forcing {dates[0].date()}..{dates[-1].date()} "
                                     f"(the cube spans {times[0].date()}..{times[-1].date()})",
                            hint="Use fewer --leads or an earlier --init")
        daily = self.cube[list(meta.forcing_variables)].sel(time=dates.values).load()
        return _forcing_tensor(daily, meta.forcing_variables), f"the cube's own forcing (perfect forcing, {self.req.cube})"


class _SyntheticSource(_Source):
    def __init__(self, req: ForecastRequest, fc):
        from ocean.synthetic import SyntheticOcean

        if req.forcing:
            raise ConfigError("--forcing needs --cube (the synthetic default brings its own forcing)")
        meta = fc.metadata
        self.req, self.fc = req, fc
        self.init = pd.Timestamp(req.init).normalize() if req.init else pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
        self.ocean = SyntheticOcean(meta.grid, levels=meta.levels, seed=req.seed)
        self.grid = meta.grid
        self.label = f"synthetic ocean (seed {req.seed})"

    def initial_state(self):
        ds = self.ocean.physics([self.init])
        return ds, np.asarray(self.ocean.static()["mask"].values, dtype=bool)

    def forcing(self, leads):
        dates = _lead_dates(self.init, leads)
        daily = self.ocean.forcing(dates)
        return (_forcing_tensor(daily, self.fc.metadata.forcing_variables),
                "synthetic ocean forcing (stands in for a forcing forecast)")
