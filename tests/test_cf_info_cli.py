import json
import subprocess
import sys

import pytest

from conftest import to_cmems_file
from ocean import __version__
from ocean.cf import apply_cf, problems
from ocean.cli import main
from ocean.info import describe


def test_apply_cf_leaves_no_problems(tiny_ocean):
    ds = apply_cf(tiny_ocean.drop_attrs())
    assert problems(ds) == []
    assert ds.thetao.attrs["standard_name"] == "sea_water_potential_temperature"


def test_problems_are_found(tiny_ocean):
    ds = tiny_ocean.copy()
    ds["thetao"].attrs["units"] = "K"
    del ds["so"].attrs["units"]
    ds = ds.isel(latitude=slice(None, None, -1))
    found = "\n".join(problems(ds))
    assert "thetao: units 'K'" in found and "so: no 'units'" in found and "descending" in found


def test_describe_a_cmems_file(tiny_ocean, tmp_path):
    f = to_cmems_file(tiny_ocean, tmp_path / "g.nc")
    info = describe(f)
    assert info["source"] == "glorys" and info["levels"] == [0.5, 10.0, 100.0]
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
