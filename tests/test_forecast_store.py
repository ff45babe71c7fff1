import multiprocessing as mp
import os
import time

import numpy as np
import pytest

from conftest import make_tiny_ocean
from ocean.errors import LockedError, OceanError
from ocean.forecast_store import ForecastWriter, cleanup_stale, forecast_path, list_forecasts, open_forecasts
from ocean.lock import run_lock

VARS = ["thetao", "so", "uo", "vo", "zos"]


def _write(root, grid, levels, ds, init="2020-01-01", leads=2, fail_at=None):
    with ForecastWriter(root, init, grid, levels, VARS, leads, attrs={"model": "test"}) as w:
        for i in range(leads):
            if i == fail_at:
                raise RuntimeError("boom")
            w.write_lead(i, {v: ds[v].isel(time=i % ds.sizes["time"]).values for v in VARS})


def test_schema_and_lazy_open(tmp_path, tiny_grid, tiny_levels, tiny_ocean):
    _write(tmp_path, tiny_grid, tiny_levels, tiny_ocean)
    _write(tmp_path, tiny_grid, tiny_levels, tiny_ocean, init="2020-01-02")
    ds = open_forecasts(tmp_path)
    assert ds.thetao.dims == ("init_time", "lead_time", "depth", "latitude", "longitude")
    assert ds.zos.dims == ("init_time", "lead_time", "latitude", "longitude")
    assert ds.sizes["init_time"] == 2 and ds.thetao.chunks is not None  # lazy
    assert ds.valid_time.values[1, 0] == np.datetime64("2020-01-03")
    assert ds.thetao.attrs["standard_name"] == "sea_water_potential_temperature"
    assert ds.init_time.attrs["standard_name"] == "forecast_reference_time"
    np.testing.assert_array_equal(ds.thetao.isel(init_time=0, lead_time=1).values, tiny_ocean.thetao.isel(time=1).values)
    assert np.isnan(ds.thetao.isel(init_time=0, lead_time=0, depth=0, latitude=3, longitude=3).values)  # land


def test_failure_publishes_nothing_and_leaves_no_temporary(tmp_path, tiny_grid, tiny_levels, tiny_ocean):
    with pytest.raises(RuntimeError, match="boom"):
        _write(tmp_path, tiny_grid, tiny_levels, tiny_ocean, fail_at=1)
    assert list(tmp_path.iterdir()) == []


def test_incomplete_forecast_is_refused(tmp_path, tiny_grid, tiny_levels, tiny_ocean):
    with pytest.raises(OceanError, match="incomplete"):
        with ForecastWriter(tmp_path, "2020-01-01", tiny_grid, tiny_levels, VARS, 3) as w:
            w.write_lead(0, {v: tiny_ocean[v].isel(time=0).values for v in VARS})
    assert list_forecasts(tmp_path) == [] and list(tmp_path.iterdir()) == []


def test_stale_temporaries_of_dead_runs_are_removed(tmp_path):
    dead = tmp_path / ".forecast_2020-01-01.zarr.tmp-999999-abcd1234"
    dead.mkdir()
    mine = tmp_path / f".forecast_2020-01-02.zarr.tmp-{os.getpid()}-abcd1234"
    mine.mkdir()
    assert cleanup_stale(tmp_path) == [dead]
    assert mine.exists()


def _hold(path, seconds, started):
    with run_lock(path):
        started.set()
        time.sleep(seconds)


def test_lock_refuses_then_waits(tmp_path):
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    p = ctx.Process(target=_hold, args=(tmp_path / "x.lock", 2.0, started))
    p.start()
    assert started.wait(30)
    with pytest.raises(LockedError, match="another run holds the lock.*pid"):
        with run_lock(tmp_path / "x.lock"):
            pass
    t0 = time.monotonic()
    with run_lock(tmp_path / "x.lock", wait=30):
        assert time.monotonic() - t0 > 0.1
    p.join()


def test_lock_is_released_when_the_holder_is_killed(tmp_path):
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    p = ctx.Process(target=_hold, args=(tmp_path / "x.lock", 60.0, started))
    p.start()
    assert started.wait(30)
    p.kill()
    p.join()
    with run_lock(tmp_path / "x.lock"):
        pass


def test_quicklooks_offline(tmp_path, tiny_grid, tiny_levels, tiny_ocean, monkeypatch):
    import socket

    from ocean.plot import quicklooks

    def no_network(*a, **k):
        raise AssertionError("a quicklook tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    _write(tmp_path / "fc", tiny_grid, tiny_levels, tiny_ocean)
    files = quicklooks(open_forecasts(tmp_path / "fc"), tmp_path / "ql", leads=(1, 2))
    assert sorted(f.name for f in files) == sorted(f"{n}_lead00{i}.png" for n in ("sst", "ssh", "currents") for i in (1, 2))
    assert all(f.stat().st_size > 5000 and f.read_bytes()[:4] == b"\x89PNG" for f in files)


def test_forecast_path_naming(tmp_path):
    assert forecast_path(tmp_path, "2021-06-30T00:00").name == "forecast_2021-06-30.zarr"
