"""``ocean export-oceanbench``: OceanBench's challenger layout (dims, names, lead mapping), formats, 1-degree grid."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from ocean.cli import main
from ocean.errors import DataError
from ocean.forecast_store import ForecastWriter, open_forecasts
from ocean.grid import Grid
from ocean.levels import Levels
from ocean.oceanbench import to_challenger

GRID = Grid.global_(22.5, name="tiny")
LEVELS = Levels((0.5, 10.0, 100.0))
INITS = ("2024-01-02", "2024-01-09")  # OceanBench's first days are the Wednesdays after: 01-03 and 01-10


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Two 12-day forecasts whose values encode (init, lead day): 100 * init index + lead day."""
    root = tmp_path_factory.mktemp("fc")
    lon = np.broadcast_to(GRID.lon, GRID.shape)
    for k, init in enumerate(INITS):
        with ForecastWriter(root, init, GRID, LEVELS, ("thetao", "so", "uo", "vo", "zos"), 12) as w:
            for i in range(12):
                code = np.full((len(LEVELS), *GRID.shape), 100.0 * k + i + 1)
                w.write_lead(i, {"thetao": code, "so": code + 30, "uo": code * 0 + 0.1, "vo": code * 0,
                                 "zos": 0.01 * lon})  # zos linear in longitude: exact under linear interpolation
    return root


def test_layout_names_and_lead_mapping(root):
    ch = to_challenger(open_forecasts(root))
    assert dict(ch.sizes) == {"first_day_datetime": 2, "lead_day_index": 10, "depth": 3, "latitude": 8, "longitude": 16}
    assert ch.thetao.dims == ("first_day_datetime", "lead_day_index", "depth", "latitude", "longitude")
    assert ch.zos.dims == ("first_day_datetime", "lead_day_index", "latitude", "longitude")
    assert [str(t)[:10] for t in ch.first_day_datetime.values] == ["2024-01-03", "2024-01-10"]
    assert ch.lead_day_index.values.tolist() == list(range(10))
    # lead_day_index k is valid on first_day_datetime + k days, i.e. our lead day k + 1.
    np.testing.assert_array_equal(ch.thetao.isel(depth=0, latitude=4, longitude=4).values,
                                  [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [101, 102, 103, 104, 105, 106, 107, 108, 109, 110]])
    names = {v: ch[v].attrs["standard_name"] for v in ch.data_vars}
    assert names == {"zos": "sea_surface_height_above_geoid", "thetao": "sea_water_potential_temperature",
                     "so": "sea_water_salinity", "uo": "eastward_sea_water_velocity",
                     "vo": "northward_sea_water_velocity"}
    assert ch.depth.attrs["positive"] == "down"


def test_cli_writes_zarr_format_2_and_netcdf(root, tmp_path, capsys):
    out = tmp_path / "challenger.zarr"
    assert main(["export-oceanbench", str(root), "--out", str(out), "--end", "2024-01-05"]) == 0
    assert "1 forecasts x 10 lead days" in capsys.readouterr().out
    assert json.loads((out / ".zgroup").read_text())["zarr_format"] == 2 and (out / ".zmetadata").exists()
    ds = xr.open_zarr(out)
    assert ds.sizes["first_day_datetime"] == 1 and float(ds.so.isel(first_day_datetime=0, lead_day_index=9,
                                                                        depth=2, latitude=0, longitude=0)) == 40.0
    nc = tmp_path / "challenger.nc"
    assert main(["export-oceanbench", str(root), "--out", str(nc), "--lead-days", "5"]) == 0
    assert xr.open_dataset(nc).sizes["lead_day_index"] == 5
    assert main(["export-oceanbench", str(root), "--out", str(nc)]) == 3  # exists: --force to replace


def test_one_degree_grid_on_whole_degrees_and_periodic(root):
    ch = to_challenger(open_forecasts(root), lead_days=2, resolution=1)
    assert ch.longitude.values[0] == -180.0 and ch.longitude.values[-1] == 179.0 and ch.sizes["longitude"] == 360
    assert np.all(ch.latitude.values == np.round(ch.latitude.values))
    zos = ch.zos.isel(first_day_datetime=0, lead_day_index=0).sel(latitude=0)
    inside = (zos.longitude > GRID.lon[0]) & (zos.longitude < GRID.lon[-1])
    np.testing.assert_allclose(zos.where(inside, drop=True), 0.01 * zos.longitude.where(inside, drop=True), atol=1e-6)
    assert np.isfinite(zos.sel(longitude=[-180.0, 179.0])).all()  # across the seam, not NaN


def test_too_few_leads_and_missing_variables_are_refused(root, tmp_path, caplog):
    assert main(["export-oceanbench", str(root), "--out", str(tmp_path / "x.zarr"), "--lead-days", "20"]) == 3
    assert "shorter than the challenger's lead days" in caplog.text and not (tmp_path / "x.zarr").exists()
    with pytest.raises(DataError, match="lack variables OceanBench scores"):
        to_challenger(open_forecasts(root).drop_vars("zos"))
