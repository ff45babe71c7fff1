"""Writing the synthetic ocean to disk in the producers' formats, with a manifest.

Directory layout under ``OUT`` (``YYYYMMDD`` is each date, ``YYYY`` a year)::

    OUT/manifest.json                              what was written (last file written)
    OUT/static/GLO-MFC_001_030_mask_bathy.nc       deptho, mask, deptho_lev   source "glorys"
    OUT/glorys/glorys_YYYYMMDD.nc                  thetao, so, uo, vo, zos    source "glorys"
    OUT/era5/era5_YYYYMMDD.nc                      u10, v10, t2m, msl, sp     source "era5"  (24 hourly
                                                   records per file, or one daily mean with hourly_forcing=False)
    OUT/bgc/bgc_YYYYMMDD.nc                        chl, no3, po4, si, o2, nppv source "cmems_bio"
    OUT/waves/waves_YYYYMMDD.nc                    VHM0, VTM02, VMDR (daily means) source "cmems_wave"
    OUT/enso/enso_thetao_YYYY.nc                   monthly thetao (enso levels) source "glorys"
    OUT/enso/enso_stress_YYYY.nc                   monthly metss, mntss       source "era5"

Each file is written atomically (temporary name, then rename) through
:func:`ocean.store.write_netcdf`; ``manifest.json`` comes last, so its
presence means the run finished. Every file reads back with
``ocean.io.open_source(path, source=manifest["sources"][product])``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ocean import __version__
from ocean.errors import ConfigError
from ocean.store import atomic_path, write_netcdf
from ocean.synthetic import formats
from ocean.synthetic.noise import EPOCH, day_dates, to_days

__all__ = ["PRODUCTS", "DEFAULT_PRODUCTS", "write", "generate", "parse_products"]

log = logging.getLogger(__name__)

#: product -> (folder, source lexicon(s) for ocean.io.open_source)
PRODUCTS: dict[str, tuple[str, dict[str, str]]] = {
    "static": ("static", {"static": "glorys"}),
    "physics": ("glorys", {"physics": "glorys"}),
    "forcing": ("era5", {"forcing": "era5"}),
    "bgc": ("bgc", {"bgc": "cmems_bio"}),
    "waves": ("waves", {"waves": "cmems_wave"}),
    "enso": ("enso", {"enso_thetao": "glorys", "enso_stress": "era5"}),
}
DEFAULT_PRODUCTS = ("physics", "forcing", "static")
MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def parse_products(products: "str | Sequence[str]") -> tuple[str, ...]:
    """Validate product names (a comma-separated string or a sequence)."""
    items = [p.strip() for p in products.split(",")] if isinstance(products, str) else list(products)
    items = [p for p in items if p]
    unknown = [p for p in items if p not in PRODUCTS]
    if unknown or not items:
        raise ConfigError(f"unknown synthetic products {unknown or items!r}; choose from {', '.join(PRODUCTS)}")
    return tuple(p for p in PRODUCTS if p in items)


def _check_days(days) -> int:
    try:
        n = int(days)
    except (TypeError, ValueError):
        raise ConfigError(f"days must be a whole number >= 1, found {days!r}") from None
    if n < 1 or n != days:
        raise ConfigError(f"days must be a whole number >= 1, found {days!r}")
    return n


def _prepare_out(out_dir, force: bool) -> Path:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"the output path {out} exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ConfigError(f"the output folder {out} exists and is not empty; choose an empty or new folder, "
                              "or pass --force (force=True) to replace a previous synthetic output")
        _remove_previous(out)
    return out


def _remove_previous(out: Path) -> None:
    """With force: delete the files a previous run listed in its manifest (and nothing else)."""
    manifest = out / MANIFEST
    if not manifest.is_file():
        return
    try:
        previous = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return
    root = out.resolve()
    for files in previous.get("files", {}).values():
        for rel in files:
            p = (out / rel).resolve()
            if root in p.parents and p.is_file():
                p.unlink()
    manifest.unlink()


def write(ocean, out_dir, start, days: int, products: "str | Sequence[str]" = DEFAULT_PRODUCTS, *,
          force: bool = False, progress: bool | None = None, hourly_forcing: bool = True,
          enso_grid=None, enso_levels="enso7") -> dict:
    """Write ``days`` days from ``start`` of ``products`` under ``out_dir``; return the manifest.

    Options are validated before anything is written (:class:`ConfigError`
    otherwise). ``progress`` shows a tqdm bar (default: when stderr is a
    terminal). ``enso_grid``/``enso_levels`` select the monthly ENSO fields'
    grid (default: the ocean's grid) and levels (default ``enso7``).
    """
    from ocean.synthetic.model import resolve_grid, resolve_levels

    chosen = parse_products(products)
    n_days = _check_days(days)
    day0 = int(to_days(start)[0])
    day_index = np.arange(day0, day0 + n_days)
    e_grid = resolve_grid(enso_grid) if enso_grid is not None else ocean.grid
    e_levels = resolve_levels(enso_levels)
    out = _prepare_out(out_dir, force)
    years = _enso_years(day_index) if "enso" in chosen else []
    total = sum(n_days for p in chosen if p not in ("static", "enso")) + ("static" in chosen) + 2 * len(years)
    show = progress if progress is not None else (sys.stderr.isatty() and total > 20)
    log.info("writing %d synthetic file(s) of %s to %s (%s, %d levels, seed %d)", total, ", ".join(chosen), out,
             ocean.grid.describe(), len(ocean.levels), ocean.seed)
    from tqdm.auto import tqdm

    files: dict[str, list[str]] = {}
    with tqdm(total=total, disable=not show, unit="file", desc="ocean synthetic") as bar:
        def put(kind: str, rel: str, pair) -> None:
            write_netcdf(pair[0], out / rel, encoding=pair[1])
            files.setdefault(kind, []).append(rel)
            bar.update(1)

        if "static" in chosen:
            put("static", "static/GLO-MFC_001_030_mask_bathy.nc", formats.mask_bathy(ocean.static()))
        _write_daily(ocean, chosen, day_index, hourly_forcing, put)
        _write_enso(ocean, years, e_grid, e_levels, put)
    manifest = _manifest(ocean, chosen, day_index, files, hourly_forcing, e_grid, e_levels, years)
    with atomic_path(out / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    log.info("synthetic ocean written to %s (%d files)", out, sum(map(len, files.values())))
    return manifest


def _write_daily(ocean, chosen, day_index, hourly_forcing: bool, put) -> None:
    stamp = lambda d: pd.Timestamp(day_dates([d])[0]).strftime("%Y%m%d")  # noqa: E731
    if "physics" in chosen or "bgc" in chosen:
        for d, fields in ocean.iter_days(day_index, bgc="bgc" in chosen):
            if "physics" in chosen:
                ds = ocean._daily_dataset({k: np.asarray(fields[k])[None] for k in ("thetao", "so", "uo", "vo", "zos")},
                                          np.array([d]), "physics")
                put("physics", f"glorys/glorys_{stamp(d)}.nc", formats.glorys(ds))
            if "bgc" in chosen:
                ds = ocean._daily_dataset({k: v[None] for k, v in fields["bgc"].items()}, np.array([d]), "bgc")
                put("bgc", f"bgc/bgc_{stamp(d)}.nc", formats.cmems_bio(ds))
    if "forcing" in chosen:
        periodic = ocean.grid.is_periodic
        if hourly_forcing:
            for d in day_index:
                ds = ocean.forcing(day_dates([d]), hourly=True)
                put("forcing", f"era5/era5_{stamp(d)}.nc", formats.era5(ds, periodic))
        else:
            for d, f in ocean._iter_forcing(day_index):
                fields = {k: getattr(f, k)[None] for k in ("u10", "v10", "t2m", "msl", "sp")}
                put("forcing", f"era5/era5_{stamp(d)}.nc",
                    formats.era5(ocean._daily_dataset(fields, np.array([d]), "forcing"), periodic))
    if "waves" in chosen:
        for d, w in ocean._iter_waves(day_index):
            ds = ocean._daily_dataset({k: v[None] for k, v in w.items()}, np.array([d]), "waves")
            put("waves", f"waves/waves_{stamp(d)}.nc", formats.cmems_wave(ds))


def _write_enso(ocean, years, grid, levels, put, block_years: int = 10) -> None:
    """Monthly ENSO fields, computed ten years at a time and written one file pair per year."""
    for b in range(0, len(years), block_years):
        block = years[b: b + block_years]
        ds = ocean.enso_monthly(block[0][1], sum(c for _, _, c in block), grid=grid, levels=levels)
        offsets = np.cumsum([0] + [c for _, _, c in block])
        for (year, _, _), lo, hi in zip(block, offsets[:-1], offsets[1:]):
            part = ds.isel(time=slice(int(lo), int(hi)))
            put("enso_thetao", f"enso/enso_thetao_{year}.nc",
                formats.glorys(part[["thetao"]], "synthetic monthly ocean temperature"))
            put("enso_stress", f"enso/enso_stress_{year}.nc", formats.era5_stress(part, grid.is_periodic))


def _enso_years(day_index: np.ndarray) -> list[tuple[int, str, int]]:
    """Calendar years touched by the days: ``(year, first month 'YYYY-MM-01', number of months)``."""
    first = (EPOCH + np.timedelta64(int(day_index[0]), "D")).astype("datetime64[M]")
    last = (EPOCH + np.timedelta64(int(day_index[-1]), "D")).astype("datetime64[M]")
    months = np.arange(first, last + 1)
    out = []
    for year in sorted({int(str(m)[:4]) for m in months}):
        in_year = [m for m in months if int(str(m)[:4]) == year]
        out.append((year, f"{in_year[0]}-01", len(in_year)))
    return out


def _manifest(ocean, chosen, day_index, files, hourly_forcing, e_grid, e_levels, years) -> dict:
    sources = {k: v for p in chosen for k, v in PRODUCTS[p][1].items()}
    dates = day_dates(day_index)
    m = {
        "generator": "ocean.synthetic",
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "seed": ocean.seed,
        "grid": ocean.grid.to_dict(),
        "levels": ocean.levels.to_dict(),
        "start": str(dates[0].astype("datetime64[D]")),
        "end": str(dates[-1].astype("datetime64[D]")),
        "days": int(day_index.size),
        "products": list(chosen),
        "sources": sources,
        "files": {k: sorted(v) for k, v in files.items()},
        "forcing": {"hourly": bool(hourly_forcing), "time_dim": "time", "longitude": "0..360",
                    "latitude": "descending"},
        "physics": {"time_stamp": "00:00 of each day (daily means)", "packing": "int16 scale_factor/add_offset"},
        "waves": {"frequency": "daily means"},
    }
    if "enso" in chosen:
        m["enso"] = {"grid": e_grid.to_dict(), "levels": e_levels.to_dict(),
                     "months": int(sum(c for _, _, c in years)), "time_stamp": "first day of each month"}
    return m


def generate(out_dir, *, grid="4deg", start="2020-01-01", days: int = 30, levels=None,
             products: "str | Sequence[str]" = DEFAULT_PRODUCTS, seed: int = 0, force: bool = False,
             progress: bool | None = None, hourly_forcing: bool = True, enso_grid=None,
             enso_levels="enso7") -> dict:
    """Build a :class:`SyntheticOcean` and write it (the function ``ocean synthetic`` calls).

    Returns the manifest. Raises :class:`ConfigError` (and writes nothing)
    for bad options.
    """
    from ocean.synthetic.model import SyntheticOcean

    parse_products(products)
    _check_days(days)
    ocean = SyntheticOcean(grid, levels=levels, seed=seed)
    return write(ocean, os.fspath(out_dir), start, days, products, force=force, progress=progress,
                 hourly_forcing=hourly_forcing, enso_grid=enso_grid, enso_levels=enso_levels)
