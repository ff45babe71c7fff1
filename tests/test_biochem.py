"""The biogeochemistry head: readers (real CESM sample, CMEMS BIO layout), negative concentrations,
the head's contract, `ocean train head biochem` and `ocean forecast --heads waves,biochem`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from downstream_fixtures import backbone
from forecast_fixtures import GRID, LEVELS, ROOT
from ocean.cli import main
from ocean.errors import DataError
from test_waves import train_args, truth_cube

CESM = ROOT.parent / "shared" / "data" / "bgc" / "CESM_BGC_2012.nc"
real_data = pytest.mark.skipif(not CESM.is_file(), reason="../shared/data/bgc (real sample) is absent")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("biochem")
    model, cube = backbone(base)
    truth = truth_cube(base / "bgc.zarr", "bgc")
    assert main(train_args("biochem", model, cube, truth, base / "b")) == 0
    return {"model": model, "cube": cube, "truth": truth, "head": base / "b" / "head", "base": base}


# -- readers -----------------------------------------------------------------------------------------------

@real_data
def test_cesm_real_sample_depth_in_metres_and_total_chlorophyll():
    from downstream.biochem.readers import open_bgc

    ds = open_bgc(CESM)
    raw = xr.open_dataset(CESM, decode_times=False)
    assert ds.attrs["source"] == "cesm_bgc" and {"chl", "no3", "po4", "si", "o2"} <= set(ds.data_vars)
    assert np.allclose(ds.depth.values, raw.z_t.values / 100.0) and ds.depth.attrs["units"] == "m"
    j, i = 6, 3  # an ocean cell: latitude 58N, longitude -11
    groups = sum(raw[g].isel(time=0, lat=j, lon=i).values for g in ("diatChl", "spChl", "diazChl"))
    assert np.allclose(ds.chl.isel(time=0, latitude=j, longitude=i, depth=slice(0, 3)).values, groups, rtol=1e-5)
    below = ds.chl.isel(time=0, latitude=j, longitude=i, depth=slice(3, None)).values
    ocean = np.isfinite(ds.no3.isel(time=0, latitude=j, longitude=i, depth=slice(3, None)).values)
    assert (below[ocean] == 0).all() and np.isnan(below[~ocean]).all()  # no phytoplankton below 150 m
    assert float(ds.chl.min()) >= 0 and float(ds.o2.max()) < 500


@real_data
def test_negative_concentrations_are_refused(tmp_path):
    from downstream.biochem.readers import open_bgc

    raw = xr.open_dataset(CESM, decode_times=False).load()
    raw["NO3"][0, 0, 5, 5] = -2.5
    raw.to_netcdf(tmp_path / "bad.nc")
    with pytest.raises(DataError) as err:
        open_bgc(tmp_path / "bad.nc")
    msg = str(err.value)
    assert "variable 'no3'" in msg and "negative concentrations" in msg and "found min -2.5 in 1 of" in msg
    assert "expected values >= 0" in msg and "scale_factor" in msg


def test_cmems_bio_layout(tmp_path):
    from downstream.biochem.readers import open_bgc
    from ocean.synthetic import SyntheticOcean

    SyntheticOcean(GRID, levels=LEVELS, seed=0).write(tmp_path, "2020-01-01", 2, products=("bgc",))
    ds = open_bgc(sorted((tmp_path / "bgc").glob("*.nc")))
    assert ds.attrs["source"] == "cmems_bio" and {"chl", "no3", "po4", "si", "o2", "nppv"} <= set(ds.data_vars)
    assert list(ds.depth.values) == list(LEVELS.depths)
    with pytest.raises(DataError, match="not a biogeochemistry product"):
        SyntheticOcean(GRID, seed=0).write(tmp_path / "w", "2020-01-01", 1, products=("waves",))
        open_bgc(sorted((tmp_path / "w" / "waves").glob("*.nc")))


# -- the head ------------------------------------------------------------------------------------------------

def test_contract_positive_and_gradients_only_in_the_head(setup):
    from downstream.checkpoint import load_head
    from downstream.frozen import FrozenBackbone

    bb = FrozenBackbone.load(setup["model"])
    head, meta = load_head(setup["head"], bb, "biochem")
    c = len(meta.channels)
    assert c == 6 * len(LEVELS) and meta.channels[0] == "chl@0.5"
    head.train()
    g = torch.Generator().manual_seed(0)
    h, w = bb.grid.shape
    state = bb.normalise_state(bb.forecaster.denormalise_state(torch.randn(2, len(bb.channels), h, w, generator=g)))
    forcing = torch.randn(2, len(bb.metadata.forcing_variables), h, w, generator=g)
    batch = {"state": head.state_view(state), "forcing": head.forcing_view(forcing),
             "doy": torch.tensor([[0.0, 1.0], [1.0, 0.0]]), "previous": torch.randn(2, c, h, w) * 3}
    out = head(head.select_features(bb.features(state, forcing)), batch)
    assert out.shape == (2, c, h, w) and torch.isfinite(out).all()
    loss, _ = head.loss(out, {**batch, "target": torch.randn_like(out), "valid": torch.ones_like(out)})
    loss.backward()
    trainable = [p for p in head.parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for p in trainable)
    assert all(not p.requires_grad and p.grad is None for p in bb.parameters())
    fields = head.to_fields(out.detach())
    assert fields["chl"].shape == (2, len(LEVELS), h, w)
    mask = head.out_mask.numpy()[: len(LEVELS)] > 0  # the chl channels' level masks
    for v, x in fields.items():  # positive by construction over the ocean, NaN over land at every level
        assert (x[:, mask] > 0).all() and np.isnan(x[:, ~mask]).all(), v


def test_log_transform_round_trip(setup):
    from downstream.checkpoint import load_head
    from downstream.fields import truth_channels
    from downstream.frozen import FrozenBackbone

    head, _ = load_head(setup["head"], FrozenBackbone.load(setup["model"]), "biochem")
    truth = xr.open_zarr(setup["truth"]).isel(time=[3])
    phys = truth_channels(truth, head.channels, truth.time.values)
    back = head.denormalise(head.normalise(torch.from_numpy(phys))).numpy()
    floor = np.broadcast_to(head.floor.numpy()[None, :, None, None], phys.shape)
    ok = np.isfinite(phys)
    assert (np.isfinite(back) == ok).all()
    assert np.allclose(back[ok], np.maximum(phys, floor)[ok], rtol=1e-4)


def test_negative_truth_is_refused_and_nothing_is_written(setup, tmp_path, caplog):
    bad = xr.open_zarr(setup["truth"]).load()
    bad["chl"] = bad.chl.where(~((bad.latitude > 0) & (bad.depth == 0.5)), -0.1)
    bad.to_zarr(tmp_path / "bad.zarr")
    out = tmp_path / "out"
    assert main(train_args("biochem", setup["model"], setup["cube"], tmp_path / "bad.zarr", out)) == 3
    assert "negative values in the truth" in caplog.text and "chl@0.5" in caplog.text
    assert "found min -0.1" in caplog.text
    assert not out.exists()


def test_forecast_with_waves_and_biochem(setup, tmp_path):
    from ocean.checkpoint import read_metadata
    from ocean.forecast_store import forecast_path

    waves = truth_cube(tmp_path / "waves.zarr")
    assert main(train_args("waves", setup["model"], setup["cube"], waves, tmp_path / "w")) == 0
    meta = read_metadata(setup["head"])
    assert meta.kind == "head/biochem" and 0 < meta.extra["parameters"]["trainable_share"] < 1
    rc = main(["forecast", "--model", str(setup["model"]), "--init", "2020-01-05", "--out", str(tmp_path / "fc"),
               "--leads", "3", "--heads", f"waves={tmp_path / 'w' / 'head'},biochem={setup['head']}",
               "--no-quicklooks"])
    assert rc == 0
    store = forecast_path(tmp_path / "fc", "2020-01-05")
    bgc, wav, phys = (xr.open_zarr(store, group="biochem"), xr.open_zarr(store, group="waves"), xr.open_zarr(store))
    assert set(bgc.data_vars) == {"chl", "no3", "po4", "si", "o2", "nppv"} and "VHM0" in wav
    assert bgc.chl.dims == ("init_time", "lead_time", "depth", "latitude", "longitude")
    assert list(bgc.depth.values) == list(LEVELS.depths) and np.array_equal(bgc.valid_time, phys.valid_time)
    mask = xr.open_zarr(setup["truth"]).mask.values.astype(bool)
    chl = bgc.chl.isel(init_time=0).values
    assert (np.isfinite(chl) == mask[None]).all() and (chl[:, mask] > 0).all()
    assert bgc.attrs["backbone_sha256"] == phys.attrs["model_sha256"]


def test_output_levels_must_be_backbone_levels(setup, tmp_path, caplog):
    args = train_args("biochem", setup["model"], setup["cube"], setup["truth"], tmp_path, "--set", "head.levels=[35]")
    assert main(args) == 3 and f"must be backbone levels ({list(LEVELS.depths)})" in caplog.text
