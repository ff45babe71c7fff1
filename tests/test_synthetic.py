"""The synthetic ocean's behaviour: determinism, masks, ranges and learnable dynamics.

Tiny grids (10-20 degrees global, small boxes), few levels, a few days.
Nothing here touches the disk or the network.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.interpolate import RegularGridInterpolator

from ocean import variables as V
from ocean.errors import ConfigError
from ocean.grid import Grid, Region, mask_from_bathymetry
from ocean.synthetic import DEFAULT_LEVELS, SyntheticOcean, dates_from
from ocean.synthetic import geography as geo
from ocean.synthetic import waves as wav
from ocean.synthetic.enso import NINO34

LEVELS = [0.5, 50.0, 200.0]


@pytest.fixture(scope="module")
def ocean10() -> SyntheticOcean:
    return SyntheticOcean("10deg", levels=LEVELS, seed=0)


def _anomaly_box_mean(ds, clim, box):
    lat_min, lat_max, lon_min, lon_max = box
    a = (ds["thetao"] - clim["thetao"]).isel(depth=0)
    lon = (a["longitude"] + 180.0) % 360.0 - 180.0
    a = a.where((a["latitude"] >= lat_min) & (a["latitude"] <= lat_max) & (lon >= lon_min) & (lon <= lon_max))
    return a.mean(("latitude", "longitude")).values


def test_import_does_not_import_torch():
    code = "import sys, ocean.synthetic, ocean.cli.synthetic; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_default_levels_reach_first_glorys_level_below_500m():
    assert DEFAULT_LEVELS.depths[0] == pytest.approx(0.494025)
    assert DEFAULT_LEVELS.depths[-1] == pytest.approx(541.0889)
    assert DEFAULT_LEVELS.depths[-2] < 500.0 and len(DEFAULT_LEVELS) == 32


@pytest.mark.parametrize("method", ["physics", "forcing", "bgc", "waves"])
def test_a_day_alone_equals_the_same_day_inside_a_range(ocean10, method):
    alone = getattr(ocean10, method)(["2020-03-05"])
    inside = getattr(ocean10, method)(dates_from("2020-02-27", 9)).sel(time=alone["time"])
    for name in alone.data_vars:
        np.testing.assert_array_equal(alone[name].values, inside[name].values, err_msg=name)


@settings(max_examples=6, deadline=None)
@given(before=st.integers(0, 3), after=st.integers(0, 2), seed=st.integers(0, 3))
def test_range_independence_for_any_range(before, after, seed):
    so = SyntheticOcean(Grid.box(Region("b", 150, 170, -10, 10), 5), levels=[0.5, 100.0], seed=seed)
    target = np.datetime64("2021-06-15")
    whole = so.physics(dates_from(str(target - before), before + after + 1)).sel(time=[target])
    alone = so.physics([str(target)])
    for name in alone.data_vars:
        np.testing.assert_array_equal(alone[name].values, whole[name].values, err_msg=name)


@pytest.fixture(scope="module")
def global5():
    return SyntheticOcean(Grid.global_(5), levels=[0.5, 100.0], seed=2).physics(["2020-11-11"])


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(west=st.integers(-36, 35), south=st.integers(-18, 14), width=st.integers(1, 12), height=st.integers(1, 4))
def test_any_box_matches_the_global_grid(global5, west, south, width, height):
    region = Region("box", 5.0 * west, 5.0 * (west + width), 5.0 * south, 5.0 * min(south + height, 18))
    part = SyntheticOcean(Grid.box(region, 5), levels=[0.5, 100.0], seed=2).physics(["2020-11-11"])
    same = global5.sel(latitude=part["latitude"], longitude=(part["longitude"] + 180.0) % 360.0 - 180.0)
    for name in part.data_vars:
        np.testing.assert_allclose(part[name].values, same[name].values, atol=1e-6, err_msg=name)


@settings(max_examples=25, deadline=None)
@given(lat=st.floats(-89.9, 89.9), lon=st.floats(-540.0, 540.0))
def test_relief_is_periodic_in_longitude(lat, lon):
    a = geo.relief_pattern(np.array([lat]), np.array([lon]))
    b = geo.relief_pattern(np.array([lat]), np.array([lon + 360.0]))
    np.testing.assert_allclose(a, b, atol=1e-9)
    assert -1.0 < a[0] < 1.0


def test_values_do_not_depend_on_the_grid_even_across_the_dateline():
    day = ["2020-07-01"]
    glob = SyntheticOcean(Grid.global_(2), levels=[0.5, 100.0], seed=1).physics(day)
    box = Grid.box(Region("dateline", 170.0, -170.0, 10.0, 30.0), 2)
    assert box.lon.max() > 180.0
    part = SyntheticOcean(box, levels=[0.5, 100.0], seed=1).physics(day)
    same = glob.sel(latitude=part["latitude"], longitude=(part["longitude"] + 180.0) % 360.0 - 180.0)
    for name in part.data_vars:
        np.testing.assert_allclose(part[name].values, same[name].values, atol=1e-6, err_msg=name)


def test_land_is_nan_the_same_every_day_and_ocean_is_finite(ocean10):
    ds = ocean10.physics(dates_from("2020-01-01", 3))
    mask = ocean10.static()["mask"].values
    for name in ("thetao", "so", "uo", "vo"):
        values = ds[name].values
        assert np.array_equal(np.isnan(values), np.broadcast_to(~mask, values.shape)), name
    assert np.array_equal(np.isnan(ds["zos"].values), np.broadcast_to(~mask[0], ds["zos"].shape))
    bgc = ocean10.bgc(dates_from("2020-01-01", 2))
    assert np.array_equal(np.isnan(bgc["chl"].values), np.broadcast_to(~mask, bgc["chl"].shape))
    forcing = ocean10.forcing(["2020-01-01"])
    assert all(np.isfinite(forcing[v].values).all() for v in forcing.data_vars)


def test_every_product_stays_in_the_catalogue_range():
    so = SyntheticOcean("10deg", levels="glorys50", seed=5)
    dates = ["2019-01-15", "2019-07-15"]
    for ds in (so.physics(dates), so.bgc(dates), so.waves(dates), so.forcing(dates),
               so.enso_monthly("2019-01-01", 2)):
        for name, da in ds.data_vars.items():
            lo, hi = V.get(name).valid_range
            values = da.values[np.isfinite(da.values)]
            assert values.size and values.min() >= lo and values.max() <= hi, (name, values.min(), values.max())


def test_static_mask_follows_the_bathymetry(ocean10):
    st_ = ocean10.static()
    deptho = st_["deptho"].values
    assert st_["mask"].dtype == bool and st_["mask"].dims == ("depth", "latitude", "longitude")
    np.testing.assert_array_equal(st_["mask"].values, mask_from_bathymetry(np.nan_to_num(deptho), ocean10.levels))
    assert np.nanmin(deptho) >= 10.0 and np.nanmax(deptho) < 6500.0


def test_geography_land_fraction_and_key_boxes_are_ocean():
    g = Grid.global_(1)
    land = geo.is_land(g.lat[:, None], g.lon[None, :])
    area = g.cell_area()
    assert 0.25 <= (area * land).sum() / area.sum() <= 0.35
    for region in ("kuroshio", "nino34", "gulf_stream"):
        box = Grid.box(region, 0.5)
        assert geo.is_land(box.lat[:, None], box.lon[None, :]).mean() < 0.2, region


def test_seed_changes_weather_but_not_geography():
    a, b = SyntheticOcean("10deg", levels=LEVELS, seed=0), SyntheticOcean("10deg", levels=LEVELS, seed=1)
    np.testing.assert_array_equal(a.static()["mask"].values, b.static()["mask"].values)
    fa, fb = a.forcing(["2020-01-01"]), b.forcing(["2020-01-01"])
    assert np.abs(fa["u10"].values - fb["u10"].values).max() > 1.0


def test_bad_dates_are_config_errors(ocean10):
    with pytest.raises(ConfigError, match="1850"):
        ocean10.physics(["1849-12-31"])
    with pytest.raises(ConfigError, match="midnight"):
        ocean10.physics(["2020-01-01T06:00"])
    with pytest.raises(ConfigError, match="cannot read dates"):
        ocean10.physics(["not a date"])
    with pytest.raises(ConfigError, match="seed"):
        SyntheticOcean("10deg", seed=-1)


def test_hourly_forcing_averages_to_the_daily_forcing(ocean10):
    hourly = ocean10.forcing(["2020-05-01"], hourly=True)
    daily = ocean10.forcing(["2020-05-01"])
    assert hourly.sizes["time"] == 24
    for name in daily.data_vars:
        span = float(daily[name].max() - daily[name].min())
        diff = np.abs(hourly[name].mean("time").values - daily[name].isel(time=0).values).max()
        assert diff < 1e-4 * span + 1e-3, (name, diff)


def test_eddies_propagate_westward():
    box = Grid.box(Region("tropics", -170.0, -90.0, -12.0, 12.0), 1)
    so = SyntheticOcean(box, levels=[0.5], seed=2)
    dates = dates_from("2020-04-01", 11)
    anom = (so.physics(dates)["zos"] - so.climatology(dates)["zos"]).values
    a0, a1 = np.nan_to_num(anom[0]), np.nan_to_num(anom[-1])
    shifts = np.arange(-10, 11)
    corr = [np.corrcoef(np.roll(a0, s, axis=1)[:, 12:-12].ravel(), a1[:, 12:-12].ravel())[0, 1] for s in shifts]
    best = shifts[int(np.argmax(corr))]
    assert best < 0, f"lagged correlation peaks at a shift of {best} cells (expected westward, < 0): {corr}"
    assert max(corr) > 0.5


def test_enso_oscillates_with_a_multi_year_period():
    so = SyntheticOcean("10deg", levels=LEVELS, seed=0)
    idx = so.enso_index("1850-01-01", 300 * 12)
    x = idx["nino34"].values - idx["nino34"].values.mean()
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freq = np.fft.rfftfreq(x.size, d=1.0 / 12.0)  # cycles per year
    smooth = np.convolve(spectrum, np.ones(9) / 9.0, mode="same")
    band = freq > 1.0 / 20.0
    period = 1.0 / freq[band][np.argmax(smooth[band])]
    assert 2.0 <= period <= 7.0, period
    assert np.corrcoef(x[:-12], x[12:])[0, 1] > 0.2
    # the recharge: west-Pacific heat content leads the east-Pacific SST
    h, t = idx["h_west"].values, idx["t_east"].values
    lead = [np.corrcoef(h[:-k], t[k:])[0, 1] for k in range(1, 25)]
    assert max(lead) > 0.5


def test_enso_appears_in_the_daily_physics_and_monthly_fields():
    so = SyntheticOcean(Grid.box("nino34", 2.5), levels=[0.5, 100.0], seed=0)
    idx = so.enso_index("2000-01-01", 120)["nino34"]
    months = idx["time"].values[::5]
    dates = [str(np.datetime64(m, "D") + 14) for m in months]
    anomaly = _anomaly_box_mean(so.physics(dates), so.climatology(dates), NINO34)
    assert np.corrcoef(anomaly, idx.values[::5])[0, 1] > 0.8
    monthly = so.enso_monthly("2000-01-01", 120)
    sst = monthly["thetao"].isel(depth=0).mean(("latitude", "longitude")).values
    months = np.arange(sst.size) % 12
    sst = sst - np.array([sst[months == m].mean() for m in range(12)])[months]
    assert np.corrcoef(sst, idx.values)[0, 1] > 0.9


def test_waves_respond_to_the_wind():
    so = SyntheticOcean("5deg", levels=[0.5], seed=4)
    dates = dates_from("2020-01-05", 4)
    waves = so.waves(dates)
    winds = so.forcing(dates_from("2020-01-02", 7))
    u2 = (winds["u10"] ** 2 + winds["v10"] ** 2).values
    recent = np.stack([sum(w * u2[i + 3 - k] for k, w in enumerate(wav.MEMORY_WEIGHTS)) for i in range(4)])
    hs = waves["VHM0"].values
    ok = np.isfinite(hs)
    assert np.corrcoef(hs[ok], recent[ok])[0, 1] > 0.5
    assert np.nanmin(waves["VMDR"].values) >= 0.0 and np.nanmax(waves["VMDR"].values) < 360.0


def test_chlorophyll_is_non_negative_and_follows_nutrients():
    so = SyntheticOcean("5deg", levels=[0.5, 50.0, 150.0], seed=0)
    bgc = so.bgc(["2020-03-21", "2020-09-21"])
    for name in bgc.data_vars:
        assert np.nanmin(bgc[name].values) >= 0.0, name
    surf = bgc.isel(depth=0).where(np.abs(bgc["latitude"]) < 45)
    chl, no3 = surf["chl"].values, surf["no3"].values
    ok = np.isfinite(chl)
    rich = no3[ok] >= np.median(no3[ok])
    assert chl[ok][rich].mean() > 2 * chl[ok][~rich].mean()
    assert 0.005 < np.nanpercentile(chl, 5) and np.nanpercentile(chl, 99) < 20


def test_fine_grid_coarsens_to_the_coarse_grid_up_to_the_small_scales():
    region = Region("front", 140.0, 146.0, 32.0, 38.0)
    fine = SyntheticOcean(Grid.box(region, "1/12", align=0.25), levels=[0.5], seed=0).physics(["2020-02-01"])
    coarse = SyntheticOcean(Grid.box(region, 0.25), levels=[0.5], seed=0).physics(["2020-02-01"])
    for name, small in (("zos", 0.02), ("thetao", 0.1)):
        f = np.squeeze(fine[name].values)
        c = np.squeeze(coarse[name].values)
        blocks = f.reshape(c.shape[0], 3, c.shape[1], 3).mean(axis=(1, 3))
        rms = np.sqrt(np.mean((blocks - c) ** 2))
        assert rms < small * np.std(c), (name, rms, np.std(c))
    # What a cubic interpolation of the coarse field misses follows |coarse gradient| x relief.
    so = SyntheticOcean(Grid.box(region, "1/12", align=0.25), levels=[0.5], seed=0)
    gc = Grid.box(region, 0.25)
    c = np.squeeze(coarse["zos"].values)
    smooth = RegularGridInterpolator((gc.lat, gc.lon), c, method="cubic", bounds_error=False, fill_value=None)(
        np.stack(np.meshgrid(so.grid.lat, so.grid.lon, indexing="ij"), axis=-1))
    residual = (np.squeeze(fine["zos"].values) - smooth)[3:-3, 3:-3]
    gy, gx = np.gradient(c)
    learnable = (np.repeat(np.repeat(np.hypot(gy, gx), 3, 0), 3, 1) * so.ctx.relief)[3:-3, 3:-3]
    assert np.corrcoef(residual.ravel(), learnable.ravel())[0, 1] > 0.35
