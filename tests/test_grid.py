import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocean.grid import EARTH_RADIUS, REGIONS, Grid, Region, mask_from_bathymetry, parse_resolution
from ocean.levels import Levels

SPHERE = 4 * math.pi * EARTH_RADIUS**2


def test_quarter_degree_global_is_720_by_1440():
    g = Grid.global_("0.25deg")
    assert g.shape == (720, 1440)
    assert g.lat[0] == -89.875 and g.lat[-1] == 89.875
    assert g.lon[0] == -179.875 and g.lon[-1] == 179.875
    assert g.is_periodic and g.is_global


def test_one_degree_equatorial_cell_area_by_hand():
    g = Grid.global_(1)
    i = int(np.searchsorted(g.lat, 0.5))  # the cell from 0 to 1 degree north
    expected = EARTH_RADIUS**2 * math.radians(1) * (math.sin(math.radians(1)) - 0.0)
    assert g.cell_area()[i, 0] == pytest.approx(expected, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([90, 45, 30, 22.5, 10, 5, 4, 2, 1, 0.5]))
def test_global_areas_sum_to_the_sphere(res):
    assert Grid.global_(res).cell_area().sum() == pytest.approx(SPHERE, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(-90, 80), st.integers(1, 10), st.integers(-180, 170), st.integers(1, 40),
       st.sampled_from([1, 0.5, 0.25]))
def test_box_area_is_the_spherical_zone_formula(lat_s, dlat, lon_w, dlon, res):
    lat_n = min(lat_s + dlat, 90)
    g = Grid.box(Region("b", lon_w, lon_w + dlon, lat_s, lat_n), res)
    expected = EARTH_RADIUS**2 * math.radians(dlon) * (math.sin(math.radians(lat_n)) - math.sin(math.radians(lat_s)))
    assert g.cell_area().sum() == pytest.approx(expected, rel=1e-9)


def test_regional_grids_nest_exactly():
    coarse = Grid.box("kuroshio", 0.25)
    fine = Grid.box("kuroshio", "1/12", align=0.25)
    assert fine.shape == (coarse.nlat * 3, coarse.nlon * 3)
    assert fine.lat0 == coarse.lat0 and fine.lon0 == coarse.lon0
    assert coarse.refine(3).same_as(fine)
    # The box covers the requested region (124.7E-180, 21.3-45N) snapped outward.
    assert coarse.lon0 <= 124.7 and coarse.lon0 + coarse.nlon * 0.25 >= 180
    assert coarse.lat0 <= 21.3 and coarse.lat0 + coarse.nlat * 0.25 >= 45


def test_dateline_box_keeps_monotonic_longitude():
    g = Grid.box(Region("dl", 170, -170, -5, 5), 1)
    assert g.shape == (10, 20)
    assert np.all(np.diff(g.lon) > 0) and g.lon[-1] == 189.5
    assert g.lon_wrapped[-1] == -170.5
    assert g.region.crosses_dateline
    r = REGIONS["nino34"]
    assert not r.crosses_dateline
    inside = Region("dl", 170, -170, -5, 5).contains(np.array([0, 0, 0]), np.array([175, -175, 0]))
    assert inside.tolist() == [True, True, False]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([4, 2, 1, 0.5, 0.25]), st.integers(-180, 179), st.integers(-80, 70))
def test_grid_from_its_own_coordinates_round_trips(res, lon_w, lat_s):
    g = Grid.box(Region("r", lon_w, lon_w + 20, lat_s, lat_s + 10), res)
    assert Grid.from_coords(g.lat, g.lon).same_as(g)
    assert Grid.from_dict(g.to_dict()) == g


def test_from_coords_rejects_irregular_and_descending():
    with pytest.raises(ValueError, match="regular"):
        Grid.from_coords([0, 1, 3], [0, 1, 2])
    with pytest.raises(ValueError, match="ascending"):
        Grid.from_coords([3, 2, 1], [0, 1, 2])


@pytest.mark.parametrize("spec,res", [("4deg", 4.0), ("1/12", 1 / 12), ("quarter", 0.25), (0.5, 0.5), ("2°", 2.0)])
def test_parse_resolution(spec, res):
    assert parse_resolution(spec) == pytest.approx(res)


def test_parse_resolution_error_says_what_is_expected():
    with pytest.raises(ValueError, match="4deg"):
        parse_resolution("fine")


def test_grid_spec_strings():
    assert Grid.from_spec("4deg").shape == (45, 90)
    assert Grid.from_spec("kuroshio@0.25").same_as(Grid.box("kuroshio", 0.25))
    with pytest.raises(KeyError, match="known"):
        Grid.from_spec("atlantis@1")


def test_masks_per_level_from_bathymetry_by_hand():
    deptho = np.array([[np.nan, 5.0, 10.0], [100.0, 0.0, 600.0]])
    m = mask_from_bathymetry(deptho, Levels((0.5, 10, 500)))
    assert m.shape == (3, 2, 3)
    assert m[0].tolist() == [[False, True, True], [True, False, True]]
    assert m[1].tolist() == [[False, False, True], [True, False, True]]
    assert m[2].tolist() == [[False, False, False], [False, False, True]]
