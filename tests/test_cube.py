import numpy as np
import pytest

from ocean.cube import (CUBE_FORMAT, cube_grid, cube_levels, cube_mask, forcing_variables, ocean_variables,
                        open_cube, open_statistics, write_cube)
from ocean.errors import DataError
from ocean.normalize import Statistics


def test_cube_round_trip(tiny_cube, tiny_grid, tiny_levels):
    ds = open_cube(tiny_cube)
    assert ds.attrs["cube_format"] == CUBE_FORMAT and ds.attrs["Conventions"].startswith("CF")
    assert ocean_variables(ds) == ("thetao", "so", "uo", "vo", "zos")
    assert forcing_variables(ds) == ("u10", "v10", "t2m", "msl", "sp")
    assert cube_grid(ds).same_as(tiny_grid) and cube_levels(ds).same_as(tiny_levels)
    m = cube_mask(ds)
    assert m.shape == (3, 8, 16) and m[0, 3, 5] and not m[0, 2, 3]
    # One shard per day, inner chunks of one level.
    assert ds.thetao.encoding["chunks"] == (1, 1, 8, 16) and ds.thetao.encoding["shards"] == (1, 3, 8, 16)
    assert ds.thetao.dtype == np.float32


def test_statistics_group(tiny_cube, tiny_levels):
    stats = open_statistics(tiny_cube)
    assert stats.thetao_mean.dtype == np.float64 and stats.attrs["period_end"] == "2020-01-06"
    flat = Statistics.from_dataset(stats, ["thetao", "so", "uo", "vo", "zos"], tiny_levels)
    assert len(flat.channels) == 13 and np.all(flat.std > 0)


def test_existing_cube_is_not_overwritten(tiny_cube):
    ds = open_cube(tiny_cube)
    with pytest.raises(DataError, match="the cube exists"):
        write_cube(ds, tiny_cube)


def test_a_store_that_is_not_a_cube_is_refused(tmp_path, tiny_ocean):
    tiny_ocean.to_zarr(tmp_path / "other.zarr", zarr_format=3)
    with pytest.raises(DataError, match="not an ocean-forecast training cube"):
        open_cube(tmp_path / "other.zarr")
    with pytest.raises(DataError, match="no training cube here"):
        open_cube(tmp_path / "missing.zarr")
