"""Tiny producer-format inputs for the pipeline tests (no tests here).

A GLORYS-like reanalysis (one NetCDF file per day, int16-free but with
the producer's conventions: noon time stamps, hours since 1950), ERA5-like
forcing (hourly records, latitude descending, 0..360 longitudes, kelvin),
and a CMEMS-like static bathymetry, on an 11.25 degree source grid (16 x
32) that nests 2 x 2 in the 22.5 degree target grid of
``tests/conftest.py`` (8 x 16, three levels). The fields are smooth
analytic functions, with a continent, a shelf shallower than the deepest
level and an Antarctic strip of land.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ocean.grid import Grid
from ocean.levels import Levels

FINE = Grid.global_(11.25, name="fine")  # 16 x 32
TARGET = Grid.global_(22.5, name="tiny")  # 8 x 16
LEVELS = Levels((0.5, 10.0, 100.0), "tiny3")
SOURCE_DEPTHS = (0.494, 5.0, 20.0, 80.0, 150.0)
DAYS = pd.date_range("2020-01-01", periods=3, freq="D")


def sea_floor(grid: Grid = FINE) -> np.ndarray:
    """Sea-floor depth (m, NaN on land): 4000 m, a continent, a 50 m shelf, Antarctica."""
    lat, lon = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    depth = np.full(grid.shape, 4000.0)
    depth[(lat > 10) & (lat < 55) & (lon > 0) & (lon < 70)] = np.nan  # a continent
    depth[(lat > 10) & (lat < 55) & (lon > 70) & (lon < 95)] = 50.0  # its shelf
    depth[lat < -65] = np.nan  # Antarctica
    return depth


def ocean_fields(day: int, grid: Grid = FINE, depths=SOURCE_DEPTHS, land: bool = True) -> dict:
    """Physics of day ``day`` (an integer), NaN below the sea floor when ``land``."""
    lat, lon = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    z = np.asarray(depths, dtype=float)[:, None, None]
    theta = 15.0 + 8.0 * np.cos(np.deg2rad(lat))[None] - 0.02 * z + 0.05 * day
    salt = 35.0 + 0.002 * z + 0.1 * np.sin(np.deg2rad(lon))[None]
    u = 0.2 * np.sin(np.deg2rad(lon + 10 * day))[None] * np.exp(-z / 300.0)
    v = 0.1 * np.cos(np.deg2rad(lat))[None] * np.ones_like(z)
    zos = 0.3 * np.sin(np.deg2rad(lat)) + 0.01 * day
    fields = {"thetao": theta, "so": salt, "uo": u, "vo": v}
    if land:
        floor = sea_floor(grid)
        below = np.isnan(floor)[None] | (z > np.nan_to_num(floor, nan=-1.0)[None])
        fields = {k: np.where(below, np.nan, np.broadcast_to(a, below.shape)) for k, a in fields.items()}
        zos = np.where(np.isnan(floor), np.nan, zos)
    fields["zos"] = zos
    return fields


def write_glorys(folder: Path, days=DAYS, land: bool = True, grid: Grid = FINE, edit=None) -> list[Path]:
    """One GLORYS-like file per day (noon time stamps); ``edit(ds, i)`` may damage one."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, day in enumerate(pd.DatetimeIndex(days)):
        f = ocean_fields(int((day - DAYS[0]).days), grid, land=land)
        dims3 = ("time", "depth", "latitude", "longitude")
        ds = xr.Dataset(
            {k: (dims3, f[k][None].astype(np.float32)) for k in ("thetao", "so", "uo", "vo")}
            | {"zos": (("time", "latitude", "longitude"), f["zos"][None].astype(np.float32))},
            coords={"time": [day + pd.Timedelta(hours=12)], "depth": ("depth", list(SOURCE_DEPTHS),
                    {"positive": "down", "units": "m"}), "latitude": grid.lat, "longitude": grid.lon})
        units = {"thetao": "degrees_C", "so": "1e-3", "uo": "m s-1", "vo": "m s-1", "zos": "m"}
        for k, u in units.items():
            ds[k].attrs["units"] = u
        if edit is not None:
            ds = edit(ds, i)
        path = folder / f"glorys_{day:%Y%m%d}.nc"
        ds.to_netcdf(path, encoding={"time": {"units": "hours since 1950-01-01"}})
        paths.append(path)
    return paths


