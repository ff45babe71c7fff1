"""Horizontal regridding (conservation, xarray-regrid agreement, coverage,
periodicity, cover checks) and vertical remapping (exact on linear profiles,
never below the sea floor)."""

import numpy as np
import pytest
import xarray as xr
import xarray_regrid  # noqa: F401  (registers the .regrid accessor)
from hypothesis import given, settings
from hypothesis import strategies as st

from ocean.errors import DataError
from ocean.grid import Grid, Region
from ocean.levels import Levels
from pipelines.regrid import make_regridder, regrid
from pipelines.vertical import ocean_fraction, remap_vertical, vertical_plan


def _area_mean(field, grid):
    a = grid.cell_area()
    return float((np.asarray(field, dtype="f8") * a).sum() / a.sum())


def test_conservative_regridding_preserves_the_area_weighted_mean(tiny_grid):
    fine = tiny_grid.refine(3)
    x = np.random.default_rng(0).normal(10.0, 3.0, fine.shape)
    rg = make_regridder(fine.lat, fine.lon, tiny_grid)
    assert rg.method == "conservative"
    y = rg.apply(x)
    assert abs(_area_mean(y, tiny_grid) - _area_mean(x, fine)) <= 1e-6 * abs(_area_mean(x, fine))
    # Each target cell is the exact area-weighted mean of its 3 x 3 source cells.
    a = fine.cell_area()
    block = (x * a)[:3, :3].sum() / a[:3, :3].sum()
    assert y[0, 0] == pytest.approx(block, rel=1e-6)


@settings(max_examples=15, deadline=None)
@given(factor=st.integers(2, 4), res=st.sampled_from([10.0, 15.0, 30.0]), seed=st.integers(0, 1000),
       box=st.booleans())
def test_conservation_holds_for_nested_grids(factor, res, seed, box):
    target = Grid.box(Region("b", -60, 90, -30, 60), res) if box else Grid.global_(res)
    source = target.refine(factor)
    x = np.random.default_rng(seed).uniform(1.0, 2.0, source.shape)
    y = make_regridder(source.lat, source.lon, target).apply(x)
    assert abs(_area_mean(y, target) - _area_mean(x, source)) <= 1e-6 * _area_mean(x, source)


def test_weights_agree_with_xarray_regrid(tiny_grid):
    fine = tiny_grid.refine(2)
    rng = np.random.default_rng(1)
    x = rng.normal(size=fine.shape)
    x[5:9, 10:20] = np.nan
    da = xr.DataArray(x, dims=("latitude", "longitude"), coords={"latitude": fine.lat, "longitude": fine.lon})
    target = xr.Dataset(coords={"latitude": tiny_grid.lat, "longitude": tiny_grid.lon})
    ref = da.regrid.conservative(target, skipna=True, nan_threshold=1.0).values
    ours = make_regridder(fine.lat, fine.lon, tiny_grid, coverage=1e-9).apply(x)
    # Away from the polar rows (xarray-regrid's polar bounds overhang the poles).
    np.testing.assert_allclose(ours[1:-1], ref[1:-1], rtol=1e-5, equal_nan=True)
    box = Grid.box("gulf_stream", 2.5)
    smooth = np.cos(np.deg2rad(fine.lat))[:, None] * np.sin(np.deg2rad(fine.lon))[None]
    da = da.copy(data=smooth)
    ref = da.regrid.linear(xr.Dataset(coords={"latitude": box.lat, "longitude": box.lon})).values
    ours = make_regridder(fine.lat, fine.lon, box, method="linear").apply(smooth)
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_coverage_threshold_decides_coastal_cells():
    target = Grid.box(Region("r", 0, 30, 0, 10), 10.0)  # 1 x 3 cells
    source = target.refine(3)  # 3 x 9
    x = np.full(source.shape, 20.0)
    x[:, 0:2] = np.nan  # cell 0: 2/3 land -> below 0.5 coverage
    x[:, 3] = np.nan  # cell 1: 1/3 land -> ocean, mean of the rest
    x[:, 7] = 26.0  # cell 2: no land
    y = make_regridder(source.lat, source.lon, target, coverage=0.5).apply(x)
    assert np.isnan(y[0, 0]) and y[0, 1] == pytest.approx(20.0)
    assert y[0, 2] == pytest.approx(22.0, rel=1e-6)
    y_any = make_regridder(source.lat, source.lon, target, coverage=0.2).apply(x)
    assert y_any[0, 0] == pytest.approx(20.0)  # a lower threshold keeps the coastal cell


def test_periodic_source_serves_a_box_across_the_dateline():
    source = Grid.global_(2.0)
    lon = source.lon
    x = np.broadcast_to(np.cos(np.deg2rad(lon))[None], source.shape).copy()
    target = Grid.box(Region("pacific", 170, -170, -10, 10), 4.0)  # 170 .. 190
    assert target.lon.max() > 180
    y = make_regridder(source.lat, source.lon, target).apply(x)
    expected = np.cos(np.deg2rad(target.lon))  # cos is smooth: cell means ~ centre values
    np.testing.assert_allclose(y[0], expected, atol=2e-3)


