"""``SyntheticOcean``: the notebook-facing API returning canonical xarray datasets.

Canonical form, exactly as :func:`ocean.io.open_source` returns data: dims
among ``time, depth, latitude, longitude``; latitude ascending; longitude
as :class:`ocean.grid.Grid` gives it (``[-180, 180)``, continuing past 180
for dateline-crossing boxes); depth in metres, positive down; catalogue
names, units and CF attributes; float32; NaN over land.

    >>> from ocean.synthetic import SyntheticOcean
    >>> so = SyntheticOcean("4deg", seed=0)
    >>> phys = so.physics(["2020-03-05"])           # thetao, so, uo, vo, zos
    >>> so.write("out", "2020-01-01", 30)           # producer-format files
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ocean import variables as V
from ocean.grid import Grid, mask_from_bathymetry
from ocean.levels import GLORYS50, Levels, resolve
from ocean.errors import ConfigError
from ocean.synthetic import atmosphere as atm
from ocean.synthetic import bgc as bgc_mod
from ocean.synthetic import climatology as clim
from ocean.synthetic import geography as geo
from ocean.synthetic import physics as phys
from ocean.synthetic import waves as wav
from ocean.synthetic.config import DEFAULT_CONFIG, SyntheticConfig
from ocean.synthetic.noise import day_dates, time_coordinate, to_days

__all__ = ["SyntheticOcean", "Context", "DEFAULT_LEVELS", "resolve_levels", "resolve_grid"]

log = logging.getLogger(__name__)

#: Native GLORYS levels down to and including the first one at or below 500 m (32 levels, 0.49-541 m).
DEFAULT_LEVELS = Levels(tuple(d for i, d in enumerate(GLORYS50) if i == 0 or GLORYS50[i - 1] < 500.0),
                        "glorys_to_541m")
_CHUNK_DAYS = 32


def resolve_grid(spec) -> Grid:
    """``Grid.from_spec`` with a :class:`ConfigError` that lists what is accepted."""
    try:
        return Grid.from_spec(spec)
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot make a grid from {spec!r} ({exc}); expected e.g. '4deg', '1deg', "
                          "'kuroshio@1/12' or a Grid") from None


def resolve_levels(spec) -> Levels:
    """Levels from a preset name, ``"d1,d2,..."``, a sequence or ``None`` (the default)."""
    if spec is None or spec == DEFAULT_LEVELS.name:
        return DEFAULT_LEVELS
    if isinstance(spec, str) and ("," in spec or _is_number(spec)):
        spec = [s for s in spec.split(",") if s.strip()]
    try:
        if isinstance(spec, (list, tuple)):
            spec = [float(s) for s in spec]
        return resolve(spec)
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot make depth levels from {spec!r} ({exc}); expected a preset "
                          f"({', '.join(['glorys_to_541m', *sorted(k for k in _presets())])}) "
                          "or depths in metres like '0.5,10,100'") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _presets():
    from ocean.levels import PRESETS

    return PRESETS


@dataclass(frozen=True)
class Context:
    """Static fields of one (grid, levels, seed, config) on which days are evaluated."""

    seed: int
    config: SyntheticConfig
    grid: Grid
    levels: Levels

    @property
    def lat(self) -> np.ndarray:
        return self.grid.lat

    @property
    def lon(self) -> np.ndarray:
        return self.grid.lon

    @property
    def depth(self) -> np.ndarray:
        return self.levels.values

    @functools.cached_property
    def deptho(self) -> np.ndarray:
        return geo.deptho(self.lat[:, None], self.lon[None, :])

    @functools.cached_property
    def mask(self) -> np.ndarray:
        return mask_from_bathymetry(self.deptho, self.levels)

    @functools.cached_property
    def surface(self) -> atm.Surface:
        la, lo = self.lat[:, None], self.lon[None, :]
        return atm.Surface(self.lat, self.lon, geo.land_weight(la, lo), geo.elevation(la, lo),
                           clim.sst_mean(la, lo))

    @property
    def sst_mean(self) -> np.ndarray:
        return self.surface.sst_mean

    @functools.cached_property
    def z_th_clim(self) -> np.ndarray:
        return clim.thermocline_depth(self.lat[:, None], self.lon[None, :])

    @functools.cached_property
    def t_deep(self) -> np.ndarray:
        return clim.deep_temperature(self.lat[None, :, None], self.depth[:, None, None])

    @functools.cached_property
    def t_deep_surface(self) -> np.ndarray:
        return clim.deep_temperature(self.lat[:, None], 0.0)

    @functools.cached_property
    def s_surf(self) -> np.ndarray:
        return clim.salinity_surface(self.lat[:, None], self.lon[None, :])

    @functools.cached_property
    def eastern_boundary(self) -> np.ndarray:
        return clim.eastern_boundary(self.lat[:, None], self.lon[None, :])

    @functools.cached_property
    def mdt(self) -> np.ndarray:
        return clim.mean_dynamic_topography(self.lat[:, None], self.lon[None, :])

    @functools.cached_property
    def mdt_grad(self) -> tuple[np.ndarray, np.ndarray]:
        return phys.numerical_gradient(lambda la, lo: clim.mean_dynamic_topography(la[:, None], lo[None, :]),
                                       self.lat, self.lon)

    @functools.cached_property
    def relief(self) -> np.ndarray:
        return geo.relief_pattern(self.lat[:, None], self.lon[None, :])

    @functools.cached_property
    def relief_grad(self) -> tuple[np.ndarray, np.ndarray]:
        """``d b / d lat`` and ``d b / d lon`` per radian (central differences, fixed step)."""
        return phys.numerical_gradient(lambda la, lo: geo.relief_pattern(la[:, None], lo[None, :]),
                                       self.lat, self.lon)


class SyntheticOcean:
    """A deterministic synthetic ocean on any grid, levels and dates.

    Parameters
    ----------
    grid : Grid or str
        Anything :meth:`ocean.grid.Grid.from_spec` accepts (``"4deg"``,
        ``"kuroshio@1/12"``, ...).
    levels : Levels, str, sequence or None
        Depth levels; default: native GLORYS levels to 541 m (32 levels).
    seed : int
        Selects the weather, eddies, ENSO and noise; geography is shared.
    config : SyntheticConfig, optional
        Tunables (see ``ocean.synthetic.config``).

    Every method is deterministic: a day's values do not depend on the other
    dates requested, and a point's values do not depend on the grid.
    """

    def __init__(self, grid="4deg", levels=None, seed: int = 0, config: SyntheticConfig | None = None):
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, found {seed!r}")
        self.grid = resolve_grid(grid)
        self.levels = resolve_levels(levels)
        self.seed = int(seed)
        self.config = config or DEFAULT_CONFIG
        self.ctx = Context(self.seed, self.config, self.grid, self.levels)

    def __repr__(self) -> str:
        return (f"SyntheticOcean(grid={self.grid.describe()!r}, levels={self.levels.name!r} "
                f"({len(self.levels)}), seed={self.seed})")

    # -- static ---------------------------------------------------------------
    def static(self) -> xr.Dataset:
        """Sea-floor depth ``deptho`` (lat, lon; NaN over land) and ``mask`` (depth, lat, lon; bool)."""
        deptho = np.where(self.ctx.deptho > 0, self.ctx.deptho, np.nan).astype(np.float32)
        ds = xr.Dataset(
            {"deptho": (("latitude", "longitude"), deptho, V.get("deptho").cf_attrs()),
             "mask": (("depth", "latitude", "longitude"), self.ctx.mask,
                      {"long_name": "Ocean mask per level (True = ocean)"})},
            coords=self._coords(depth=True))
        return self._finish(ds, "static")

    # -- daily products -------------------------------------------------------
    def physics(self, dates) -> xr.Dataset:
        """Daily-mean ``thetao, so, uo, vo`` ``(time, depth, lat, lon)`` and ``zos`` ``(time, lat, lon)``."""
        days = to_days(dates)
        fields = _stack(({k: o[k] for k in V.PROGNOSTIC} for _, o in self.iter_days(days)), V.PROGNOSTIC)
        return self._daily_dataset(fields, days, "physics")

    def climatology(self, dates) -> xr.Dataset:
        """The anomaly-free physics (seasonal cycle only): the synthetic world's true climatology."""
        days = to_days(dates)
        it = self.iter_days(days, known=phys.Known.climatology())
        fields = _stack(({k: o[k] for k in V.PROGNOSTIC} for _, o in it), V.PROGNOSTIC)
        return self._daily_dataset(fields, days, "climatology")

    def forcing(self, dates, hourly: bool = False) -> xr.Dataset:
        """ERA5-like ``u10, v10, t2m, msl, sp`` (daily means, or 24 hourly values per date)."""
        days = to_days(dates)
        if hourly:
            from ocean.synthetic.hourly import hourly_forcing

            parts = [hourly_forcing(self.ctx, int(d)) for d in days]
            fields = {k: np.concatenate([p[k] for p in parts]) for k in V.FORCING}
            times = np.concatenate([day_dates([d])[0] + np.arange(24) * np.timedelta64(1, "h") for d in days])
            return self._dataset(fields, times, "forcing")
        fields = _stack((_forcing_dict(f) for _, f in self._iter_forcing(days)), V.FORCING)
        return self._daily_dataset(fields, days, "forcing")

    def bgc(self, dates) -> xr.Dataset:
        """Daily ``chl, no3, po4, si, o2, nppv`` ``(time, depth, lat, lon)``."""
        days = to_days(dates)
        fields = _stack((o["bgc"] for _, o in self.iter_days(days, bgc=True)), V.BIOGEOCHEMISTRY)
        return self._daily_dataset(fields, days, "bgc")

    def waves(self, dates) -> xr.Dataset:
        """Daily-mean ``VHM0, VTM02, VMDR`` ``(time, lat, lon)``."""
        days = to_days(dates)
        fields = _stack((w for _, w in self._iter_waves(days)), V.WAVES)
        return self._daily_dataset(fields, days, "waves")

    # -- ENSO -----------------------------------------------------------------
    def enso_monthly(self, start, months: int, grid=None, levels="enso7") -> xr.Dataset:
        """Monthly ``thetao`` on ``levels`` and ``tauuo``, ``tauvo`` over ``grid`` (default: this grid)."""
        from ocean.synthetic.monthly import enso_fields

        g = self.grid if grid is None else resolve_grid(grid)
        lv = resolve_levels(levels)
        return enso_fields(self.seed, self.config, g, lv, start, months)

    def enso_index(self, start, months: int) -> xr.Dataset:
        """Monthly ENSO scalars: ``nino34`` (= T_E + D), ``t_east``, ``h_west``, ``tau_x``, ``background``."""
        from ocean.synthetic.monthly import enso_index

        return enso_index(self.seed, self.config, start, months)

    # -- writing --------------------------------------------------------------
    def write(self, out_dir, start, days: int, products: Sequence[str] | str = ("physics", "forcing", "static"),
              **options) -> dict:
        """Write producer-format files under ``out_dir``; returns the manifest.

        See :func:`ocean.synthetic.writer.write` for the layout and options.
        """
        from ocean.synthetic.writer import write

        return write(self, out_dir, start, days, products, **options)

    # -- iteration (used by the writer and the benchmark) ------------------------
    def iter_days(self, days, known: phys.Known = phys.Known(), bgc: bool = False) -> Iterator[tuple[int, dict]]:
        """Yield ``(day, fields)`` for each day index (days since 1850-01-01); see ``physics.ocean_day``."""
        days = np.asarray(days, dtype=np.int64)
        for lo in range(0, days.size, _CHUNK_DAYS):
            block = days[lo: lo + _CHUNK_DAYS]
            log.debug("synthetic ocean: days %d-%d of %d on %s", lo + 1, lo + block.size, days.size, self.grid.name)
            series = phys.ocean_series(self.seed, self.config, block, known)
            noise = bgc_mod.bgc_series(self.seed, block, phys.OCEAN_BASIS.size, known.ocean_until) if bgc else None
            for i, d in enumerate(block):
                out = phys.ocean_day(self.ctx, i, int(d), series, known)
                if bgc:
                    out["bgc"] = bgc_mod.bgc_day(self.ctx, out, phys.OCEAN_BASIS.evaluate(noise[i], self.ctx.lat,
                                                                                          self.ctx.lon))
                yield int(d), out

    def _iter_forcing(self, days) -> Iterator[tuple[int, phys.DayForcing]]:
        from ocean.synthetic.enso import daily_state

        days = np.asarray(days, dtype=np.int64)
        for lo in range(0, days.size, _CHUNK_DAYS):
            block = days[lo: lo + _CHUNK_DAYS]
            coeffs = atm.daily_coefficients(self.seed, self.config.weather, block)
            tau = daily_state(self.seed, self.config.enso, block)["tau"]
            for i, d in enumerate(block):
                day_coeffs = {k: v[i] for k, v in coeffs.items()}
                yield int(d), phys.forcing_day(self.ctx.surface, self.config, int(d), day_coeffs, float(tau[i]))

    def _iter_waves(self, days) -> Iterator[tuple[int, dict]]:
        days = np.asarray(days, dtype=np.int64)
        lag = wav.MEMORY_WEIGHTS.size - 1
        for lo in range(0, days.size, _CHUNK_DAYS):
            block = days[lo: lo + _CHUNK_DAYS]
            need = np.unique(np.concatenate([block - k for k in range(lag + 1)]))
            winds = {d: (f.u10, f.v10) for d, f in self._iter_forcing(need)}
            series = wav.wave_series(self.seed, block)
            for i, d in enumerate(block):
                w = wav.waves_day(self.ctx.lat, self.ctx.lon, [winds[int(d) - k] for k in range(lag + 1)],
                                  series["swell"][i], series["period"][i])
                yield int(d), w

    # -- dataset helpers ------------------------------------------------------
    def _coords(self, depth: bool) -> dict:
        c = self.grid.coords()
        if depth:
            c["depth"] = ("depth", self.levels.values, self.levels.coord_attrs())
        return c

    def _daily_dataset(self, fields: dict, days: np.ndarray, kind: str) -> xr.Dataset:
        return self._dataset(fields, day_dates(days), kind)

    def _dataset(self, fields: dict, times: np.ndarray, kind: str) -> xr.Dataset:
        data = {}
        for name, arr in fields.items():
            var = V.get(name)
            if var.is_3d:
                arr = np.where(self.ctx.mask[None], arr, np.nan)
                dims = ("time", "depth", "latitude", "longitude")
            else:
                if var.group != "forcing":
                    arr = np.where(self.ctx.mask[0][None], arr, np.nan)
                dims = ("time", "latitude", "longitude")
            data[name] = (dims, arr.astype(np.float32), var.cf_attrs())
        any3d = any(V.get(n).is_3d for n in fields)
        coords = {**self._coords(depth=any3d), "time": ("time", time_coordinate(times),
                                                        {"standard_name": "time", "axis": "T"})}
        return self._finish(xr.Dataset(data, coords=coords), kind)

    def _finish(self, ds: xr.Dataset, kind: str) -> xr.Dataset:
        ds.attrs = {"source": "synthetic", "source_description": f"ocean.synthetic {kind} (seed {self.seed})",
                    "synthetic_seed": self.seed, "grid": self.grid.describe(), "levels": self.levels.name}
        return ds


def _forcing_dict(f: phys.DayForcing) -> dict:
    return {"u10": f.u10, "v10": f.v10, "t2m": f.t2m, "msl": f.msl, "sp": f.sp}


def _stack(items, names) -> dict:
    """Stack an iterable of per-day dicts into ``(T, ...)`` arrays per name."""
    out: dict[str, list] = {n: [] for n in names}
    for item in items:
        for n in names:
            out[n].append(np.asarray(item[n], dtype=np.float32))
    return {n: np.stack(v) for n, v in out.items()}


def dates_from(start, days: int) -> pd.DatetimeIndex:
    """``days`` consecutive dates from ``start``."""
    first = day_dates(to_days(start))[0]
    return pd.DatetimeIndex(first + np.arange(int(days)) * np.timedelta64(1, "D"))
