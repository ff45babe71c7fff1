"""``ocean forecast``: the embedded default, cron semantics and bad input."""

from __future__ import annotations

import errno
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

from forecast_fixtures import LEVELS, synthetic_cube, tiny_model
from ocean.cli import main
from ocean.forecast_store import forecast_path, list_forecasts, open_forecasts


@pytest.fixture(scope="module")
def model_and_cube(tmp_path_factory):
    base = tmp_path_factory.mktemp("fc")
    cube = synthetic_cube(base / "cube.zarr")
    return tiny_model(cube, base), cube


def _forecast(model, out, *extra):
    return main(["forecast", "--model", str(model), "--init", "2020-01-05", "--out", str(out), "--leads", "5", *extra])


def test_synthetic_default_writes_the_schema_and_quicklooks(model_and_cube, tmp_path, capsys):
    model, _ = model_and_cube
    assert _forecast(model, tmp_path) == 0
    out = capsys.readouterr().out
    assert "forecast published" in out and "quicklooks" in out
    ds = open_forecasts(tmp_path)
    assert ds.thetao.dims == ("init_time", "lead_time", "depth", "latitude", "longitude")
    assert ds.sizes["lead_time"] == 5 and list(ds.depth.values) == list(LEVELS.depths)
    assert str(ds.valid_time.values[0, 0])[:10] == "2020-01-06"
    sst = ds.thetao.isel(init_time=0, depth=0).values
    ocean = np.isfinite(sst[0])
    assert 0 < ocean.mean() < 1 and (np.isfinite(sst) == ocean).all()  # NaN exactly over land, every lead
    assert ds.attrs["forcing"].startswith("synthetic ocean forcing") and ds.attrs["model_sha256"]
    pngs = sorted(p.name for p in (tmp_path / "quicklooks" / "2020-01-05").iterdir())
    assert pngs == ["currents_lead001.png", "ssh_lead001.png", "sst_lead001.png"]


def test_idempotent_unless_forced(model_and_cube, tmp_path, capsys):
    model, _ = model_and_cube
    assert _forecast(model, tmp_path, "--no-quicklooks") == 0
    store = forecast_path(tmp_path, "2020-01-05")
    stamp = (store / "zarr.json").stat().st_mtime_ns
    assert _forecast(model, tmp_path, "--no-quicklooks") == 0
    assert "already published" in capsys.readouterr().out
    assert (store / "zarr.json").stat().st_mtime_ns == stamp
    assert _forecast(model, tmp_path, "--no-quicklooks", "--force") == 0
    assert (store / "zarr.json").stat().st_mtime_ns != stamp
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".forecast") and "tmp" in p.name] == []


def test_from_a_cube_with_climatological_forcing(model_and_cube, tmp_path, caplog):
    model, cube = model_and_cube
    assert _forecast(model, tmp_path, "--cube", str(cube), "--no-quicklooks") == 0
    ds = open_forecasts(tmp_path)
    assert "climatology of the cube's forcing" in ds.attrs["forcing"]
    assert "no forcing forecast given" in caplog.text


def test_dry_run_writes_nothing(model_and_cube, tmp_path):
    model, _ = model_and_cube
    assert _forecast(model, tmp_path / "root", "--dry-run") == 0
    assert not (tmp_path / "root").exists()


def test_missing_init_date_in_the_cube(model_and_cube, tmp_path, caplog):
    model, cube = model_and_cube
    rc = main(["forecast", "--model", str(model), "--cube", str(cube), "--init", "2021-06-01", "--out", str(tmp_path)])
    assert rc == 3 and "init date is not in the cube" in caplog.text and "2020-01-01..2020-01-12" in caplog.text
    assert list_forecasts(tmp_path) == []


