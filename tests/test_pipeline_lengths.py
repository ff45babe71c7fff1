"""`ocean data build` at any length: a build written in batches equals a one-shot write.

For N in {1, batch-1, batch, batch+1, 3*batch+2} days, the cube built with
a small write batch (``compute.batch_days``) equals, bit for bit, the cube
built in one batch (every variable, the time axis, the masks), its
statistics are those of ``ocean.normalize.compute_statistics`` over the
recipe's statistics period, and appending day N+1 gives the data of a
build of N+1 days.
"""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ocean.cube import open_cube, open_statistics
from ocean.normalize import compute_statistics
from pipelines.append import append_day
from pipelines.build import build_cube
from pipelines.recipe import load_recipe
from pipelines.statistics import statistics_variables
from test_pipeline_support import make_inputs, write_recipe

BATCH = 3
LENGTHS = (1, BATCH - 1, BATCH, BATCH + 1, 3 * BATCH + 2)
START = dt.date(2020, 1, 1)
DAYS = pd.date_range(str(START), periods=max(LENGTHS) + 1, freq="D")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("lengths"), days=DAYS)


def _recipe(root, n: int, batch: int | None, tag: str, stats_days: tuple[int, int] | None = None):
    end = START + dt.timedelta(days=n - 1)
    extra = f"{{start: {START}, end: {end}}}"
    compute = "" if batch is None else f", batch_days: {batch}"
    path = write_recipe(root, dates=extra, name=f"recipe_{tag}.yaml")
    text = path.read_text().replace("progress: false}", f"progress: false{compute}}}")
    if stats_days is not None:
        a, b = (START + dt.timedelta(days=d) for d in stats_days)
        text = text.replace("missing: refuse", f"missing: refuse\nstatistics: {{start: {a}, end: {b}}}")
    path.write_text(text)
    return load_recipe(path)


def _same_cube(a: xr.Dataset, b: xr.Dataset) -> None:
    assert sorted(a.variables) == sorted(b.variables)
    for name in a.variables:
        xr.testing.assert_identical(a[name].load(), b[name].load())


def _stats_period(n: int) -> tuple[int, int] | None:
    return (1, n - 2) if n >= 4 else None  # a period strictly inside the days when there is room


@pytest.mark.parametrize("n", LENGTHS)
def test_a_batched_build_equals_a_one_shot_build(files, tmp_path, n):
    period = _stats_period(n)
    batched = build_cube(_recipe(files, n, BATCH, f"b{n}", period), tmp_path / "batched.zarr")
    a = open_cube(batched.path)
    assert batched.days == a.sizes["time"] == n
    assert [str(t)[:10] for t in a.time.values] == [str(d.date()) for d in DAYS[:n]]
    if n > BATCH:  # up to one batch, the batched build is the one-shot build
        one = build_cube(_recipe(files, n, None, f"o{n}", period), tmp_path / "one.zarr", batch=n)
        b = open_cube(one.path)
        _same_cube(a, b)
        xr.testing.assert_identical(open_statistics(batched.path), open_statistics(one.path))
    else:
        b = a

    stats = open_statistics(batched.path)
    first, last = (DAYS[period[0]], DAYS[period[1]]) if period else (DAYS[0], DAYS[n - 1])
    assert (stats.attrs["period_start"], stats.attrs["period_end"]) == (str(first.date()), str(last.date()))
    sel = b.sel(time=slice(first, last))
    want = compute_statistics(sel, statistics_variables(sel)).compute()
    assert sorted(stats.data_vars) == sorted(want.data_vars)
    for name in want.data_vars:
        np.testing.assert_allclose(stats[name].values, want[name].values, rtol=1e-10, atol=1e-14, err_msg=name)


def test_the_batch_follows_the_workers_when_the_recipe_does_not_set_it(files, tmp_path):
    """The default batch grows with the workers: a build whose batch comes from
    ``compute.workers`` (and ``processes``) writes the same cube."""
    n = LENGTHS[-1]
    ref = build_cube(_recipe(files, n, None, "ref"), tmp_path / "ref.zarr", batch=1)
    recipe = _recipe(files, n, None, "w").with_compute(scheduler="processes", workers=2)
    got = build_cube(recipe, tmp_path / "workers.zarr")
    _same_cube(open_cube(got.path), open_cube(ref.path))


