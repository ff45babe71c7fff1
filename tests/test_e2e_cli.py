"""The whole chain through the installed ``ocean`` command, as a user runs it.

Every step is a subprocess of the ``ocean`` console script (not the Python
API), and every output is opened and checked:

synthetic ocean (4 degrees, 40 days, producer formats) -> ``ocean data
build`` (5 write batches of 8 days) -> ``ocean data validate`` -> ``ocean
train backbone`` (the ``tiny`` preset, a few steps) -> ``ocean export``
(Lightning checkpoint -> safetensors + metadata.json) -> ``ocean forecast``
(from the cube, with the synthetic ERA5 files as the forcing forecast) ->
``ocean hindcast`` (2 inits x 4 leads, model and both baselines) ->
``ocean export-oceanbench``.

Sized to cross the real boundaries (several write batches, more than one
init and lead, hourly forcing files averaged to days) while staying around
two minutes on a busy two-core machine: 3 levels instead of 15. The
forecast reads a forcing forecast (the hourly ERA5-like files), the path
the daily cron job takes; the cube's forcing climatology, the default
without ``--forcing``, is tested in tests/test_forecast_workflow.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
OCEAN = Path(sys.executable).with_name("ocean")  # the console script installed beside this interpreter
DAYS, BATCH = 40, 8
LEVELS = (0.5, 50.0, 200.0)
START = pd.Timestamp("2020-01-01")
END = START + pd.Timedelta(days=DAYS - 1)

pytestmark = pytest.mark.slow


def ocean(*args: str, cwd: Path) -> str:
    """Run ``ocean ARGS`` in ``cwd``; fail with its log when it does not exit 0. Returns stdout."""
    env = {k: v for k, v in os.environ.items() if k != "OCEAN_SYNTHETIC"}
    env.setdefault("OMP_NUM_THREADS", "1")  # two busy cores: no oversubscription
    proc = subprocess.run([str(OCEAN), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (f"`ocean {' '.join(args)}` exited {proc.returncode}\n"
                                  f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-6000:]}")
    return proc.stdout


def recipe_for_test(path: Path) -> Path:
    """The shipped 4-degree recipe with this test's dates, levels and write batches."""
    text = (ROOT / "configs" / "data" / "synthetic_4deg.yaml").read_text()
    edits = {"levels: aigoms15": f"levels: [{', '.join(str(d) for d in LEVELS)}]  #",
             "end: 2020-01-30}": f"end: {END:%Y-%m-%d}}}",
             "compute: {scheduler: auto}": f"compute: {{scheduler: synchronous, batch_days: {BATCH}}}  #"}
    for old, new in edits.items():
        assert old in text, f"configs/data/synthetic_4deg.yaml changed: {old!r} not found; update this test"
        text = text.replace(old, new)
    path.write_text(text)
    return path