def test_nan_in_ocean_cells_of_the_initial_state(model_and_cube, tmp_path, caplog):
    model, cube = model_and_cube
    bad = tmp_path / "bad.zarr"
    ds = xr.open_zarr(cube).load()
    ocean = ds.mask.values[0].astype(bool)
    iy, ix = np.argwhere(ocean)[0]
    ds["thetao"][4, 0, iy, ix] = np.nan  # 2020-01-05, surface, an ocean cell
    from ocean.cube import open_statistics, write_cube

    write_cube(ds, bad, statistics=open_statistics(cube))
    rc = main(["forecast", "--model", str(model), "--cube", str(bad), "--init", "2020-01-05", "--out", str(tmp_path / "o")])
    assert rc == 3 and "NaN or inf in ocean cells" in caplog.text and "thetao@0.5" in caplog.text
    assert list_forecasts(tmp_path / "o") == []


def test_short_cube_cannot_give_a_climatology_for_30_leads(model_and_cube, tmp_path, caplog):
    model, cube = model_and_cube
    rc = main(["forecast", "--model", str(model), "--cube", str(cube), "--init", "2020-01-05", "--out", str(tmp_path)])
    assert rc == 3 and "forcing climatology does not cover every lead" in caplog.text and "--forcing" in caplog.text


def test_checkpoint_that_does_not_match_the_data(model_and_cube, tmp_path, caplog):
    model, _ = model_and_cube
    other = synthetic_cube(tmp_path / "other.zarr", levels=type(LEVELS)((0.5, 20.0, 100.0)))
    rc = main(["forecast", "--model", str(model), "--cube", str(other), "--init", "2020-01-05", "--out", str(tmp_path / "o")])
    assert rc == 3
    assert "levels" in caplog.text and "10" in caplog.text and "20" in caplog.text
    assert list_forecasts(tmp_path / "o") == []


def test_unwritable_output_root(model_and_cube, tmp_path, caplog):
    model, _ = model_and_cube
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert _forecast(model, blocker / "root") == 3
    assert "output root cannot be created" in caplog.text


def test_full_disk_publishes_nothing(model_and_cube, tmp_path, monkeypatch, caplog):
    import zarr.storage._local as local

    model, _ = model_and_cube
    real, calls = local._put, {"n": 0}

    def put(path, value, exclusive=False):
        calls["n"] += 1
        if calls["n"] > 40:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, value, exclusive)

    monkeypatch.setattr(local, "_put", put)
    rc = _forecast(model, tmp_path, "--no-quicklooks")
    assert rc != 0 and "No space left on device" in caplog.text
    assert list(tmp_path.iterdir()) in ([], [tmp_path / ".forecast_2020-01-05.lock"])


def _cli(model, out, *extra):
    return [sys.executable, "-m", "ocean.cli", "-q", "forecast", "--model", str(model), "--init", "2020-01-05",
            "--out", str(out), "--leads", "5", "--no-quicklooks", *extra]


def test_two_concurrent_runs_make_one_forecast(model_and_cube, tmp_path):
    model, _ = model_and_cube
    procs = [subprocess.Popen(_cli(model, tmp_path, "--wait", "120"), stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert sorted(o.startswith("forecast published:") for o in outs) == [False, True]
    assert any("already published" in o for o in outs)
    ds = open_forecasts(tmp_path)
    assert ds.sizes["init_time"] == 1 and np.isfinite(ds.zos.values).any()


def test_killed_runs_never_leave_a_visible_partial_forecast(model_and_cube, tmp_path):
    """Kill trials (more in benchmarks/kill_trials.py): after each, nothing or a whole forecast."""
    model, _ = model_and_cube
    rng = np.random.default_rng(0)
    for delay in rng.uniform(1.0, 6.0, size=4):
        p = subprocess.Popen(_cli(model, tmp_path, "--force"), stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
        for store in list_forecasts(tmp_path):
            ds = xr.open_zarr(store)
            assert ds.sizes["lead_time"] == 5 and np.isfinite(ds.zos.values).any(axis=(-1, -2)).all()
    assert subprocess.run(_cli(model, tmp_path, "--force"), capture_output=True).returncode == 0
    assert len(list_forecasts(tmp_path)) == 1