@pytest.mark.parametrize("n", (BATCH, 3 * BATCH + 2))
def test_append_after_a_build_equals_a_longer_build(files, tmp_path, n):
    cube = build_cube(_recipe(files, n, BATCH, f"a{n}"), tmp_path / "cube.zarr").path
    append_day(_recipe(files, n, BATCH, f"a{n}"), cube, str(DAYS[n].date()))
    longer = build_cube(_recipe(files, n + 1, BATCH, f"l{n}"), tmp_path / "longer.zarr").path
    got, want = open_cube(cube), open_cube(longer)
    assert got.sizes["time"] == n + 1
    for name in [v for v in want.data_vars if "time" in want[v].dims] + ["time", "mask"]:
        xr.testing.assert_identical(got[name].load(), want[name].load())


def _reference_statistics(ds: xr.Dataset, keep: np.ndarray) -> xr.Dataset:
    """The former in-memory route: compute_statistics on the kept days, tendencies masked
    where two kept days are not consecutive."""
    sel = ds.isel(time=np.nonzero(keep)[0])
    variables = statistics_variables(sel)
    stats = compute_statistics(sel, variables).compute()
    consecutive = xr.DataArray(np.diff(sel.time.values).astype("timedelta64[D]") == np.timedelta64(1, "D"),
                               dims="time", coords={"time": sel.time.values[1:]})
    w = np.cos(np.deg2rad(sel.latitude)).clip(min=0.0)
    for v in variables:
        x = sel[v].astype(np.float64)
        dims = [d for d in ("time", "latitude", "longitude") if d in x.dims]
        stats[f"{v}_tendency_std"] = x.diff("time").where(consecutive).weighted(w).std(dims, skipna=True)
    return stats


@pytest.mark.parametrize("span", (1, 2, 64))
def test_streaming_statistics_equal_the_in_memory_ones_with_holes_and_persisted_days(tiny_grid, tiny_levels,
                                                                                     monkeypatch, span):
    """One pass, any span length (tendencies crossing spans), a skipped day (a hole in the
    time axis) and a persisted day left out: equal to the xarray reduction to 1e-10."""
    from conftest import make_tiny_forcing, make_tiny_ocean
    from pipelines import statistics

    ds = make_tiny_ocean(tiny_grid, tiny_levels, days=9, seed=3)
    ds = ds.merge(make_tiny_forcing(ds)).isel(time=[0, 1, 2, 4, 5, 6, 7, 8])  # 2020-01-04 skipped
    monkeypatch.setattr(statistics, "SPAN_DAYS", span)
    got = statistics.cube_statistics(ds, (dt.date(2020, 1, 2), dt.date(2020, 1, 9)), exclude=["2020-01-07"])
    days = [str(t)[:10] for t in ds.time.values]
    keep = np.array([d >= "2020-01-02" and d != "2020-01-07" for d in days])
    want = _reference_statistics(ds, keep)
    assert sorted(got.data_vars) == sorted(want.data_vars)
    for name in want.data_vars:
        np.testing.assert_allclose(got[name].values, want[name].values, rtol=1e-10, err_msg=name)
    assert got.attrs["period_start"] == "2020-01-02" and got.attrs["excluded_days"] == '["2020-01-07"]'
    assert np.all(got.thetao_tendency_std.values > 0)


def test_no_consecutive_days_means_no_tendency_statistics(tiny_grid, tiny_levels):
    from conftest import make_tiny_ocean
    from pipelines.statistics import cube_statistics

    ds = make_tiny_ocean(tiny_grid, tiny_levels, days=5).isel(time=[0, 2, 4])
    got = cube_statistics(ds, (dt.date(2020, 1, 1), dt.date(2020, 1, 5)))
    assert "thetao_std" in got and not any(k.endswith("_tendency_std") for k in got.data_vars)
