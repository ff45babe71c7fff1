"""Shared fixtures: tiny grids and oceans (STYLE.md: 8x16, 3 levels, a land
mask with a hole, 2 days). Nothing here downloads anything."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from ocean.grid import Grid
from ocean.levels import Levels

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_configure(config):
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real producer samples in ../shared/data, or a skip naming why."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data not found at {SHARED_DATA} (../shared/data beside the checkout)")
    return SHARED_DATA


@pytest.fixture
def tiny_grid() -> Grid:
    return Grid.global_(22.5, name="tiny")  # 8 x 16


@pytest.fixture
def tiny_levels() -> Levels:
    return Levels((0.5, 10.0, 100.0), "tiny3")


def tiny_land(grid: Grid, levels: Levels) -> np.ndarray:
    """Land per level: a continent with an ocean hole (a lake cell) and a shelf."""
    land = np.zeros((len(levels), *grid.shape), dtype=bool)
    land[:, 2:6, 3:8] = True
    land[:, 3, 5] = False  # the hole: ocean surrounded by land
    land[2, :, 10] = True  # a shelf: land only at the deepest level
    land[:, 0, :] = True  # Antarctica
    return land


def make_tiny_ocean(grid: Grid, levels: Levels, days: int = 2, seed: int = 0) -> xr.Dataset:
    """Canonical physics (NaN over land) with smooth, finite ocean values."""
    rng = np.random.default_rng(seed)
    land = tiny_land(grid, levels)
    lat, lon = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    z = levels.values[:, None, None]
    base = 20 * np.cos(np.deg2rad(lat))[None] * np.exp(-z / 200.0)
    time = np.datetime64("2020-01-01", "ns") + np.arange(days) * np.timedelta64(1, "D")

    def field3(offset, scale):
        a = offset + scale * (base[None] + 0.1 * rng.standard_normal((days, *land.shape)))
        return np.where(land[None], np.nan, a).astype(np.float32)

    zos = 0.1 * np.sin(np.deg2rad(lon))[None] + 0.01 * rng.standard_normal((days, *grid.shape))
    data = {
        "thetao": (("time", "depth", "latitude", "longitude"), field3(2.0, 1.0)),
        "so": (("time", "depth", "latitude", "longitude"), field3(34.0, 0.02)),
        "uo": (("time", "depth", "latitude", "longitude"), field3(0.0, 0.01)),
        "vo": (("time", "depth", "latitude", "longitude"), field3(0.0, 0.005)),
        "zos": (("time", "latitude", "longitude"), np.where(land[0][None], np.nan, zos).astype(np.float32)),
    }
    coords = {"time": time, "depth": levels.values, "latitude": grid.lat, "longitude": grid.lon}
    from ocean.cf import apply_cf

    return apply_cf(xr.Dataset(data, coords=coords))


@pytest.fixture
def tiny_ocean(tiny_grid, tiny_levels) -> xr.Dataset:
    return make_tiny_ocean(tiny_grid, tiny_levels)


def to_cmems_file(ds: xr.Dataset, path: Path, *, lon_0_360: bool = False, descending_lat: bool = False,
                  units: dict | None = None) -> Path:
    """Write ``ds`` the way Copernicus Marine delivers it (hours since 1950, attrs)."""
    out = ds.copy()
    if descending_lat:
        out = out.isel(latitude=slice(None, None, -1))
    if lon_0_360:
        out = out.assign_coords(longitude=out.longitude % 360).sortby("longitude")
    for name, u in (units or {}).items():
        out[name].attrs["units"] = u
    enc = {"time": {"units": "hours since 1950-01-01", "calendar": "gregorian"}}
    out.to_netcdf(path, encoding=enc)
    return path


def make_tiny_forcing(ds: xr.Dataset, seed: int = 1) -> xr.Dataset:
    """ERA5-like daily forcing on the ocean's grid and dates (canonical units)."""
    rng = np.random.default_rng(seed)
    shape = (ds.sizes["time"], ds.sizes["latitude"], ds.sizes["longitude"])
    base = {"u10": (0.0, 5.0), "v10": (0.0, 3.0), "t2m": (15.0, 8.0), "msl": (101300.0, 800.0),
            "sp": (100000.0, 900.0)}
    data = {v: (("time", "latitude", "longitude"), (m + s * rng.standard_normal(shape)).astype(np.float32))
            for v, (m, s) in base.items()}
    return xr.Dataset(data, coords={k: ds[k] for k in ("time", "latitude", "longitude")})


@pytest.fixture
def tiny_cube(tmp_path, tiny_grid, tiny_levels):
    """A training cube (physics + forcing + mask + statistics) of 6 days."""
    from ocean.cube import write_cube
    from ocean.normalize import compute_statistics

    ds = make_tiny_ocean(tiny_grid, tiny_levels, days=6)
    ds = ds.merge(make_tiny_forcing(ds))
    return write_cube(ds, tmp_path / "cube.zarr", statistics=compute_statistics(ds))
