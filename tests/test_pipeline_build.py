"""`ocean data build` on tiny producer-format files: the cube contract, masks,
statistics, laziness and the LocalCluster."""

import json
import shutil

import dask
import numpy as np
import pytest
import xarray as xr
from dask.callbacks import Callback

from ocean.cli import main
from ocean.cube import cube_grid, cube_levels, cube_mask, open_cube, open_statistics
from ocean.grid import mask_from_bathymetry
from ocean.normalize import Statistics
from pipelines.build import build_cube, prepare_build
from pipelines.recipe import load_recipe
from pipelines.validate import validate_cube
from test_pipeline_support import (FINE, LEVELS, TARGET, make_inputs, ocean_fields, restore_logging,  # noqa: F401
                                   sea_floor, tiny_inputs, write_era5, write_glorys, write_recipe)

pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Tiny inputs and their cube, built once through the CLI (statistics over the last two days)."""
    root = make_inputs(tmp_path_factory.mktemp("built"))
    recipe = root / "recipe.yaml"
    recipe.write_text(recipe.read_text().replace(
        "missing: refuse", "missing: refuse\nstatistics: {start: 2020-01-02, end: 2020-01-03}"))
    out = root / "cube.zarr"
    assert main(["data", "build", str(recipe), "--out", str(out)]) == 0
    return root, out


def test_build_writes_a_valid_cube(built):
    out = built[1]
    ds = open_cube(out)
    assert cube_grid(ds).same_as(TARGET) and cube_levels(ds).same_as(LEVELS)
    assert list(ds.time.dt.strftime("%Y-%m-%d").values) == ["2020-01-01", "2020-01-02", "2020-01-03"]
    assert set(ds.data_vars) == {"thetao", "so", "uo", "vo", "zos", "u10", "v10", "t2m", "msl", "sp",
                                 "mask", "deptho"}
    assert ds.thetao.dtype == np.float32 and ds.thetao.encoding["shards"] == (1, 3, 8, 16)
    # ERA5 as delivered (kelvin, latitude descending, 0..360) comes out canonical, as daily means.
    expected_t2m = 15.0 + 10 * np.cos(np.deg2rad(TARGET.lat)) + 0.75  # records rise 0.5 K each: mean +0.75
    np.testing.assert_allclose(ds.t2m.isel(time=0).mean("longitude"), expected_t2m, rtol=0.02)
    assert validate_cube(out) == []
    assert main(["data", "validate", str(out)]) == 0
    attrs = json.loads(ds.attrs["sources"])
    assert {s["name"] for s in attrs} == {"physics", "forcing", "static"}
    assert json.loads(ds.attrs["recipe"])["name"] == "tiny" and ds.attrs["gaps"] == "[]"


def test_masks_per_level_and_coastal_cells(built):
    ds = open_cube(built[1])
    mask = cube_mask(ds)
    # Each target cell is 2x2 source cells; it is ocean at a level when at least half of
    # its area has its sea floor at or below the level (coverage 0.5).
    floor = sea_floor(FINE)
    deep = np.stack([np.nan_to_num(floor, nan=0.0) >= z for z in LEVELS.values]).astype(float)
    area = FINE.cell_area()
    fraction = (deep * area).reshape(3, 8, 2, 16, 2).sum(axis=(2, 4)) / area.reshape(8, 2, 16, 2).sum(axis=(1, 3))
    np.testing.assert_array_equal(mask, fraction >= 0.5)
    # The shelf (50 m) is ocean at 0.5 and 10 m but land at 100 m; NaN exactly on land.
    shelf = (slice(None), 5, 11)
    assert mask[shelf].tolist() == [True, True, False]
    thetao = ds.thetao.isel(time=0).values
    assert np.array_equal(np.isnan(thetao), ~mask)
    assert np.isnan(ds.zos.values).sum() == 3 * (~mask[0]).sum()
    assert np.array_equal(np.isnan(ds.deptho.values), ~mask[0])
    # Masks are monotonic in depth and agree with ocean.grid.mask_from_bathymetry on open-ocean cells.
    assert not np.any(mask[1:] & ~mask[:-1])
    open_ocean = fraction.min(axis=0) == 1
    np.testing.assert_array_equal(mask_from_bathymetry(ds.deptho.values, LEVELS)[:, open_ocean], mask[:, open_ocean])


def test_statistics_are_float64_over_the_recipe_period(built):
    out = built[1]
    stats = open_statistics(out)
    assert stats.attrs["period_start"] == "2020-01-02" and stats.attrs["period_end"] == "2020-01-03"
    assert stats.thetao_mean.dtype == np.float64 and stats.thetao_mean.sizes == {"depth": 3}
    ds = open_cube(out).sel(time=slice("2020-01-02", None))
    w = np.cos(np.deg2rad(ds.latitude))
    expected = ds.thetao.astype("f8").weighted(w).mean(("time", "latitude", "longitude"))
    np.testing.assert_allclose(stats.thetao_mean, expected, rtol=1e-10)
    # Daily tendency of the analytic field: +0.05 K a day everywhere.
    np.testing.assert_allclose(stats.thetao_tendency_std, 0.0, atol=1e-5)
    flat = Statistics.from_dataset(stats, ["thetao", "so", "uo", "vo", "zos"], LEVELS)
    assert len(flat.channels) == 13


def test_conservative_build_preserves_the_area_weighted_mean(tmp_path):
    write_glorys(tmp_path / "glorys", land=False)
    write_era5(tmp_path / "era5")
    recipe = write_recipe(tmp_path, bathymetry=False)
    ds = open_cube(build_cube(load_recipe(recipe), tmp_path / "cube.zarr").path)
    a_src, a_tgt = FINE.cell_area(), TARGET.cell_area()
    # t2m arrives hourly in kelvin on a 0..360, north-to-south grid: a daily mean, then regridded.
    raw = xr.open_dataset(tmp_path / "era5" / "era5_20200102.nc").t2m.mean("time").values.astype("f8") - 273.15
    before = (raw * a_src[::-1]).sum() / a_src.sum()
    after = (ds.t2m.sel(time="2020-01-02").values.astype("f8") * a_tgt).sum() / a_tgt.sum()
    assert abs(after - before) <= 1e-6 * abs(before)
    zos = ocean_fields(2, land=False)["zos"]  # no land: zos too (mean 0.02 m)
    before = (zos * a_src).sum() / a_src.sum()
    after = (ds.zos.sel(time="2020-01-03").values.astype("f8") * a_tgt).sum() / a_tgt.sum()
    assert abs(after - before) <= 1e-6 * abs(before)


def test_nothing_is_computed_before_the_write(tiny_inputs):
    recipe = load_recipe(tiny_inputs / "recipe.yaml")
    tasks = []
    with Callback(pretask=lambda key, dsk, state: tasks.append(key)):
        _, plan, lazy = prepare_build(recipe)
        assert tasks == []  # opening, planning and assembling computed nothing
        assert all(isinstance(lazy[v].data, dask.array.Array) for v in lazy.data_vars)
        assert plan.days == ("2020-01-01", "2020-01-02", "2020-01-03")
        build_cube(recipe, tiny_inputs / "cube.zarr")
    assert len(tasks) > 0


def test_the_written_cube_equals_the_lazy_graph(built):
    _, _, lazy = prepare_build(load_recipe(built[0] / "recipe.yaml"))
    ds = open_cube(built[1])
    with dask.config.set(scheduler="synchronous"):
        xr.testing.assert_allclose(ds.thetao.load(), lazy.thetao.load())


def test_local_cluster_build_matches_the_synchronous_one(built, tmp_path):
    recipe = load_recipe(built[0] / "recipe.yaml").with_compute(scheduler="local-cluster", workers=2)
    out = build_cube(recipe, tmp_path / "cluster.zarr").path
    a, b = open_cube(built[1]), open_cube(out)
    for v in ("thetao", "zos", "t2m", "mask"):
        xr.testing.assert_identical(a[v].load(), b[v].load())


def test_rebuild_with_force_replaces_the_cube(built, tmp_path):
    out = tmp_path / "cube.zarr"
    shutil.copytree(built[1], out)
    args = ["data", "build", str(built[0] / "recipe.yaml"), "--out", str(out), "--scheduler", "synchronous"]
    assert main(args) == 3  # exists
    assert main(args + ["--force"]) == 0 and validate_cube(out) == []
    xr.testing.assert_identical(open_cube(out).thetao.load(), open_cube(built[1]).thetao.load())


def test_a_missing_day_is_persisted_recorded_and_left_out_of_the_statistics(tiny_inputs):
    (tiny_inputs / "era5" / "era5_20200102.nc").unlink()
    recipe = write_recipe(tiny_inputs, missing="{policy: persist, max_gap_days: 1}", name="persist.yaml")
    out = build_cube(load_recipe(recipe), tiny_inputs / "cube.zarr").path
    ds = open_cube(out)
    assert ds.sizes["time"] == 3
    xr.testing.assert_identical(ds.t2m.isel(time=1, drop=True).load(), ds.t2m.isel(time=0, drop=True).load())
    assert not np.array_equal(ds.thetao.isel(time=1).values, ds.thetao.isel(time=0).values, equal_nan=True)
    gaps = json.loads(ds.attrs["gaps"])
    assert gaps == [{"start": "2020-01-02", "end": "2020-01-02", "days": 1, "policy": "persist",
                     "missing": ["forcing"], "filled_from": {"forcing": "2020-01-01"}}]
    assert json.loads(open_statistics(out).attrs["excluded_days"]) == ["2020-01-02"]
    assert validate_cube(out) == []
