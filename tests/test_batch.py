import numpy as np
import pytest
import torch
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_tiny_ocean, tiny_land
from ocean.batch import Batch
from ocean.errors import DataError
from ocean.grid import Grid
from ocean.levels import Levels


def test_channel_order_is_explicit(tiny_ocean, tiny_levels):
    b = Batch.from_xarray(tiny_ocean)
    assert b.channels[:3] == ["thetao@0.5", "thetao@10", "thetao@100"]
    assert b.channels[3] == "so@0.5" and b.channels[-1] == "zos"
    assert b.shape == (1, 2, 13, 8, 16)


def test_land_is_zero_and_mask_has_the_hole(tiny_ocean, tiny_grid, tiny_levels):
    b = Batch.from_xarray(tiny_ocean)
    land = tiny_land(tiny_grid, tiny_levels)
    np.testing.assert_array_equal(b.level_mask.numpy(), ~land)
    assert b.mask[0, 3, 5]  # the hole is ocean
    assert not b.mask[2, 0, 10] and b.mask[1, 1, 10]  # the shelf: land only at 100 m
    assert float(b.state[..., ~b.mask].abs().sum()) == 0.0
    assert torch.isfinite(b.state).all()


def test_round_trip_is_exact(tiny_ocean):
    b = Batch.from_xarray(tiny_ocean)
    back = b.to_xarray()
    for v in ["thetao", "so", "uo", "vo", "zos"]:
        np.testing.assert_array_equal(back[v].isel(sample=0).values, tiny_ocean[v].values)
    b2 = Batch.from_xarray(back)
    assert torch.equal(b2.state, b.state) and torch.equal(b2.mask, b.mask)
    np.testing.assert_array_equal(b2.time, b.time)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([30.0, 22.5, 15.0]), st.integers(1, 3))
def test_round_trip_property(seed, res, days):
    grid, levels = Grid.global_(res), Levels((1.0, 50.0, 300.0))
    ds = make_tiny_ocean(grid, levels, days=days, seed=seed)
    b = Batch.from_xarray(ds)
    b2 = Batch.from_xarray(b.to_xarray(sample_dim="init_time", time_dim="lead_time"))
    assert torch.equal(b.state, b2.state)


def test_subset_of_levels_and_variables(tiny_ocean):
    b = Batch.from_xarray(tiny_ocean, variables=["thetao", "zos"], levels=Levels((0.5, 100.0)))
    assert b.channels == ["thetao@0.5", "thetao@100", "zos"]


def test_levels_the_data_lack_are_refused_naming_both(tiny_ocean):
    with pytest.raises(DataError, match=r"requested depth levels.*found \[0\.5, 10\.0, 100\.0\].*expected \[0\.5, 6\.0"):
        Batch.from_xarray(tiny_ocean, levels=Levels((0.5, 6, 10)))


def test_nan_in_ocean_names_channel_and_date(tiny_ocean):
    ds = tiny_ocean.copy(deep=True)
    ds["so"][1, 2, 7, 2] = np.nan
    with pytest.raises(DataError, match=r"so@100 \(1 cells\) at \['2020-01-02'\]"):
        Batch.from_xarray(ds)


def test_forcing_is_carried_and_checked(tiny_ocean):
    f = xr.Dataset({v: (("time", "latitude", "longitude"), np.ones((2, 8, 16), "f4"))
                    for v in ["u10", "v10", "t2m", "msl", "sp"]},
                   coords={k: tiny_ocean[k] for k in ("time", "latitude", "longitude")})
    b = Batch.from_xarray(tiny_ocean, forcing=f)
    assert b.forcing.shape == (1, 2, 5, 8, 16) and b.forcing_channels == ["u10", "v10", "t2m", "msl", "sp"]
    with pytest.raises(DataError, match="forcing and state times differ"):
        Batch.from_xarray(tiny_ocean, forcing=f.assign_coords(time=f.time + np.timedelta64(1, "D")))


def test_direct_construction_validates_shapes(tiny_grid, tiny_levels):
    good = dict(mask=torch.ones(13, 8, 16, dtype=torch.bool), time=np.zeros((1, 2), "datetime64[ns]"),
                grid=tiny_grid, levels=tiny_levels, variables=("thetao", "so", "uo", "vo", "zos"))
    Batch(state=torch.zeros(1, 2, 13, 8, 16), **good)
    with pytest.raises(DataError, match=r"wrong shape.*\(1, 2, 12, 8, 16\)"):
        Batch(state=torch.zeros(1, 2, 12, 8, 16), **good)
    with pytest.raises(DataError, match="NaN or inf.*thetao@0.5"):
        Batch(state=torch.full((1, 2, 13, 8, 16), float("nan")), **good)


def test_mask_variable_in_the_dataset_is_used(tiny_ocean, tiny_grid, tiny_levels):
    land = tiny_land(tiny_grid, tiny_levels)
    ds = tiny_ocean.assign(mask=(("depth", "latitude", "longitude"), (~land).astype("int8")))
    b = Batch.from_xarray(ds)
    np.testing.assert_array_equal(b.level_mask.numpy(), ~land)
    assert "mask" not in b.to_xarray()
