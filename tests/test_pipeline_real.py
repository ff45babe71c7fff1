"""Cubes from the real producers' samples in ../shared/data (skipped when absent).

The GLORYS sample holds 2012-01-01 and 2012-12-31 on a 1/12 degree grid
subsampled to ~0.83 degree (55-65N, 15W-0); the ERA5 sample 2012-01-01 and
2013-01-01 (20-80N, 50W-0, latitude descending, kelvin); ETOPO5 bathymetry
(global, 1.67 degree). The recipe asks for the two GLORYS days with the
``skip`` policy: a day missing from a source is left out and recorded,
which is how non-consecutive test data keep the daily contract.
"""

import json

import numpy as np
import pytest
import xarray as xr

from ocean.cube import cube_grid, cube_mask, open_cube, open_statistics
from ocean.io import open_source
from pipelines.append import append_day
from pipelines.build import build_cube
from pipelines.recipe import parse_recipe
from pipelines.validate import validate_cube

pytestmark = pytest.mark.real_data

NA = "{region: {name: north_atlantic, lon_min: -14.5, lon_max: -0.5, lat_min: 55.5, lat_max: 64.5}, resolution: 0.25}"


def _recipe(data, text):
    import yaml

    return parse_recipe(yaml.safe_load(text), base=data, label="real-sample recipe")


def test_glorys_era5_bathymetry_cube_on_a_regional_quarter_degree_grid(shared_data, tmp_path):
    recipe = _recipe(shared_data, f"""
        name: na_sample
        grid: {NA}
        levels: aigoms15
        dates: [2012-01-01, 2012-12-31]
        missing: {{policy: skip}}
        compute: {{scheduler: synchronous, progress: false}}
        sources:
          - {{name: glorys, kind: reanalysis, product: glorys, files: glorys/GLORYS_NA_2012.nc}}
          - {{name: era5, kind: forcing, product: era5, files: era5/ERA5_NA_2012.nc,
              variables: [u10, v10, t2m, msl]}}
          - {{name: etopo, kind: bathymetry, product: bathymetry,
              files: bathymetry/etopo5_coarsened_and_shifted.nc}}
        """)
    report = build_cube(recipe, tmp_path / "na.zarr")
    ds = open_cube(report.path)
    assert cube_grid(ds).shape == (36, 56) and cube_grid(ds).res == 0.25
    assert [str(t)[:10] for t in ds.time.values] == ["2012-01-01"]
    gaps = json.loads(ds.attrs["gaps"])
    assert gaps == [{"start": "2012-12-31", "end": "2012-12-31", "days": 1, "policy": "skip", "missing": ["era5"]}]
    # Regridding (linear: the sample's 0.83 degree is coarser than the target) keeps the values.
    src = open_source(shared_data / "glorys" / "GLORYS_NA_2012.nc")
    sst = ds.thetao.isel(time=0, depth=1)  # 6 m, close to GLORYS's 6.24 m first level
    src_sst = src.thetao.isel(time=0, depth=0)
    assert abs(float(sst.mean()) - float(src_sst.mean())) < 0.5
    assert float(sst.min()) >= float(src_sst.min()) - 0.5 and float(sst.max()) <= float(src_sst.max()) + 0.5
    # ERA5 arrives in kelvin, latitude descending: the cube has degrees C, ascending.
    era = open_source(shared_data / "era5" / "ERA5_NA_2012.nc").t2m.isel(time=0)
    here = era.interp(latitude=ds.latitude, longitude=ds.longitude)
    np.testing.assert_allclose(ds.t2m.isel(time=0).values, here.values, atol=0.05)
    # Masks per level from ETOPO; data NaN exactly on land; deeper levels have less ocean.
    mask = cube_mask(ds)
    counts = mask.sum(axis=(1, 2))
    assert counts[0] > 0.8 * mask[0].size and np.all(np.diff(counts) <= 0) and counts[-1] < counts[0]
    assert np.array_equal(np.isnan(ds.thetao.isel(time=0).values), ~mask)
    stats = open_statistics(report.path)
    assert stats.attrs["period_start"] == "2012-01-01" and 30 < float(stats.so_mean.isel(depth=0)) < 36
    assert validate_cube(report.path) == []


def test_glorys_two_days_a_year_apart_with_the_gap_recorded(shared_data, tmp_path):
    text = f"""
        name: na_glorys
        grid: {NA}
        levels: aigoms15
        dates: [2012-01-01]
        missing: {{policy: skip}}
        compute: {{scheduler: synchronous, progress: false}}
        sources:
          - {{name: glorys, kind: reanalysis, product: glorys, files: glorys/GLORYS_NA_2012.nc}}
          - {{name: etopo, kind: bathymetry, files: bathymetry/etopo5_coarsened_and_shifted.nc}}
        """
    cube = build_cube(_recipe(shared_data, text), tmp_path / "g.zarr").path
    report = append_day(_recipe(shared_data, text), cube, "2012-12-31")
    assert report.status == "appended"
    ds = open_cube(cube)
    assert ds.sizes["time"] == 2
    gap = json.loads(ds.attrs["gaps"])[0]
    assert (gap["start"], gap["end"], gap["days"], gap["policy"]) == ("2012-01-02", "2012-12-30", 364, "skip")
    winter, summer = (float(ds.thetao.isel(time=i, depth=0).mean()) for i in (0, 1))
    assert winter != summer and validate_cube(cube) == []


def test_ersst_monthly_as_a_gridded_sst_source(shared_data, tmp_path):
    """ERSST (monthly, 2 degree, 0..360, latitude descending) onto the global 4 degree
    grid (conservative) and a regional 1/4 degree grid (linear), spread over days by
    linear interpolation between mid-month values."""
    for grid, name in (("4deg", "global"), (NA, "na")):
        recipe = _recipe(shared_data, f"""
            name: ersst_{name}
            grid: {grid}
            dates: {{start: 2012-01-14, end: 2012-01-18}}
            compute: {{scheduler: synchronous, progress: false}}
            sources:
              - {{name: ersst, kind: sst_l4, product: ersst, files: sst/ersstv5_2010_2020.nc,
                  time_interpolation: linear}}
            """)
        ds = open_cube(build_cube(recipe, tmp_path / f"{name}.zarr").path)
        assert ds.sizes["time"] == 5 and validate_cube(tmp_path / f"{name}.zarr") == []
        src = open_source(shared_data / "sst" / "ersstv5_2010_2020.nc", "ersst").sst
        jan, feb = src.sel(time="2012-01-01").squeeze(), src.sel(time="2012-02-01").squeeze()
        if name == "global":
            # 2 -> 4 degree is conservative: the area-weighted mean over common ocean is kept.
            a = np.cos(np.deg2rad(ds.latitude))
            mid_jan = ds.sst.sel(time="2012-01-16")
            w_src = np.cos(np.deg2rad(jan.latitude))
            assert abs(float(mid_jan.weighted(a).mean()) - float(jan.weighted(w_src).mean())) < 0.3
        day = ds.sst.sel(time="2012-01-18")  # between mid-January and mid-February
        lo = np.minimum(jan, feb).interp(latitude=ds.latitude, longitude=ds.longitude, method="nearest")
        assert float((day - lo).min()) > -1.0
        assert xr.DataArray(np.diff(ds.sst.values, axis=0)).notnull().any()
