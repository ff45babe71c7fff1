import numpy as np
import pytest

from ocean import levels as L
from ocean import variables as V


def test_catalogue_has_prognostic_variables_with_cf_names():
    expected = {"thetao": "sea_water_potential_temperature", "so": "sea_water_salinity",
                "uo": "eastward_sea_water_velocity", "vo": "northward_sea_water_velocity",
                "zos": "sea_surface_height_above_geoid"}
    for name, sn in expected.items():
        assert V.get(name).standard_name == sn
    assert [V.get(v).is_3d for v in V.PROGNOSTIC] == [True, True, True, True, False]
    assert V.get("so").units == "1e-3" and V.get("thetao").units == "degrees_C"


def test_unknown_variable_lists_catalogue():
    with pytest.raises(KeyError, match="thetao"):
        V.get("temperature")


@pytest.mark.parametrize("found,expected,x,y", [
    ("K", "degrees_C", 273.15, 0.0),
    ("K", "degrees_C", 300.0, 26.85),
    ("cm", "m", 250.0, 2.5),
    ("centimeters", "m", 50000.0, 500.0),
    ("hPa", "Pa", 1013.25, 101325.0),
    ("dyne/centimeter^2", "N m-2", 1.0, 0.1),
])
def test_unit_conversion_hand_values(found, expected, x, y):
    fn = V.unit_converter(found, expected)
    assert fn is not None
    np.testing.assert_allclose(fn(np.float64(x)), y, rtol=1e-12)


@pytest.mark.parametrize("found,expected", [("degC", "degrees_C"), ("m s**-1", "m s-1"), ("psu", "1e-3"),
                                            ("mmol/m^3", "mmol m-3"), ("Pa", "N m-2"), ("umol/L", "mmol m-3")])
def test_equivalent_spellings_need_no_conversion(found, expected):
    assert V.unit_converter(found, expected) is None


def test_unknown_units_raise_with_accepted_spellings():
    with pytest.raises(V.UnitError, match="furlongs.*accepted spellings"):
        V.unit_converter("furlongs", "m")
    with pytest.raises(V.UnitError):
        V.unit_converter("K", "m")  # wrong dimension


def test_every_lexicon_maps_onto_the_catalogue():
    for lx in V.LEXICONS.values():
        for canonical, sv in lx.variables.items():
            assert canonical in V.CATALOGUE, (lx.name, canonical)
            assert sv.components
    assert V.lexicon("hycom").variables["thetao"].components == ("water_temp",)
    assert V.lexicon("cesm_bgc").variables["chl"].components == ("diatChl", "spChl", "diazChl")
    assert V.lexicon("cesm_bgc").depth_units == "cm"
    with pytest.raises(KeyError, match="known sources"):
        V.lexicon("nemo-unknown")


def test_default_levels_are_the_aigoms_set():
    assert len(L.DEFAULT) == 15
    assert L.DEFAULT.depths[0] == 0.5 and L.DEFAULT.depths[-1] == 500
    assert L.resolve(None) is L.DEFAULT


def test_levels_from_config():
    assert len(L.resolve("glorys23")) == 23
    assert L.resolve([1, 5, 20]).depths == (1.0, 5.0, 20.0)
    assert L.resolve({"name": "x", "depths": [2, 4]}).name == "x"
    lv = L.resolve("enso7")
    assert lv.index(60) == 3
    with pytest.raises(KeyError, match="no level within"):
        lv.index(61)


@pytest.mark.parametrize("bad", [[10, 5], [0.5, 0.5], [-1, 2], []])
def test_bad_levels_are_refused(bad):
    with pytest.raises(ValueError, match="levels"):
        L.Levels(tuple(bad))


def test_unknown_level_preset():
    with pytest.raises(KeyError, match="presets"):
        L.resolve("orca75")
