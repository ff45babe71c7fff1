"""The ``ocean`` xarray accessor: figures offline, selections, Niño3.4, skill plots; cheap registration."""

from __future__ import annotations

import socket
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import ocean  # noqa: F401  (registers the accessor)
from conftest import make_tiny_ocean
from ocean.errors import DataError
from ocean.grid import Grid
from ocean.indices import NINO34, box_mean
from ocean.levels import Levels
from ocean.metrics import fit_harmonic_climatology, harmonic_climatology_at

LEVELS = Levels((0.5, 10.0, 100.0))


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test (cartopy must not download coastlines)."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def _forecast(ref: xr.Dataset, inits: int = 2, leads: int = 3) -> xr.Dataset:
    """A forecast-shaped dataset (init_time, lead_time, ...) cut from an ocean with a time axis."""
    init = ref.time.values[:inits]
    lead = (np.arange(1, leads + 1) * np.timedelta64(1, "D")).astype("timedelta64[ns]")
    valid = xr.DataArray(init[:, None] + lead[None, :], dims=("init_time", "lead_time"))
    fc = ref.sel(time=valid).drop_vars("time").assign_coords(init_time=init, lead_time=lead)
    return fc.assign_coords(valid_time=fc.init_time + fc.lead_time)


@pytest.fixture(scope="module")
def ocean4():
    """Four-degree tiny ocean (the Niño3.4 box holds cell centres), 20 days."""
    return make_tiny_ocean(Grid.global_(4.0), LEVELS, days=20)


def test_map_section_and_currents_of_a_forecast_offline(offline, ocean4):
    from matplotlib.figure import Figure

    fc = _forecast(ocean4)
    fig = fc.ocean.map("thetao", depth=10, lead=2, init=str(fc.init_time.values[1])[:10])
    assert isinstance(fig, Figure) and "10 m" in fig.axes[0].get_title() and "lead 2 d" in fig.axes[0].get_title()
    assert isinstance(fc.ocean.map("zos"), Figure)  # defaults: first init, first lead
    assert isinstance(fc.ocean.currents(depth=0.5, lead=1), Figure)
    sec = fc.ocean.section("thetao", lat=0, lead=3)
    assert "section at" in sec.axes[0].get_title() and sec.axes[0].get_ylim()[0] == 100.0  # depth downward
    assert isinstance(fc.ocean.section("so", lon=-140), Figure)
    assert isinstance(fc.thetao.ocean.map(depth=100, lead=1), Figure)  # DataArray accessor
    assert isinstance(ocean4.ocean.map("thetao", time="2020-01-05"), Figure)  # a cube-like dataset
    fig.savefig(__import__("io").BytesIO(), format="png")  # draws: coastlines from the mask, no download


def test_selection_errors_say_what_exists(ocean4):
    fc = _forecast(ocean4)
    with pytest.raises(DataError, match=r"no such lead_time.*1 d"):
        fc.ocean.map("thetao", lead=9)
    with pytest.raises(DataError, match="exactly one of lat= or lon="):
        fc.ocean.section("thetao")
    with pytest.raises(DataError, match="lacks variables"):
        fc.ocean.map("chl")
    with pytest.raises(DataError, match="needs a 3-D variable"):
        fc.ocean.section("zos", lat=0)


def test_nino34_of_a_forecast_and_of_a_time_series(ocean4):
    fc = _forecast(ocean4)
    sst = fc.ocean.nino34()
    expected = box_mean(fc.thetao.isel(depth=0, drop=True), NINO34)
    xr.testing.assert_allclose(sst, expected.rename("nino34_sst"))
    coefs = fit_harmonic_climatology(ocean4)  # 20 days: the period mean
    anomaly = fc.ocean.nino34(climatology=coefs)
    clim = harmonic_climatology_at(coefs, fc.valid_time).thetao.isel(depth=0, drop=True)
    np.testing.assert_allclose(anomaly.values, (expected - box_mean(clim, NINO34)).values, rtol=1e-5)
    assert anomaly.dims == ("init_time", "lead_time")
    months = xr.Dataset({"thetao": fc.thetao.isel(init_time=0, lead_time=0, drop=True).expand_dims(
        time=np.arange("2000-01", "2002-01", dtype="datetime64[M]").astype("datetime64[ns]"))})
    index = months.ocean.nino34()  # constant in time: zero anomalies
    assert index.name == "nino34" and float(abs(index).max()) < 1e-5


def _metrics() -> xr.Dataset:
    lead = (np.arange(1, 6) * np.timedelta64(1, "D")).astype("timedelta64[ns]")
    rng = np.random.default_rng(0)
    shape3, shape2 = (3, 3, 2, 5, 3), (3, 3, 2, 5)
    dims3, dims2 = ("system", "metric", "region", "lead_time", "depth"), ("system", "metric", "region", "lead_time")
    return xr.Dataset({"thetao": (dims3, rng.uniform(0.1, 1, shape3), {"units": "degrees_C"}),
                       "zos": (dims2, rng.uniform(0.01, 0.1, shape2), {"units": "m"})},
                      coords={"system": ["model", "persistence", "climatology"], "metric": ["rmse", "bias", "acc"],
                              "region": ["global", "tropics"], "lead_time": lead, "depth": [0.5, 10.0, 100.0]})


def test_skill_plots_of_hindcast_metrics(offline):
    from matplotlib.figure import Figure

    m = _metrics()
    assert isinstance(m.ocean.skill_plot(), Figure)
    card = m.ocean.skill_plot("scorecard")
    assert [a.get_title() for a in card.axes[:2]] == ["global", "tropics"]
    with pytest.raises(DataError, match="not hindcast metrics"):
        _forecast(make_tiny_ocean(Grid.global_(22.5), LEVELS, days=6)).ocean.skill_plot()


def test_import_ocean_registers_the_accessor_without_torch_or_matplotlib():
    code = ("import sys, xarray as xr, ocean; print(hasattr(xr.Dataset, 'ocean'), hasattr(xr.DataArray, 'ocean'), "
            "'torch' in sys.modules, 'matplotlib' in sys.modules, callable(ocean.open_forecasts), "
            "callable(ocean.open_hindcast))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "False", "False", "True", "True"]
