import json
import subprocess
import sys

import pytest

from conftest import to_cmems_file
from ocean import __version__
from ocean.cf import apply_cf, canonical_notes, problems
from ocean.cli import main
from ocean.info import describe


def test_apply_cf_leaves_no_problems(tiny_ocean):
    ds = apply_cf(tiny_ocean.drop_attrs())
    assert problems(ds) == []
    assert ds.thetao.attrs["standard_name"] == "sea_water_potential_temperature"


def test_cf_problems_apart_from_notes_on_the_canonical_form(tiny_ocean):
    ds = apply_cf(tiny_ocean)
    ds["thetao"].attrs["units"] = "K"
    del ds["so"].attrs["units"]
    ds = ds.isel(latitude=slice(None, None, -1))
    found, notes = "\n".join(problems(ds)), "\n".join(canonical_notes(ds))
    assert "so: no 'units'" in found  # CF: a dimensional quantity without units
    assert "thetao: units 'K'" in notes and "descending" in notes  # valid CF, not our canonical form
    assert "K'" not in found and "descending" not in found


def test_cf_lat_lon_are_coordinates_and_missing_geolocation_is_a_problem(tiny_ocean):
    ds = apply_cf(tiny_ocean).rename({"latitude": "lat", "longitude": "lon"})
    assert problems(ds) == []  # found by cf_xarray's criteria (standard_name / units), whatever the name
    assert "lat: named 'latitude' in the canonical form" in canonical_notes(ds)
    bare = ds.drop_vars(["lat", "lon"])  # a grid nothing locates
    assert any(p.startswith("no latitude") for p in problems(bare))
    no_units = ds.copy()
    no_units["lat"].attrs = {"standard_name": "latitude"}
    assert any("lat: latitude with units None" in p for p in problems(no_units))
    shuffled = ds.isel(time=[1, 0, 1])
    assert any("time: coordinate variable is not strictly monotonic" in p for p in problems(shuffled))


def test_describe_a_cmems_file(tiny_ocean, tmp_path):
    f = to_cmems_file(tiny_ocean, tmp_path / "g.nc")
    info = describe(f)
    assert info["kind"] == "producer" and info["source"] == "glorys" and info["levels"] == [0.5, 10.0, 100.0]
    assert info["time"]["count"] == 2 and info["time"]["steps"] == ["1 days 00:00:00"]
    assert "8x16" in info["grid"]


def test_cli_version_help_and_info(tiny_ocean, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and __version__ in capsys.readouterr().out
    f = to_cmems_file(tiny_ocean, tmp_path / "g.nc")
    assert main(["info", str(f), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == "glorys"


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "ocean.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "info" in out.stdout and "Exit codes" in out.stdout