def test_synthetic_to_oceanbench_through_the_cli(tmp_path):
    from ocean.io import open_source

    assert OCEAN.exists(), f"the ocean console script is not installed at {OCEAN} (pip install -e .)"
    assert DAYS >= 3 * BATCH  # the build crosses at least three write batches

    # 1. the synthetic ocean in producers' formats (hourly ERA5, GLORYS-like daily files, static)
    ocean("synthetic", "--grid", "4deg", "--start", f"{START:%Y-%m-%d}", "--days", str(DAYS), "--out", "synthetic",
          "--levels", ",".join(str(d) for d in LEVELS), "--no-progress", cwd=tmp_path)
    assert len(list((tmp_path / "synthetic" / "glorys").glob("glorys_*.nc"))) == DAYS

    # 2. the training cube, several write batches; relative --root and --out resolve against the cwd
    recipe = recipe_for_test(tmp_path / "recipe.yaml")
    out = ocean("data", "build", str(recipe), "--root", "synthetic", "--out", "cube.zarr", "--no-progress",
                cwd=tmp_path)
    assert f"{DAYS} days" in out
    cube = xr.open_zarr(tmp_path / "cube.zarr")
    assert dict(cube.sizes) == {"time": DAYS, "depth": len(LEVELS), "latitude": 45, "longitude": 90}
    assert pd.DatetimeIndex(cube.time.values).equals(pd.date_range(START, END, freq="D"))
    ocean_cells = cube["mask"].values.astype(bool)  # (depth, lat, lon)
    assert 0 < ocean_cells.sum() < ocean_cells.size
    # every batch holds its own days: the cube equals the producer's file of that day (same grid and levels)
    for day in (0, BATCH - 1, BATCH, 2 * BATCH + 3, DAYS - 1):
        date = START + pd.Timedelta(days=day)
        src = open_source([tmp_path / "synthetic" / "glorys" / f"glorys_{date:%Y%m%d}.nc"]).load()
        for name in ("thetao", "so", "zos"):
            got = cube[name].sel(time=date).values
            want = src[name].isel(time=0).values
            mask = ocean_cells if got.ndim == 3 else ocean_cells[0]
            assert np.isfinite(got[mask]).all() and np.isnan(got[~mask]).all(), (name, date)
            np.testing.assert_allclose(got[mask], want[mask], rtol=1e-6, err_msg=f"{name} on {date.date()}")
        assert np.isfinite(cube["t2m"].sel(time=date).values).all()
    ocean("data", "validate", "cube.zarr", cwd=tmp_path)

    # 3. train the tiny preset on the cube (its patch and grid overridden for 45 x 90), then export it
    ocean("train", "backbone", "--config", str(ROOT / "configs" / "train" / "tiny.yaml"),
          "--set", "data.cube=cube.zarr", "--set", "output_dir=run",
          "--set", "data.train=['2020-01-01', '2020-01-28']", "--set", "data.val=['2020-01-25', '2020-02-09']",
          "--set", "data.test=['2020-01-25', '2020-02-09']",
          "--set", "model_overrides={io: {grid_shape: [45, 90]}, patch: [3, 3]}", cwd=tmp_path)
    ckpts = sorted((tmp_path / "run" / "checkpoints").glob("*.ckpt"))
    assert {p.stem for p in ckpts} >= {"pretrain", "forecast", "rollout"}
    assert not (tmp_path / "model").exists()
    ocean("export", "run/checkpoints/rollout.ckpt", "--out", "model", cwd=tmp_path)
    assert {p.name for p in (tmp_path / "model").iterdir()} >= {"model.safetensors", "metadata.json"}
    from ocean.checkpoint import read_metadata

    meta = read_metadata(tmp_path / "model")
    assert meta.preset == "tiny" and meta.channels[0] == "thetao@0.5" and meta.channels[-1] == "zos"
    assert len(meta.channels) == 4 * len(LEVELS) + 1

    # 4. one forecast from the cube, forced by the ERA5-like files as a forcing forecast
    init, leads = pd.Timestamp("2020-02-01"), 5
    out = ocean("forecast", "--cube", "cube.zarr", "--model", "model", "--init", f"{init:%Y-%m-%d}",
                "--leads", str(leads), "--forcing", "synthetic/era5/era5_202002*.nc", "--out", "forecasts",
                cwd=tmp_path)
    assert "forecast published" in out and "forcing forecast" in out
    fc = xr.open_zarr(tmp_path / "forecasts" / f"forecast_{init:%Y-%m-%d}.zarr")
    assert dict(fc["thetao"].sizes) == {"init_time": 1, "lead_time": leads, "depth": len(LEVELS),
                                        "latitude": 45, "longitude": 90}
    assert fc["valid_time"].dims == ("init_time", "lead_time")
    assert pd.Timestamp(fc["valid_time"].values[0, -1]) == init + pd.Timedelta(days=leads)
    _ocean_finite_land_nan(fc, ocean_cells)
    assert len(list((tmp_path / "forecasts" / "quicklooks").rglob("*.png"))) >= 1

    # 5. a hindcast: 2 inits x 4 leads, scored for the model, persistence and climatology
    out = ocean("hindcast", "--cube", "cube.zarr", "--model", "model", "--start", "2020-01-20", "--end",
                "2020-01-27", "--every", "7D", "--leads", "4", "--regions", "global,tropics", "--out", "hindcast",
                cwd=tmp_path)
    assert "2 inits" in out
    hc = tmp_path / "hindcast"
    assert {"metrics.nc", "scorecard.png", "report.md"} <= {p.name for p in hc.iterdir()}
    with xr.open_dataset(hc / "metrics.nc") as m:
        assert set(m["system"].values) == {"model", "persistence", "climatology"}
        assert {"rmse", "bias", "acc"} <= set(m["metric"].values)
        assert list(m["region"].values) == ["global", "tropics"]
        assert m.sizes["lead_time"] == 4 and list(m["depth"].values) == list(LEVELS)
        for name in ("thetao", "so", "uo", "vo", "zos"):
            rmse = m[name].sel(metric="rmse", region="global")
            assert np.isfinite(rmse.values).all() and (rmse.values > 0).all(), name
        # persistence is exact at lead 0 only: by lead 4 its error has grown
        pers = m["thetao"].sel(system="persistence", metric="rmse", region="global", depth=0.5)
        assert float(pers.isel(lead_time=-1)) > float(pers.isel(lead_time=0))
    assert "persistence" in (hc / "report.md").read_text()
    import ocean as ocean_pkg

    hind = ocean_pkg.open_forecasts(hc / "forecasts")
    assert list(pd.DatetimeIndex(hind.init_time.values).strftime("%Y-%m-%d")) == ["2020-01-20", "2020-01-27"]
    _ocean_finite_land_nan(hind, ocean_cells)

    # 6. the hindcast's forecasts in OceanBench's challenger layout
    ocean("export-oceanbench", "hindcast/forecasts", "--out", "challenger.zarr", "--lead-days", "4", cwd=tmp_path)
    ob = xr.open_zarr(tmp_path / "challenger.zarr")
    assert dict(ob["thetao"].sizes) == {"first_day_datetime": 2, "lead_day_index": 4, "depth": len(LEVELS),
                                        "latitude": 45, "longitude": 90}
    assert pd.Timestamp(ob["first_day_datetime"].values[0]) == pd.Timestamp("2020-01-21")  # init + 1 day
    np.testing.assert_array_equal(ob["thetao"].isel(first_day_datetime=1, lead_day_index=0).values,
                                  hind["thetao"].isel(init_time=1, lead_time=0).values)
    _ocean_finite_land_nan(ob, ocean_cells)


def _ocean_finite_land_nan(ds: xr.Dataset, ocean_cells: np.ndarray) -> None:
    """Every field finite over the ocean and NaN over land, at every init and lead."""
    for name in ("thetao", "so", "uo", "vo", "zos"):
        values = ds[name].values  # (init, lead, [depth,] lat, lon)
        mask = ocean_cells if ds[name].ndim == 5 else ocean_cells[0]
        assert np.isfinite(values[..., mask]).all(), f"{name}: NaN or inf in ocean cells"
        assert np.isnan(values[..., ~mask]).all(), f"{name}: values over land"