def test_a_source_that_does_not_cover_the_target_is_refused():
    source = Grid.box(Region("small", -20, 0, 50, 60), 0.5)
    target = Grid.box(Region("bigger", -30, 0, 50, 60), 1.0)
    with pytest.raises(DataError, match="does not cover") as err:
        make_regridder(source.lat, source.lon, target, label="small.nc")
    assert "small.nc" in str(err.value) and "found" in str(err.value) and "expected" in str(err.value)


def test_regrid_is_lazy_and_checks_blocks(tiny_grid):
    fine = tiny_grid.refine(2)
    data = np.ones((2, *fine.shape), dtype=np.float32)
    data[1, 3, 3] = np.inf
    da = xr.DataArray(data, dims=("time", "latitude", "longitude"),
                      coords={"time": [0, 1], "latitude": fine.lat, "longitude": fine.lon}).chunk({"time": 1})
    seen = []

    def check(block, t0):
        seen.append(t0)
        if np.isinf(block).any():
            raise DataError("infinite values", variable="x", found=f"record {t0}")

    out = regrid(da, make_regridder(fine.lat, fine.lon, tiny_grid), check=check)
    assert seen == [] and out.shape == (2, 8, 16)
    np.testing.assert_allclose(out.isel(time=0).values, 1.0)
    with pytest.raises(DataError, match="record 1"):
        out.isel(time=1).values


# -- vertical -------------------------------------------------------------------

SOURCE_DEPTHS = np.array([0.494, 5.0, 20.0, 80.0, 150.0, 400.0])


def _column(values, depths=SOURCE_DEPTHS):
    return xr.DataArray(np.asarray(values, dtype=np.float32).reshape(1, -1, 1, 1),
                        dims=("time", "depth", "latitude", "longitude"),
                        coords={"depth": depths, "latitude": [0.0], "longitude": [0.0]})


def test_vertical_remapping_is_exact_on_linear_profiles():
    levels = Levels((0.494, 3.0, 10.0, 50.0, 100.0, 150.0, 300.0))
    plan = vertical_plan(SOURCE_DEPTHS, levels)
    profile = 20.0 - 0.04 * SOURCE_DEPTHS
    x = _column(profile).isel(depth=list(plan.needed))
    y = remap_vertical(x, plan, levels, extend_to_floor=False).values.ravel()
    np.testing.assert_allclose(y, 20.0 - 0.04 * levels.values, rtol=1e-6)


def test_vertical_remapping_above_the_first_and_below_the_last_level():
    levels = Levels((0.2, 300.0, 500.0))
    plan = vertical_plan(SOURCE_DEPTHS, levels)
    y = remap_vertical(_column(np.arange(6.0)).isel(depth=list(plan.needed)), plan, levels, False).values.ravel()
    assert y[0] == 0.0  # above the first level: the first level's value (mixed layer)
    assert y[1] == pytest.approx(4.0 + (300 - 150) / (400 - 150))
    assert np.isnan(y[2])  # deeper than the source: nothing is invented
    assert plan.needed == (0, 4, 5)  # only the levels needed are read


def test_vertical_remapping_never_reaches_below_the_sea_floor():
    levels = Levels((10.0, 100.0, 200.0))
    plan = vertical_plan(SOURCE_DEPTHS, levels)
    col = _column([10, 9, 8, 7, np.nan, np.nan])  # the source's floor lies between 80 and 150 m
    x = col.isel(depth=list(plan.needed))
    strict = remap_vertical(x, plan, levels, extend_to_floor=False).values.ravel()
    assert strict[0] == pytest.approx(9.0 - (10 - 5) / 15) and np.isnan(strict[1]) and np.isnan(strict[2])
    # With a bathymetry, the deepest value extends to the next source level only (the cube's
    # mask, from that bathymetry, then removes levels below the floor).
    extended = remap_vertical(x, plan, levels, extend_to_floor=True).values.ravel()
    assert extended[1] == 7.0 and np.isnan(extended[2])


def test_ocean_fraction_from_bathymetry(tiny_grid):
    fine = tiny_grid.refine(2)
    depth = np.full(fine.shape, 1000.0)
    depth[0:2, 0:2] = np.nan  # a land cell (whole target cell)
    depth[4, 4] = 50.0  # one quarter of target cell (2, 2) is a 50 m shelf
    deptho = xr.DataArray(depth, dims=("latitude", "longitude"), coords={"latitude": fine.lat, "longitude": fine.lon})
    levels = Levels((10.0, 100.0))
    frac = ocean_fraction(deptho, levels, make_regridder(fine.lat, fine.lon, tiny_grid)).values
    assert frac[:, 0, 0].tolist() == [0.0, 0.0]
    assert frac[0, 2, 2] == pytest.approx(1.0) and 0.7 < frac[1, 2, 2] < 0.8  # 3 of 4 quarters deep
