"""One table of bad input across commands: exit 3, no traceback, a message naming the file (or recipe
field), the variable, what was found and what was expected; nothing written."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from ocean.cli import main
from pipelines.build import build_cube
from pipelines.recipe import load_recipe
from test_damaged_store import damage
from test_pipeline_support import make_inputs, restore_logging, snapshot, write_era5, write_glorys  # noqa: F401

pytestmark = pytest.mark.usefixtures("restore_logging")


def _day(root, day, edit):
    (root / "glorys" / f"glorys_{pd.Timestamp(day):%Y%m%d}.nc").unlink(missing_ok=True)
    write_glorys(root / "glorys", days=[pd.Timestamp(day)], edit=lambda ds, i: edit(ds))
    write_era5(root / "era5", days=[pd.Timestamp(day)])


def _set(ds, var, index, value):
    ds[var][index] = value
    return ds


def _units(ds, var, factor, units):
    ds[var] = ds[var] * factor
    ds[var].attrs["units"] = units
    return ds


def _cm(ds):
    return ds.assign_coords(depth=("depth", ds["depth"].values * 100.0, {"units": "m", "positive": "down"}))


def _recipe(root, old, new):
    path = root / "recipe.yaml"
    path.write_text(path.read_text().replace(old, new))


BUILD = ["data", "build", "{root}/recipe.yaml", "--out", "{root}/cube.zarr", "--force"]
APPEND = ["data", "append", "{root}/recipe.yaml", "--date", "2020-01-04", "--cube", "{root}/cube.zarr"]
VALIDATE = ["data", "validate", "{root}/cube.zarr"]

# (case, command, prepare(root), words that the message must hold: file or field, variable, found, expected)
TABLE = [
    ("salinity in kg/kg", BUILD, lambda r: _day(r, "2020-01-02", lambda ds: _units(ds, "so", 1e-3, "1")),
     ["glorys_20200102.nc", "variable 'so'", "found median 0.035", "expected psu"]),
    ("one -5 psu cell", BUILD, lambda r: _day(r, "2020-01-02", lambda ds: _set(ds, "so", (0, 2, 3, 3), -5.0)),
     ["glorys_20200102.nc", "variable 'so'", "found min -5", "expected [0, 45]"]),
    ("NaN inside a column", BUILD, lambda r: _day(r, "2020-01-03", lambda ds: _set(ds, "uo", (0, 1, 4, 4), np.nan)),
     ["glorys_20200103.nc", "variable 'uo'", "at 5 m, inside the column", "found 1 cells", "expected values"]),
    ("depth in cm, build", BUILD, lambda r: [_day(r, d, _cm) for d in ("2020-01-01", "2020-01-02", "2020-01-03")],
     ["glorys_20200101.nc", "variable 'depth'", "found 5 levels, max 15000", "expected depths in [0, 11,000] m"]),
    ("depth in cm, append", APPEND, lambda r: _day(r, "2020-01-04", _cm),
     ["glorys_20200104.nc", "variable 'depth'", "max 15000", "expected depths"]),
    ("one cell at 301 degC, append", APPEND,
     lambda r: _day(r, "2020-01-04", lambda ds: _set(ds, "thetao", (0, 0, 5, 5), 301.0)),
     ["glorys_20200104.nc", "variable 'thetao'", "found min", "max 301", "expected [-3, 40]"]),
    ("sources: 5", BUILD, lambda r: (r / "recipe.yaml").write_text((r / "recipe.yaml").read_text().split("sources:")[0]
                                                                 + "sources: 5\n"),
     ["recipe.yaml", "sources: found 5 (int)", "expected a list"]),
    ("coverage: lots", BUILD, lambda r: _recipe(r, "compute:", "regrid: {coverage: lots}\ncompute:"),
     ["recipe.yaml", "regrid.coverage: found 'lots'", "expected a fraction"]),
    ("progress: 'no'", BUILD, lambda r: _recipe(r, "progress: false", "progress: 'no'"),
     ["recipe.yaml", "compute.progress: found 'no'", "expected true or false"]),
    ("a damaged shard, validate", VALIDATE, lambda r: damage(r / "cube.zarr", "so", 1),
     ["so/c/1/0/0/0", "variable 'so'", "day 2020-01-02", "damaged chunk"]),
    ("a damaged last day, append", APPEND, lambda r: damage(r / "cube.zarr", "zos", 2),
     ["zos/c/2/0/0", "variable 'zos'", "day 2020-01-03", "found", "expected every chunk decodes"]),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = make_inputs(tmp_path_factory.mktemp("table"))
    build_cube(load_recipe(root / "recipe.yaml"), root / "cube.zarr")
    return root


@pytest.mark.parametrize("case, command, prepare, words", TABLE, ids=[t[0] for t in TABLE])
def test_bad_input(template, tmp_path, capsys, case, command, prepare, words):
    root = tmp_path / "in"
    shutil.copytree(template, root)
    prepare(root)
    before = snapshot(root / "cube.zarr")
    capsys.readouterr()
    code = main([a.format(root=root) for a in command])
    out = capsys.readouterr()
    text = out.err + out.out
    assert code == 3, text
    assert "Traceback" not in text, text
    for w in words:
        assert w in text, (w, text)
    assert snapshot(root / "cube.zarr") == before  # nothing written
    assert not [p.name for p in root.iterdir() if p.name.startswith(".cube.zarr")]  # no temporary, no lock
