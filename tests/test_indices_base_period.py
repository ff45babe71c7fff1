"""Niño3.4 records the base period it really used (ERSST v5 sample in ../shared/data)."""

import logging

import numpy as np
import pytest

from ocean.indices import NINO34, box_mean, nino34
from ocean.io import open_source

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def ersst(shared_data):
    return open_source(shared_data / "sst" / "ersstv5_2010_2020.nc", "ersst").sst.load()


def test_uncovered_base_period_is_warned_and_the_used_one_recorded(ersst, caplog):
    with caplog.at_level(logging.WARNING, logger="ocean.indices"):
        index = nino34(ersst)  # default 1991-2020: the sample holds 2010-01 .. 2020-08
    assert index.attrs["base_period"] == "2010-01-01/2020-08-31"
    assert index.attrs["base_years"] == "2010-2020" and index.attrs["base_months"] == 128
    assert index.attrs["base_period_requested"] == "1991-01-01/2020-12-31"
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("1991-01-01/2020-12-31" in m and "2010-01-01/2020-08-31" in m for m in warned)
    # The 2015/16 El Nino is there: the index passes +2 degC late in 2015.
    assert float(index.sel(time="2015-12").max()) > 2.0


def test_covered_base_period_is_silent_and_exactly_that(ersst, caplog):
    with caplog.at_level(logging.WARNING, logger="ocean.indices"):
        index = nino34(ersst, base_period=("2011-01-01", "2018-12-31"))
    assert index.attrs["base_period"] == "2011-01-01/2018-12-31" and index.attrs["base_months"] == 96
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    # Anomalies against that period average to zero over it, month by month (before the running mean).
    raw = nino34(ersst, base_period=("2011-01-01", "2018-12-31"), running=1).sel(time=slice("2011", "2018"))
    np.testing.assert_allclose(raw.groupby("time.month").mean().values, 0.0, atol=1e-5)
    box = box_mean(ersst, NINO34).sel(time=slice("2011", "2018"))
    np.testing.assert_allclose(raw.values, (box.groupby("time.month") - box.groupby("time.month").mean()).values,
                               atol=1e-5)
