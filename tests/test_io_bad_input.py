"""Bad input: clear errors naming file, variable, found and expected."""

import numpy as np
import pytest

from conftest import to_cmems_file
from ocean.batch import Batch
from ocean.cli import main
from ocean.errors import DataError
from ocean.io import open_source


def test_missing_required_variable(tiny_ocean, tmp_path):
    f = to_cmems_file(tiny_ocean.drop_vars("so"), tmp_path / "glo.nc")
    with pytest.raises(DataError) as e:
        open_source(f, "glorys", ["thetao", "so"])
    msg = str(e.value)
    assert "glo.nc" in msg and "'so'" in msg and "found" in msg and "expected" in msg


def test_unknown_units(tiny_ocean, tmp_path):
    f = to_cmems_file(tiny_ocean, tmp_path / "glo.nc", units={"thetao": "degrees_F"})
    with pytest.raises(DataError, match=r"glo\.nc, variable 'thetao': unknown units.*degrees_F"):
        open_source(f, "glorys")


def test_kelvin_labelled_celsius_is_out_of_range(tiny_ocean, tmp_path):
    warm = tiny_ocean.copy()
    warm["thetao"] = warm.thetao + 273.15
    f = to_cmems_file(warm, tmp_path / "k.nc")
    with pytest.raises(DataError, match="outside the physical range.*thetao|thetao.*outside the physical range"):
        open_source(f, "glorys")


def test_descending_latitude_and_0_360_are_reoriented_by_the_reader(tiny_ocean, tmp_path):
    f = to_cmems_file(tiny_ocean, tmp_path / "odd.nc", lon_0_360=True, descending_lat=True)
    ds = open_source(f, "glorys")
    np.testing.assert_array_equal(ds.latitude.values, tiny_ocean.latitude.values)
    np.testing.assert_array_equal(ds.longitude.values, tiny_ocean.longitude.values)
    np.testing.assert_allclose(ds.thetao.values, tiny_ocean.thetao.values, equal_nan=True)


def test_canonical_consumers_refuse_descending_latitude_and_0_360(tiny_ocean):
    with pytest.raises(DataError, match="latitude is not ascending.*open_source"):
        Batch.from_xarray(tiny_ocean.isel(latitude=slice(None, None, -1)))
    shifted = tiny_ocean.assign_coords(longitude=tiny_ocean.longitude % 360).sortby("longitude")
    with pytest.raises(DataError, match="longitude.*0..360"):
        Batch.from_xarray(shifted.assign_coords(longitude=shifted.longitude + 0))


def test_non_daily_time(tiny_ocean, tmp_path):
    ds = tiny_ocean.assign_coords(time=tiny_ocean.time.values + np.array([0, 1], "timedelta64[D]"))
    f = to_cmems_file(ds, tmp_path / "gap.nc")
    with pytest.raises(DataError, match="not a daily series.*2 days"):
        open_source(f, "glorys", expect_frequency="daily")


def test_duplicated_dates_across_files(tiny_ocean, tmp_path):
    a = to_cmems_file(tiny_ocean, tmp_path / "a.nc")
    b = to_cmems_file(tiny_ocean.isel(time=[1]), tmp_path / "b.nc")
    with pytest.raises(DataError, match="duplicated dates"):
        open_source([a, b], "glorys")


def test_nan_in_ocean_cells(tiny_ocean, tmp_path):
    ds = tiny_ocean.copy(deep=True)
    ds["thetao"][1, 0, 7, 2] = np.nan  # an ocean cell on day 2 only
    f = to_cmems_file(ds, tmp_path / "hole.nc")
    with pytest.raises(DataError, match=r"hole\.nc, variable 'thetao': NaN in ocean cells"):
        open_source(f, "glorys")


def test_nan_above_a_valid_deeper_value(tiny_ocean, tmp_path):
    ds = tiny_ocean.isel(time=[0]).copy(deep=True)
    ds["so"][0, 0, 7, 2] = np.nan
    with pytest.raises(DataError, match="'so': NaN in ocean cells"):
        open_source(to_cmems_file(ds, tmp_path / "col.nc"), "glorys")


def test_inf_values(tiny_ocean, tmp_path):
    ds = tiny_ocean.copy(deep=True)
    ds["uo"][0, 0, 7, 2] = np.inf
    with pytest.raises(DataError, match="'uo': infinite values"):
        open_source(to_cmems_file(ds, tmp_path / "inf.nc"), "glorys")


def test_truncated_netcdf(tiny_ocean, tmp_path):
    f = to_cmems_file(tiny_ocean, tmp_path / "full.nc")
    cut = tmp_path / "cut.nc"
    cut.write_bytes(f.read_bytes()[:2000])
    with pytest.raises(DataError, match=r"cut\.nc.*truncated"):
        open_source(cut)


def test_not_netcdf_at_all(tmp_path):
    f = tmp_path / "page.nc"
    f.write_text("<html>login required</html>")
    with pytest.raises(DataError, match="not a NetCDF file"):
        open_source(f)


def test_missing_file_and_empty_glob(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        open_source(tmp_path / "nope.nc")
    with pytest.raises(DataError, match="no file matches"):
        open_source(str(tmp_path / "*.nc"))


def test_cli_info_on_bad_file_exits_3_and_names_it(tmp_path, capsys):
    f = tmp_path / "cut.nc"
    f.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    assert main(["info", str(f)]) == 3
    assert "cut.nc" in capsys.readouterr().err


def test_truncated_classic_netcdf_is_refused_not_read_as_zeros(tiny_ocean, tmp_path):
    full = tmp_path / "classic.nc"
    tiny_ocean.to_netcdf(full, format="NETCDF3_64BIT")
    cut = tmp_path / "classic_cut.nc"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(DataError, match=r"classic_cut\.nc.*truncated"):
        open_source(cut, "glorys")