def write_era5(folder: Path, days=DAYS, grid: Grid = FINE, per_day: int = 4) -> list[Path]:
    """ERA5-like forcing as delivered: hourly records, latitude descending, 0..360, kelvin."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    lat = grid.lat[::-1]
    lon = np.sort(grid.lon % 360.0)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    for day in pd.DatetimeIndex(days):
        times = day + pd.to_timedelta(np.arange(per_day) * (24 // per_day), unit="h")
        h = np.arange(per_day)[:, None, None]
        fields = {"u10": (5 * np.cos(np.deg2rad(la)) + 0.1 * h, "m s**-1"),
                  "v10": (2 * np.sin(np.deg2rad(lo)) + 0 * h, "m s**-1"),
                  "t2m": (288.0 + 10 * np.cos(np.deg2rad(la)) + 0.5 * h, "K"),
                  "msl": (101000.0 + 500 * np.sin(np.deg2rad(la)) + 0 * h, "Pa"),
                  "sp": (100500.0 + 400 * np.sin(np.deg2rad(la)) + 0 * h, "Pa")}
        ds = xr.Dataset({k: (("time", "latitude", "longitude"), v.astype(np.float32), {"units": u})
                         for k, (v, u) in fields.items()},
                        coords={"time": times, "latitude": lat, "longitude": lon})
        path = folder / f"era5_{day:%Y%m%d}.nc"
        ds.to_netcdf(path, encoding={"time": {"units": "hours since 1900-01-01"}})
        paths.append(path)
    return paths


def write_static(folder: Path, grid: Grid = FINE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ds = xr.Dataset({"deptho": (("latitude", "longitude"), sea_floor(grid).astype(np.float32), {"units": "m"})},
                    coords={"latitude": grid.lat, "longitude": grid.lon})
    path = folder / "mask_bathy.nc"
    ds.to_netcdf(path)
    return path


RECIPE = """\
name: tiny
grid: {{lat0: -90, lon0: -180, nlat: 8, nlon: 16, res: 22.5, name: tiny}}
levels: [0.5, 10, 100]
dates: {dates}
missing: {missing}
compute: {{scheduler: {scheduler}, progress: false}}
sources:
  - {{name: physics, kind: reanalysis, product: glorys, files: glorys/*.nc}}
  - {{name: forcing, kind: forcing, product: era5, files: era5/*.nc, min_records_per_day: 4}}
{extra}"""


def write_recipe(root: Path, *, dates: str = "{start: 2020-01-01, end: 2020-01-03}", missing: str = "refuse",
                 scheduler: str = "synchronous", bathymetry: bool = True, extra: str = "",
                 name: str = "recipe.yaml") -> Path:
    lines = extra
    if bathymetry:
        lines = "  - {name: static, kind: bathymetry, product: glorys, files: static/mask_bathy.nc}\n" + lines
    path = root / name
    path.write_text(RECIPE.format(dates=dates, missing=missing, scheduler=scheduler, extra=lines))
    return path


def make_inputs(root: Path, days=DAYS, **recipe) -> Path:
    """glorys/, era5/ and static/ under ``root`` for ``days``, and root/recipe.yaml."""
    write_glorys(root / "glorys", days=days)
    write_era5(root / "era5", days=days)
    write_static(root / "static")
    write_recipe(root, **recipe)
    return root


@pytest.fixture
def tiny_inputs(tmp_path) -> Path:
    """A folder with glorys/, era5/ and static/ for 2020-01-01..03 and a recipe.yaml."""
    return make_inputs(tmp_path)


@pytest.fixture(autouse=False)
def restore_logging():
    """``ocean.cli.main`` points the root logger at the test's captured stderr; put it back."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="module")
def built_template(tmp_path_factory) -> Path:
    """Tiny inputs with their cube built, once per test module."""
    from pipelines.build import build_cube
    from pipelines.recipe import load_recipe

    root = make_inputs(tmp_path_factory.mktemp("built"))
    build_cube(load_recipe(root / "recipe.yaml"), root / "cube.zarr")
    return root


@pytest.fixture
def built(built_template, tmp_path):
    """A copy of the inputs with their cube (to show that failures leave it untouched):
    ``(inputs root, cube, snapshot of the cube)``."""
    import shutil

    root = tmp_path / "inputs"
    shutil.copytree(built_template, root)
    return root, root / "cube.zarr", snapshot(root / "cube.zarr")


def snapshot(path: Path) -> dict[str, str]:
    """Every file of a store and its hash (to show it is untouched)."""
    return {str(p.relative_to(path)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(Path(path).rglob("*")) if p.is_file()}
