"""Bad input: a clear error naming file, variable, found and expected; exit 3;
an existing cube untouched."""

import numpy as np
import pandas as pd
import pytest

from ocean.cli import main
from test_pipeline_support import (FINE, built, built_template, restore_logging,  # noqa: F401
                                   snapshot, write_era5, write_glorys, write_recipe)

pytestmark = pytest.mark.usefixtures("restore_logging")


def _rebuild(root, cube, capsys, recipe="recipe.yaml"):
    capsys.readouterr()
    code = main(["data", "build", str(root / recipe), "--out", str(cube), "--force"])
    return code, " ".join(line for line in capsys.readouterr().err.splitlines() if " ERROR " in line)


def _damage(root, day_index, edit):
    day = pd.Timestamp("2020-01-01") + pd.Timedelta(days=day_index)
    (root / "glorys" / f"glorys_{day:%Y%m%d}.nc").unlink()
    write_glorys(root / "glorys", days=[day], edit=lambda ds, i: edit(ds))
    return f"glorys_{day:%Y%m%d}.nc"


def _nan_patch(ds):
    ds["thetao"][0, 0, 2:4, 5:9] = np.nan  # open ocean at the surface
    return ds


def _inf(ds):
    ds["so"][0, 1, 3, 3] = np.inf
    return ds


def _wrong_units(ds):
    ds["thetao"] = ds["thetao"] + 273.15  # kelvin values labelled degrees_C
    ds["thetao"].attrs["units"] = "degrees_C"
    return ds


def _unknown_units(ds):
    ds["uo"].attrs["units"] = "furlongs per fortnight"
    return ds


def _missing_variable(ds):
    return ds.drop_vars("vo")


@pytest.mark.parametrize("edit, words", [
    (_nan_patch, ["thetao", "NaN in ocean cells on 2020-01-02", "found", "expected"]),
    (_inf, ["'so'", "infinite values on 2020-01-02", "found", "expected"]),
    (_wrong_units, ["thetao", "outside the physical range", "found", "expected"]),
    (_unknown_units, ["'uo'", "unknown units", "furlongs"]),
    (_missing_variable, ["'vo'", "required variable is missing", "found", "expected"]),
])
def test_damaged_file_is_named_and_the_cube_untouched(built, capsys, edit, words):
    root, cube, before = built
    name = _damage(root, 1, edit)
    code, message = _rebuild(root, cube, capsys)
    assert code == 3
    assert name in message, message
    for w in words:
        assert w in message, message
    assert snapshot(cube) == before
    assert not [p for p in root.iterdir() if p.name.startswith(".cube.zarr")]  # no temporary left


def test_duplicated_dates_are_refused(built, capsys):
    root, cube, before = built
    (root / "glorys" / "glorys_20200102.nc").rename(root / "glorys" / "copy_of_20200102.nc")
    write_glorys(root / "glorys", days=["2020-01-02"])
    code, message = _rebuild(root, cube, capsys)
    assert code == 3 and "duplicated dates" in message and "copy_of_20200102.nc" in message
    assert "glorys_20200102.nc" in message and "expected each date once" in message
    assert snapshot(cube) == before


def test_overlapping_concatenated_sources_are_refused(built, capsys):
    root, cube, before = built
    write_glorys(root / "glorys_nrt", days=["2020-01-03"])
    extra = "  - {name: nrt, kind: reanalysis, product: glorys, files: glorys_nrt/*.nc}\n"
    recipe = write_recipe(root, extra=extra, name="overlap.yaml")
    code, message = _rebuild(root, cube, capsys, "overlap.yaml")
    assert code == 3 and "overlapping dates" in message and "glorys_nrt/glorys_20200103.nc" in message
    assert "glorys/glorys_20200103.nc" in message and snapshot(cube) == before
    # Declared ranges that overlap are refused when the recipe is read.
    text = recipe.read_text().replace("files: glorys/*.nc}", "files: glorys/*.nc, end: 2020-01-03}")
    recipe.write_text(text.replace("glorys_nrt/*.nc}", "glorys_nrt/*.nc, start: 2020-01-03}"))
    code, message = _rebuild(root, cube, capsys, "overlap.yaml")
    assert code == 3 and "date ranges overlap" in message
    # Disjoint dates: the products are concatenated.
    recipe.write_text(text.replace("end: 2020-01-03}", "end: 2020-01-02}"))
    code, message = _rebuild(root, cube, capsys, "overlap.yaml")
    assert code == 0, message


def test_a_source_that_does_not_cover_the_grid(built, capsys):
    root, cube, before = built
    recipe = root / "recipe.yaml"
    recipe.write_text(recipe.read_text().replace(
        "grid: {lat0: -90, lon0: -180, nlat: 8, nlon: 16, res: 22.5, name: tiny}",
        "grid: {region: {name: box, lon_min: -45, lon_max: 45, lat_min: -45, lat_max: 45}, resolution: 22.5}"))
    regional = FINE.__class__.box("gulf_stream", 11.25)
    for p in (root / "glorys").glob("*.nc"):
        p.unlink()
    write_glorys(root / "glorys", days=pd.date_range("2020-01-01", periods=3), grid=regional, land=False)
    code, message = _rebuild(root, cube, capsys)
    assert code == 3 and "does not cover the target grid" in message and "glorys_20200101.nc" in message
    assert "found latitude" in message and "expected at least latitude" in message
    assert snapshot(cube) == before


def test_a_truncated_file(built, capsys):
    root, cube, before = built
    path = root / "glorys" / "glorys_20200103.nc"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    code, message = _rebuild(root, cube, capsys)
    assert code == 3 and "glorys_20200103.nc" in message and "truncated" in message
    assert snapshot(cube) == before


def test_a_truncated_classic_netcdf_file(built, capsys):
    root, cube, before = built
    path = root / "glorys" / "glorys_20200103.nc"
    import xarray as xr

    ds = xr.load_dataset(path)
    path.unlink()
    ds.to_netcdf(path, format="NETCDF3_64BIT")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 4096])
    code, message = _rebuild(root, cube, capsys)
    assert code == 3 and "glorys_20200103.nc" in message and "truncated" in message
    assert snapshot(cube) == before


def test_append_with_bad_input_leaves_the_cube_untouched(built, capsys):
    root, cube, before = built
    write_glorys(root / "glorys", days=["2020-01-04"], edit=lambda ds, i: _nan_patch(ds))
    write_era5(root / "era5", days=["2020-01-04"])
    capsys.readouterr()
    code = main(["data", "append", str(root / "recipe.yaml"), "--date", "2020-01-04", "--cube", str(cube)])
    message = capsys.readouterr().err
    assert code == 3 and "glorys_20200104.nc" in message and "NaN in ocean cells" in message
    assert snapshot(cube) == before


def test_a_bad_recipe_exits_3(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("grid: 4deg\ndates: {start: 2020-01-01}\nsources: []\nbogus: 1\n")
    assert main(["data", "build", str(recipe), "--out", str(tmp_path / "c.zarr")]) == 3
    assert "unknown keys ['bogus']" in capsys.readouterr().err
    assert main(["data", "build", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "c.zarr")]) == 3
    assert not (tmp_path / "c.zarr").exists()
