"""What comes in: values checked on the source grid before any averaging, unit mix-ups that ranges
miss, NaN inside an ocean column, recipe fields of the wrong type. Each refused with exit 3 naming
the file (or recipe field), the variable, what was found and what was expected; nothing written."""

import numpy as np
import pandas as pd
import pytest

import pipelines.sources
from ocean.cli import main
from ocean.errors import DataError
from ocean.io import _check_depth_axis
from ocean.levels import GLORYS50
from pipelines.build import build_cube
from pipelines.recipe import load_recipe
from test_pipeline_support import (built, built_template, restore_logging,  # noqa: F401
                                   snapshot, write_era5, write_glorys)

pytestmark = pytest.mark.usefixtures("restore_logging")


def _kg_per_kg(ds):
    ds["so"] = ds["so"] / 1000.0
    ds["so"].attrs["units"] = "1"
    return ds


def _negative_cell(ds):
    ds["so"][0, 2, 3, 3] = -5.0  # one ocean cell at 20 m; the 2 x 2 average would hide it
    return ds


def _column_hole(ds):
    ds["thetao"][0, 2, 3, 3] = np.nan  # one level inside an ocean column: the vertical remap bridges it
    return ds


def _centimetres(ds):
    return ds.assign_coords(depth=("depth", ds["depth"].values * 100.0, {"units": "m", "positive": "down"}))


CASES = [
    (_kg_per_kg, ["'so'", "salinity looks like kg/kg", "median 0.035", "expected psu"]),
    (_negative_cell, ["'so'", "outside the physical range", "min -5", "(1 cells)", "expected [0, 45]"]),
    (_column_hole, ["'thetao'", "NaN in ocean cells on 2020-01-0", " at 20 m, inside the column", "found 1 cells",
                    "expected values from the surface down to the sea floor"]),
]


def _replace_day(root, day, edit):
    (root / "glorys" / f"glorys_{pd.Timestamp(day):%Y%m%d}.nc").unlink()
    write_glorys(root / "glorys", days=[pd.Timestamp(day)], edit=lambda ds, i: edit(ds))
    return f"glorys_{pd.Timestamp(day):%Y%m%d}.nc"


@pytest.mark.parametrize("edit, words", CASES)
def test_build_refuses_source_values(built, capsys, edit, words):
    root, cube, before = built
    name = _replace_day(root, "2020-01-02", edit)
    capsys.readouterr()
    code = main(["data", "build", str(root / "recipe.yaml"), "--out", str(cube), "--force"])
    err = capsys.readouterr().err
    assert code == 3 and name in err and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    assert snapshot(cube) == before


def test_a_column_hole_is_found_when_levels_are_read_one_by_one(built, capsys, monkeypatch):
    """Large records are read a level per chunk: the hole is found across chunks."""
    root, cube, before = built
    monkeypatch.setattr(pipelines.sources, "COLUMN_BYTES", 0)
    name = _replace_day(root, "2020-01-02", _column_hole)
    with pytest.raises(DataError, match="inside the column") as err:
        build_cube(load_recipe(root / "recipe.yaml"), cube, overwrite=True)
    assert name in str(err.value) and "at 20 m" in str(err.value)
    assert snapshot(cube) == before


@pytest.mark.parametrize("edit, words", CASES + [
    (_centimetres, ["'depth'", "not in metres", "max 15000", "expected depths in [0, 11,000] m"])])
def test_append_refuses_source_values(built, capsys, edit, words):
    root, cube, before = built
    write_glorys(root / "glorys", days=["2020-01-04"], edit=lambda ds, i: edit(ds))
    write_era5(root / "era5", days=["2020-01-04"])
    capsys.readouterr()
    code = main(["data", "append", str(root / "recipe.yaml"), "--date", "2020-01-04", "--cube", str(cube)])
    err = capsys.readouterr().err
    assert code == 3 and "glorys_20200104.nc" in err and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    assert snapshot(cube) == before


def test_build_refuses_depths_in_centimetres(built, capsys):
    root, cube, before = built
    for p in (root / "glorys").glob("*.nc"):
        p.unlink()
    write_glorys(root / "glorys", edit=lambda ds, i: _centimetres(ds))
    capsys.readouterr()
    code = main(["data", "build", str(root / "recipe.yaml"), "--out", str(cube), "--force"])
    err = capsys.readouterr().err
    assert code == 3 and "glorys_20200101.nc" in err and "the depth axis is not in metres" in err, err
    assert snapshot(cube) == before


def test_depth_axis_rules():
    """Centimetres that stay under 11,000 m are recognised by the product's level set."""
    top = np.asarray(GLORYS50[:22])  # 0.49..92.3 m: a subset to 100 m
    _check_depth_axis(top, "m", "depth", "glorys", "f.nc")  # metres: fine
    _check_depth_axis(np.array([0.5, 5.0, 20.0]), "m", "depth", "glorys", "f.nc")  # not the native set: fine
    with pytest.raises(DataError, match="centimetres labelled metres.*max 9232"):
        _check_depth_axis(top * 100, "m", "depth", "glorys", "f.nc")
    with pytest.raises(DataError, match="more depth levels than the glorys product has.*51 levels"):
        _check_depth_axis(np.linspace(1, 5000, 51), "m", "depth", "glorys", "f.nc")
    with pytest.raises(DataError, match="not monotonic.*found \\[1.0, 5.0, 5.0"):
        _check_depth_axis(np.array([1.0, 5.0, 5.0, 10.0]), "m", "depth", "hycom", "f.nc")


@pytest.mark.parametrize("change, words", [
    (lambda t: t.split("sources:")[0] + "sources: 5\n", ["sources: found 5 (int)", "expected a list"]),
    (lambda t: t + "regrid: {coverage: lots}\n", ["regrid.coverage: found 'lots' (str)", "expected a fraction"]),
    (lambda t: t.replace("progress: false", "progress: 'no'"), ["compute.progress: found 'no' (str)",
                                                                "expected true or false"]),
    (lambda t: t.replace("files: glorys/*.nc", "files: 7"), ["sources[0]: files: found 7", "expected a path"]),
    (lambda t: t.replace("files: glorys/*.nc", "files: glorys/*.nc, radius_km: far"),
     ["radius_km: found 'far' (str)", "expected a distance"]),
])
def test_recipe_fields_of_the_wrong_type(built, capsys, change, words):
    root, cube, before = built
    recipe = root / "bad.yaml"
    recipe.write_text(change((root / "recipe.yaml").read_text()))
    capsys.readouterr()
    assert main(["data", "build", str(recipe), "--out", str(root / "new.zarr")]) == 3
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    assert not (root / "new.zarr").exists()
