"""The downscaling head: geometry (dateline), interpolation weights, training and `ocean forecast --heads`."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import xarray as xr

from downstream_fixtures import DATELINE, backbone, fine_cube, trained_head
from forecast_fixtures import GRID, LEVELS
from ocean.cli import main
from ocean.forecast_store import forecast_path, open_forecasts


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("dsd")
    model, cube = backbone(base)
    return {"model": model, "cube": cube, "base": base}


def _forecast(model, out, heads, *extra):
    return main(["forecast", "--model", str(model), "--init", "2020-01-05", "--out", str(out), "--leads", "3",
                 "--heads", heads, "--no-quicklooks", *extra])


def test_interpolation_weights_by_hand():
    from downstream.downscaling.geometry import cubic_matrix, linear_matrix

    assert np.allclose(linear_matrix([0.5, 0.0, 2.0, 3.7], 3), [[.5, .5, 0], [1, 0, 0], [0, 0, 1], [0, 0, 1]])
    m = cubic_matrix(np.array([1.0, 1.5, 2.25]), 5)
    assert np.allclose(m[0], [0, 1, 0, 0, 0])  # a sample point is reproduced exactly
    assert np.allclose(m[1], [-0.0625, 0.5625, 0.5625, -0.0625, 0])  # Keys a = -0.5 at the midpoint
    assert np.allclose(m.sum(axis=1), 1) and np.allclose(m @ np.arange(5.0), [1.0, 1.5, 2.25])


def test_dateline_box_geometry_on_a_global_backbone():
    from downstream.downscaling.geometry import RegionGeometry, resolve_region

    g = RegionGeometry.build(GRID, resolve_region(DATELINE), 3, halo=2)
    assert g.box.lon[0] == pytest.approx(168.75) and g.box.lon[-1] == pytest.approx(213.75)  # past 180
    assert np.all(np.diff(g.fine.lon) > 0) and g.fine.lon.max() > 180
    assert list(g.cols) == [13, 14, 15, 0, 1, 2, 3]  # -180..180 columns read across the seam
    lon = np.broadcast_to(GRID.lon, GRID.shape)
    crop = g.crop(lon)[0, g.halo:-g.halo]
    assert np.allclose(crop, ((g.box.lon + 180) % 360) - 180)


def test_a_dateline_head_end_to_end(setup, tmp_path):
    from downstream.downscaling.geometry import RegionGeometry, resolve_region

    fine = fine_cube(tmp_path / "fine.zarr", DATELINE)
    head = trained_head(setup["model"], setup["cube"], fine, tmp_path, "--set", f"head.region={DATELINE}")
    assert _forecast(setup["model"], tmp_path / "fc", f"downscaling={head}") == 0
    ds = open_forecasts(tmp_path / "fc", group="downscaling")
    want = RegionGeometry.build(GRID, resolve_region(DATELINE), 3).fine
    assert np.allclose(ds.longitude, want.lon) and ds.longitude.max() > 180
    sst = ds.thetao.isel(init_time=0, depth=0).values
    truth = xr.open_zarr(fine).thetao.isel(time=0, depth=0).values
    assert (np.isfinite(sst) == np.isfinite(truth)[None]).all() and np.isfinite(sst).any()


def test_train_and_forecast_with_the_head(setup, tmp_path):
    fine = fine_cube(tmp_path / "fine.zarr")
    head = trained_head(setup["model"], setup["cube"], fine, tmp_path)
    assert (head / "model.safetensors").is_file() and (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
    assert _forecast(setup["model"], tmp_path / "fc", f"downscaling={head}") == 0
    store = forecast_path(tmp_path / "fc", "2020-01-05")
    ds = xr.open_zarr(store, group="downscaling")
    phys = xr.open_zarr(store)
    truth = xr.open_zarr(fine)
    assert ds.thetao.dims == ("init_time", "lead_time", "depth", "latitude", "longitude")
    assert ds.zos.dims == ("init_time", "lead_time", "latitude", "longitude")
    assert list(ds.depth.values) == [0.5, 10.0] and ds.sizes["lead_time"] == 3
    assert np.array_equal(ds.lead_time, phys.lead_time) and np.array_equal(ds.valid_time, phys.valid_time)
    assert np.allclose(ds.latitude, truth.latitude) and np.allclose(ds.longitude, truth.longitude)
    ocean = truth.mask.values.astype(bool)[[0, 1]]  # levels 0.5 and 10 m
    values = ds.thetao.isel(init_time=0).values
    assert (np.isfinite(values) == ocean[None]).all() and 0 < ocean.mean() < 1  # NaN exactly over fine land
    assert ds.attrs["head"] == "head/downscaling" and ds.attrs["backbone_sha256"] == phys.attrs["model_sha256"]
    # a head beside the backbone is found without a path
    model = tmp_path / "model"
    shutil.copytree(setup["model"], model)
    shutil.copytree(head, model / "heads" / "downscaling")
    assert _forecast(model, tmp_path / "fc2", "downscaling") == 0
    assert "downscaling" in xr.open_zarr(forecast_path(tmp_path / "fc2", "2020-01-05"), group="downscaling").attrs["head"]


def test_no_trained_head_for_this_backbone(setup, tmp_path, caplog):
    assert _forecast(setup["model"], tmp_path, "downscaling") == 3
    assert "no trained 'downscaling' head for this backbone" in caplog.text


def test_fine_cube_on_the_wrong_grid_is_refused(setup, tmp_path, caplog):
    fine = fine_cube(tmp_path / "fine.zarr", DATELINE)  # the config's region is kuroshio
    from downstream_fixtures import train_args

    assert main(train_args(setup["model"], setup["cube"], fine, tmp_path)) == 3
    assert "the fine cube is not on the head's fine grid" in caplog.text and "kuroshio" in caplog.text


def test_levels_must_be_backbone_levels(setup, tmp_path, caplog):
    from downstream_fixtures import train_args

    args = train_args(setup["model"], setup["cube"], tmp_path / "none.zarr", tmp_path, "--set", "head.levels=[35]")
    assert main(args) == 3 and f"must be backbone levels ({list(LEVELS.depths)})" in caplog.text
