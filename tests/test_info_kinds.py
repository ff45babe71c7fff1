"""``ocean info`` says what a file is: every real sample in ../shared/data, and our own
training cube, forecast store (and folder of them) and hindcast metrics."""

import json

import numpy as np
import pytest

from forecast_fixtures import DAYS, GRID, LEVELS, synthetic_cube
from ocean.cli import main
from ocean.cube import open_cube
from ocean.forecast_store import ForecastWriter
from ocean.info import describe, format_description

VARS = ["thetao", "so", "uo", "vo", "zos"]

# kind, source, CF problems expected (substrings; [] = none), canonical notes expected (substrings)
SAMPLES = {
    "glorys/GLORYS_NA_2012.nc": ("producer", "glorys", [], []),
    "era5/ERA5_NA_2012.nc": ("producer", "era5", [], ["t2m: units 'K'", "latitude is descending"]),
    "sst/ersstv5_2010_2020.nc": ("producer", "ersst", [], ["lon runs 0..358", "lat is descending",
                                                           "lat: named 'latitude'"]),
    "bgc/CESM_BGC_2012.nc": ("producer", "cesm_bgc", ["lat: latitude with units None"],
                             ["z_t: units 'centimeters'", "NO3 -> no3"]),
    "bathymetry/etopo5_coarsened_and_shifted.nc": ("producer", "bathymetry", ["no longitude"], ["topo -> deptho"]),
    "argo/2902269_prof.nc": ("argo_profiles", None, None, []),
    "waves/ww3_spectra_2014.nc": ("ww3_spectra", None, None, []),
    "waves/ndbc_46097_2019_stdmet.txt": ("ndbc_stdmet", None, [], []),
}


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_real_sample_is_described_as_what_it_is(shared_data, name):
    kind, source, cf_expected, notes_expected = SAMPLES[name]
    info = describe(shared_data / name)
    assert (info["kind"], info["source"]) == (kind, source)
    if cf_expected is not None:
        if not cf_expected:
            assert info["cf_problems"] == []
        for text in cf_expected:
            assert any(text in p for p in info["cf_problems"]), info["cf_problems"]
    for text in notes_expected:
        assert any(text in n for n in info["canonical_notes"]), info["canonical_notes"]
    # Our canonical-form differences are never reported as CF problems.
    assert not any("canonical" in p or "descending" in p for p in info["cf_problems"])
    assert "not a known producer format" not in format_description(info)


@pytest.mark.real_data
def test_every_file_of_the_sample_folder_is_described(shared_data, capsys):
    files = sorted(p for p in shared_data.rglob("*") if p.is_file() and p.parent != shared_data)
    assert len(files) >= len(SAMPLES)
    for f in files:
        assert main(["info", str(f), "--json"]) == 0, f
        info = json.loads(capsys.readouterr().out)
        assert info["kind"] != "unknown", f
    ersst = describe(shared_data / "sst" / "ersstv5_2010_2020.nc")
    assert "era5" not in format_description(ersst) and "-180..178, periodic" in ersst["grid"]


@pytest.fixture(scope="module")
def our_stores(tmp_path_factory):
    from ocean.store import write_netcdf
    from ocean.workflows.hindcast import score_hindcast

    base = tmp_path_factory.mktemp("ours")
    cube = synthetic_cube(base / "cube.zarr")
    truth = open_cube(cube)
    root = base / "forecasts"
    for init in DAYS[:2]:
        with ForecastWriter(root, init, GRID, LEVELS, VARS, 3, attrs={"model": "test"}) as w:
            for i in range(3):
                day = init + np.timedelta64(i + 1, "D")
                w.write_lead(i, {v: truth[v].sel(time=day).values for v in VARS})
    metrics, _ = score_hindcast(root, cube, DAYS[:2], 3, None, ["global", "tropics"], baselines=("persistence",),
                                derived=False)
    return {"cube": cube, "root": root, "store": root / "forecast_2020-01-01.zarr",
            "metrics": write_netcdf(metrics, base / "metrics.nc")}


def test_training_cube(our_stores):
    info = describe(our_stores["cube"])
    assert info["kind"] == "training_cube" and info["source"] is None  # not "glorys" because it holds thetao
    assert info["time"]["count"] == 12 and info["levels"] == [0.5, 10.0, 100.0]
    assert info["cf_problems"] == [] and info["canonical_notes"] == []
    assert "training cube" in format_description(info)


def test_forecast_store_and_folder(our_stores):
    info = describe(our_stores["store"])
    assert info["kind"] == "forecast" and info["init_times"] == ["2020-01-01"] and info["lead_days"] == [1, 3]
    assert info["cf_problems"] == [] and info["canonical_notes"] == []
    folder = describe(our_stores["root"])
    assert folder["kind"] == "forecast_root" and folder["init_times"] == ["2020-01-01", "2020-01-02"]
    assert "2 stores" in format_description(folder)


def test_hindcast_metrics(our_stores, capsys):
    assert main(["info", str(our_stores["metrics"])]) == 0
    text = capsys.readouterr().out
    assert "hindcast scores" in text and "rmse" in text and "persistence" in text
    info = describe(our_stores["metrics"])
    assert info["kind"] == "hindcast_metrics" and info["source"] is None
    assert info["metric"] == ["rmse", "bias", "acc"] and info["region"] == ["global", "tropics"]
    # Scores by region carry no latitude/longitude, and CF does not ask for them.
    assert not any("latitude" in p or "longitude" in p for p in info["cf_problems"])
