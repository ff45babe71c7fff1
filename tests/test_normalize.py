import numpy as np
import pytest
import torch
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from ocean.levels import Levels
from ocean.normalize import Statistics, channel_names, compute_statistics, split_channel


def _two_lat_dataset():
    # Latitudes 0 and 60: weights cos(0)=1, cos(60)=0.5.
    lat = np.array([0.0, 60.0])
    zos = np.array([[[1.0, np.nan], [4.0, 4.0]], [[3.0, np.nan], [4.0, 4.0]]])  # (time, lat, lon)
    return xr.Dataset({"zos": (("time", "latitude", "longitude"), zos)},
                      coords={"time": np.array(["2020-01-01", "2020-01-02"], "datetime64[ns]"),
                              "latitude": lat, "longitude": [0.0, 10.0]})


def test_weighted_statistics_by_hand():
    s = compute_statistics(_two_lat_dataset()).compute()
    # Values with weights: 1 (w1), 3 (w1), 4,4,4,4 (w0.5 each): mean = (1+3+8)/(2+2) = 3.
    assert float(s.zos_mean) == pytest.approx(3.0)
    var = (1 * (1 - 3) ** 2 + 1 * (3 - 3) ** 2 + 2.0 * (4 - 3) ** 2) / 4.0
    assert float(s.zos_std) == pytest.approx(np.sqrt(var))
    # Tendencies: 2 (w1), 0,0 (w0.5): mean 1, var (1*1 + 1*1)/2 = 1.
    assert float(s.zos_tendency_std) == pytest.approx(1.0)
    assert s.zos_mean.dtype == np.float64
    assert s.attrs["period_start"] == "2020-01-01" and s.attrs["period_end"] == "2020-01-02"


def test_statistics_are_lazy_on_dask_input(tiny_ocean):
    s = compute_statistics(tiny_ocean.chunk({"time": 1}))
    assert s.thetao_mean.chunks is not None  # still a dask graph
    assert np.isfinite(s.thetao_mean.values).all()


def test_period_outside_data_is_an_error(tiny_ocean):
    from ocean.errors import DataError

    with pytest.raises(DataError, match="period"):
        compute_statistics(tiny_ocean, period=("1990-01-01", "1990-12-31"))


def test_flatten_to_channels_and_json(tiny_ocean, tiny_levels):
    stats = Statistics.from_dataset(compute_statistics(tiny_ocean), ["thetao", "zos"], tiny_levels)
    assert stats.channels == ("thetao@0.5", "thetao@10", "thetao@100", "zos")
    expected = float(tiny_ocean.thetao.sel(depth=10).weighted(np.cos(np.deg2rad(tiny_ocean.latitude))).mean())
    assert stats.mean[1] == pytest.approx(expected)
    again = Statistics.from_dict(stats.to_dict())
    np.testing.assert_array_equal(again.std, stats.std)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=4, max_size=4), st.lists(st.floats(1e-3, 1e3), min_size=2, max_size=2))
def test_normalise_round_trip_numpy_and_torch(values, stds):
    s = Statistics(("a", "b"), np.array([1.0, -2.0]), np.array(stds), np.array([0.5, 0.25]))
    x = np.array(values, dtype=np.float64).reshape(1, 2, 2, 1)  # (B, C, H, W)
    np.testing.assert_allclose(s.denormalise(s.normalise(x)), x, rtol=1e-9, atol=1e-9)
    t = torch.tensor(x)
    torch.testing.assert_close(s.denormalise(s.normalise(t)), t)
    torch.testing.assert_close(s.denormalise_tendency(s.normalise_tendency(t)), t)


def test_channel_helpers():
    assert channel_names(["thetao", "zos"], Levels((1.0, 2.5))) == ["thetao@1", "thetao@2.5", "zos"]
    assert split_channel("so@2.5") == ("so", 2.5) and split_channel("zos") == ("zos", None)
    with pytest.raises(ValueError, match="channels on axis"):
        Statistics(("a",), np.zeros(1), np.ones(1), np.ones(1)).normalise(np.zeros((3, 2, 2)))
