"""The one variable catalogue and the producers' lexicons.

Every name, unit and valid range the project uses is declared here once.
Canonical names follow Copernicus Marine (``thetao``, ``so``, ``uo``, ``vo``,
``zos``; CMEMS BIO and wave names) and ECMWF short names for the
atmosphere (``u10``, ``v10``, ``t2m``, ``msl``, ``sp``).

Canonical units are those Copernicus Marine writes, except temperatures,
which are always degrees Celsius (ERA5's ``t2m`` and OSTIA's
``analysed_sst`` arrive in kelvin and are converted on read).

A :class:`Lexicon` maps one producer's variable names and units onto the
catalogue; :data:`LEXICONS` holds one per supported producer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

__all__ = [
    "Variable",
    "CATALOGUE",
    "PROGNOSTIC",
    "PROGNOSTIC_3D",
    "PROGNOSTIC_2D",
    "FORCING",
    "WAVES",
    "BIOGEOCHEMISTRY",
    "ENSO",
    "get",
    "canonical_units",
    "unit_converter",
    "Lexicon",
    "SourceVariable",
    "LEXICONS",
    "lexicon",
    "UnitError",
]


@dataclass(frozen=True)
class Variable:
    """One variable of the catalogue.

    ``valid_range`` is a physical plausibility range used by validators: a
    value outside it is an error in the input, not a rare event.
    """

    name: str
    standard_name: str
    long_name: str
    units: str
    valid_range: tuple[float, float]
    is_3d: bool
    group: str

    def cf_attrs(self) -> dict[str, str]:
        """CF attributes for a data variable holding this quantity."""
        return {
            "standard_name": self.standard_name,
            "long_name": self.long_name,
            "units": self.units,
        }


def _v(name, standard_name, long_name, units, lo, hi, is_3d, group) -> Variable:
    return Variable(name, standard_name, long_name, units, (float(lo), float(hi)), is_3d, group)


_ALL = [
    # Physical ocean state (prognostic), as Copernicus Marine writes it.
    _v("thetao", "sea_water_potential_temperature", "Temperature", "degrees_C", -3, 40, True, "ocean"),
    _v("so", "sea_water_salinity", "Salinity", "1e-3", 0, 45, True, "ocean"),
    _v("uo", "eastward_sea_water_velocity", "Eastward velocity", "m s-1", -5, 5, True, "ocean"),
    _v("vo", "northward_sea_water_velocity", "Northward velocity", "m s-1", -5, 5, True, "ocean"),
    _v("zos", "sea_surface_height_above_geoid", "Sea surface height", "m", -5, 5, False, "ocean"),
    # Atmospheric forcing (ERA5 short names).
    _v("u10", "eastward_wind", "10 metre U wind component", "m s-1", -80, 80, False, "forcing"),
    _v("v10", "northward_wind", "10 metre V wind component", "m s-1", -80, 80, False, "forcing"),
    _v("t2m", "air_temperature", "2 metre temperature", "degrees_C", -90, 60, False, "forcing"),
    _v("msl", "air_pressure_at_mean_sea_level", "Mean sea level pressure", "Pa", 85000, 110000, False, "forcing"),
    _v("sp", "surface_air_pressure", "Surface pressure", "Pa", 45000, 110000, False, "forcing"),
    # Static fields.
    _v("deptho", "sea_floor_depth_below_geoid", "Sea floor depth below geoid", "m", 0, 11000, False, "static"),
    # Sea-surface temperature products (2-D, surface).
    _v("sst", "sea_surface_temperature", "Sea surface temperature", "degrees_C", -3, 45, False, "sst"),
    _v("sla", "sea_surface_height_above_sea_level", "Sea level anomaly", "m", -5, 5, False, "sst"),
    # Waves (CMEMS names).
    _v("VHM0", "sea_surface_wave_significant_height", "Spectral significant wave height", "m", 0, 30, False, "waves"),
    _v("VTM02", "sea_surface_wave_mean_period_from_variance_spectral_density_second_frequency_moment",
       "Spectral moments (0,2) wave period", "s", 0, 40, False, "waves"),
    _v("VTPK", "sea_surface_wave_period_at_variance_spectral_density_maximum",
       "Wave period at spectral peak", "s", 0, 40, False, "waves"),
    _v("VMDR", "sea_surface_wave_from_direction", "Mean wave direction from", "degree", 0, 360, False, "waves"),
    # Biogeochemistry (CMEMS BIO names).
    _v("chl", "mass_concentration_of_chlorophyll_a_in_sea_water", "Total chlorophyll", "mg m-3", 0, 100, True, "bgc"),
    _v("no3", "mole_concentration_of_nitrate_in_sea_water", "Nitrate", "mmol m-3", 0, 100, True, "bgc"),
    _v("po4", "mole_concentration_of_phosphate_in_sea_water", "Phosphate", "mmol m-3", 0, 10, True, "bgc"),
    _v("si", "mole_concentration_of_silicate_in_sea_water", "Dissolved silicate", "mmol m-3", 0, 250, True, "bgc"),
    _v("o2", "mole_concentration_of_dissolved_molecular_oxygen_in_sea_water", "Dissolved oxygen", "mmol m-3", 0, 600, True, "bgc"),
    _v("nppv", "net_primary_production_of_biomass_expressed_as_carbon_per_unit_volume_in_sea_water",
       "Total primary production of phyto", "mg m-3 day-1", 0, 1000, True, "bgc"),
    # ENSO (monthly).
    _v("tauuo", "surface_downward_x_stress", "Zonal wind stress", "N m-2", -2, 2, False, "enso"),
    _v("tauvo", "surface_downward_y_stress", "Meridional wind stress", "N m-2", -2, 2, False, "enso"),
    _v("nino34", "sea_surface_temperature_anomaly", "Nino 3.4 index", "degrees_C", -6, 6, False, "enso"),
]

CATALOGUE: Mapping[str, Variable] = {v.name: v for v in _ALL}

PROGNOSTIC_3D: tuple[str, ...] = ("thetao", "so", "uo", "vo")
PROGNOSTIC_2D: tuple[str, ...] = ("zos",)
PROGNOSTIC: tuple[str, ...] = PROGNOSTIC_3D + PROGNOSTIC_2D
FORCING: tuple[str, ...] = ("u10", "v10", "t2m", "msl", "sp")
WAVES: tuple[str, ...] = ("VHM0", "VTM02", "VMDR")
BIOGEOCHEMISTRY: tuple[str, ...] = ("chl", "no3", "po4", "si", "o2", "nppv")
ENSO: tuple[str, ...] = ("thetao", "tauuo", "tauvo")


def get(name: str) -> Variable:
    """Return the catalogue entry for ``name`` or fail with the known names."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(
            f"unknown variable {name!r}; the catalogue (ocean/variables.py) knows: "
            f"{', '.join(sorted(CATALOGUE))}"
        ) from None


# --------------------------------------------------------------------------
# Units: the spellings producers use for each canonical unit, and the affine
# conversions (scale, offset) from foreign units: canonical = x * scale + offset.
# --------------------------------------------------------------------------

_SPELLINGS: dict[str, set[str]] = {
    "degrees_C": {"degrees_C", "degC", "degree_C", "degrees_Celsius", "degree_Celsius",
                  "Celsius", "celsius", "°C", "deg C", "C", "degrees C"},
    "1e-3": {"1e-3", "0.001", "psu", "PSU", "pss", "PSS-78", "g/kg", "g kg-1", "1"},
    "m s-1": {"m s-1", "m/s", "m s**-1", "meter/sec", "m.s-1", "m sec-1", "meters/second", "m s^-1"},
    "m": {"m", "meters", "meter", "metre", "metres"},
    "Pa": {"Pa", "pascal", "Pascal"},
    "s": {"s", "seconds", "second", "sec"},
    "degree": {"degree", "degrees", "deg", "degrees_true", "degree_true", "degrees true", "degree true",
               "Degree true"},  # ERA5 wave directions (mwd) say "Degree true"
    "mg m-3": {"mg m-3", "mg/m^3", "mg/m3", "milligram m-3", "mg m**-3"},
    "mmol m-3": {"mmol m-3", "mmol/m^3", "mmol/m3", "mmol m**-3", "mmol.m-3"},
    "mg m-3 day-1": {"mg m-3 day-1", "mg/m^3/day", "mg m-3 d-1"},
    "N m-2": {"N m-2", "N/m^2", "N m**-2", "N/m2", "Pa"},
}

# Foreign unit spelling -> (canonical unit, scale, offset).
_CONVERSIONS: dict[str, tuple[str, float, float]] = {
    "K": ("degrees_C", 1.0, -273.15),
    "kelvin": ("degrees_C", 1.0, -273.15),
    "Kelvin": ("degrees_C", 1.0, -273.15),
    "degK": ("degrees_C", 1.0, -273.15),
    "degrees_K": ("degrees_C", 1.0, -273.15),
    "cm": ("m", 0.01, 0.0),
    "centimeters": ("m", 0.01, 0.0),
    "centimetres": ("m", 0.01, 0.0),
    "cm s-1": ("m s-1", 0.01, 0.0),
    "cm/s": ("m s-1", 0.01, 0.0),
    "hPa": ("Pa", 100.0, 0.0),
    "mbar": ("Pa", 100.0, 0.0),
    "millibars": ("Pa", 100.0, 0.0),
    "dyne/centimeter^2": ("N m-2", 0.1, 0.0),
    "dyn/cm^2": ("N m-2", 0.1, 0.0),
}

# Units that are dimensionally the same (mmol m-3 == µmol L-1 == µM).
_EQUIVALENT: dict[str, str] = {
    "umol/L": "mmol m-3", "µmol/L": "mmol m-3", "umol l-1": "mmol m-3", "uM": "mmol m-3",
    "micromol/L": "mmol m-3", "ug/L": "mg m-3", "ug l-1": "mg m-3", "µg/L": "mg m-3",
}


class UnitError(ValueError):
    """A unit string that cannot be converted to the canonical unit."""


def canonical_units(units: str) -> str | None:
    """Return the canonical spelling for ``units`` if it is one, else None."""
    u = units.strip()
    for canon, spellings in _SPELLINGS.items():
        if u in spellings:
            return canon
    return _EQUIVALENT.get(u)


def unit_converter(found: str, expected: str) -> Callable[[np.ndarray], np.ndarray] | None:
    """Return ``f(x)`` converting values in ``found`` units to ``expected``.

    Returns None when no conversion is needed. Raises :class:`UnitError` when
    the units are unknown or of another dimension.
    """
    found_s = (found or "").strip()
    expected_c = canonical_units(expected) or expected
    if found_s in _SPELLINGS.get(expected_c, ()) or found_s == expected_c:
        return None
    if _EQUIVALENT.get(found_s) == expected_c:
        return None
    if found_s in _CONVERSIONS:
        canon, scale, offset = _CONVERSIONS[found_s]
        if canon == expected_c:
            if scale == 1.0:
                return lambda x: x + offset
            if offset == 0.0:
                return lambda x: x * scale
            return lambda x: x * scale + offset
    known = sorted(_SPELLINGS.get(expected_c, {expected_c}) | {
        k for k, (c, _, _) in _CONVERSIONS.items() if c == expected_c})
    raise UnitError(
        f"units {found_s!r} cannot be converted to {expected_c!r}; "
        f"accepted spellings: {', '.join(known)}"
    )


# --------------------------------------------------------------------------
# Lexicons: producers' names -> catalogue names.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceVariable:
    """How one producer's variable maps onto the catalogue.

    ``components`` lists source variables that are summed to make the
    canonical one (CESM's chlorophyll is split by phytoplankton group);
    ``default_units`` is used when the file carries no ``units`` attribute;
    ``scale`` multiplies the values before unit conversion (``-1`` turns a
    topography's elevation into a depth below the geoid).
    """

    canonical: str
    components: tuple[str, ...]
    default_units: str | None = None
    scale: float = 1.0


@dataclass(frozen=True)
class Lexicon:
    """A producer's vocabulary: variable names, dimension names, conventions."""

    name: str
    description: str
    variables: Mapping[str, SourceVariable]
    dims: Mapping[str, str] = field(default_factory=dict)
    depth_units: str = "m"
    frequency: str | None = "daily"

    def canonical_to_source(self) -> dict[str, SourceVariable]:
        return dict(self.variables)

    def matches(self, names: set[str]) -> int:
        """How many of this lexicon's first components appear in ``names``."""
        return sum(sv.components[0] in names for sv in self.variables.values())


def _lex(name, description, mapping, dims=None, depth_units="m", frequency="daily") -> Lexicon:
    """Build a lexicon; a mapping value is a source name, a tuple of names to
    sum, or a :class:`SourceVariable` keyword dict."""
    variables = {}
    for canonical, spec in mapping.items():
        if isinstance(spec, str):
            spec = {"components": (spec,)}
        elif isinstance(spec, tuple):
            spec = {"components": spec}
        variables[canonical] = SourceVariable(canonical, **spec)
    return Lexicon(name, description, variables, dims or {}, depth_units, frequency)


_GEO_DIMS = {"lat": "latitude", "lon": "longitude", "nav_lat": "latitude", "nav_lon": "longitude",
             "y": "latitude", "x": "longitude", "valid_time": "time", "deptht": "depth",
             "lev": "depth", "z": "depth"}

LEXICONS: Mapping[str, Lexicon] = {
    lx.name: lx
    for lx in [
        _lex("glorys", "Copernicus Marine GLORYS12 / CMEMS global physics (daily)",
             {"thetao": "thetao", "so": "so", "uo": "uo", "vo": "vo", "zos": "zos",
              "deptho": "deptho"}, _GEO_DIMS),
        _lex("hycom", "HYCOM GOFS 3.1 / ESPC (daily)",
             {"thetao": "water_temp", "so": "salinity", "uo": "water_u", "vo": "water_v",
              "zos": "surf_el"}, _GEO_DIMS),
        _lex("era5", "ECMWF ERA5 single levels (hourly or daily)",
             {"u10": "u10", "v10": "v10", "t2m": "t2m", "msl": "msl", "sp": "sp", "sst": "sst",
              # monthly means: mean eastward/northward turbulent surface stress
              "tauuo": "metss", "tauvo": "mntss"},
             _GEO_DIMS, frequency=None),
        _lex("ostia", "OSTIA / ESA CCI L4 SST (analysed_sst in kelvin)",
             {"sst": "analysed_sst"}, _GEO_DIMS),
        _lex("ersst", "NOAA ERSST v5 monthly SST", {"sst": "sst"}, _GEO_DIMS, frequency="monthly"),
        _lex("altimetry", "CMEMS / DUACS along-track or gridded sea-level anomaly",
             {"sla": "sla"}, _GEO_DIMS),
        _lex("cmems_bio", "Copernicus Marine global biogeochemistry (daily or monthly)",
             {"chl": "chl", "no3": "no3", "po4": "po4", "si": "si", "o2": "o2", "nppv": "nppv"},
             _GEO_DIMS, frequency=None),
        _lex("cesm_bgc", "NCAR CESM / POP MARBL biogeochemistry (depth z_t in centimetres)",
             {"chl": ("diatChl", "spChl", "diazChl"), "no3": "NO3", "po4": "PO4", "si": "SiO3",
              "o2": "O2"},
             {**_GEO_DIMS, "z_t": "depth", "z_t_150m": "depth_150m"}, depth_units="cm",
             frequency=None),
        _lex("cmems_wave", "Copernicus Marine global wave analysis/forecast",
             {"VHM0": "VHM0", "VTM02": "VTM02", "VTPK": "VTPK", "VMDR": "VMDR"},
             _GEO_DIMS, frequency=None),
        _lex("era5_wave", "ECMWF ERA5 ocean-wave fields",
             {"VHM0": {"components": ("swh",), "default_units": "m"},
              "VTM02": {"components": ("mwp",), "default_units": "s"},
              "VTPK": {"components": ("pp1d",), "default_units": "s"},
              "VMDR": {"components": ("mwd",), "default_units": "degree"}},
             _GEO_DIMS, frequency=None),
        # Monthly ocean reanalyses for the ENSO head (downstream.enso.readers regrids them).
        # GODAS's uflx/vflx are NCEP momentum fluxes, positive upward (a westerly wind gives uflx < 0),
        # so the stress on the ocean is tauuo = -uflx, tauvo = -vflx.
        _lex("godas", "NCEP GODAS monthly (pottmp in K on `level`; uflx/vflx positive upward)",
             {"thetao": "pottmp", "tauuo": {"components": ("uflx",), "scale": -1.0},
              "tauvo": {"components": ("vflx",), "scale": -1.0}},
             {**_GEO_DIMS, "level": "depth"}, frequency="monthly"),
        _lex("oras5", "ECMWF ORAS5 monthly on the ORCA curvilinear grid (nav_lat/nav_lon 2-D; "
             "read with downstream.enso.readers)",
             {"thetao": "votemper", "tauuo": "sozotaux", "tauvo": "sometauy"},
             {**_GEO_DIMS, "time_counter": "time"}, frequency="monthly"),
        _lex("soda", "SODA 3.x monthly (MOM B-grid: temp on xt/yt_ocean, taux/tauy on xu/yu_ocean)",
             {"thetao": "temp", "tauuo": "taux", "tauvo": "tauy"},
             {**_GEO_DIMS, "xt_ocean": "longitude", "yt_ocean": "latitude", "st_ocean": "depth"},
             frequency="monthly"),
        _lex("bathymetry", "Topography / bathymetry (ETOPO, GEBCO; elevation negative below sea level)",
             {"deptho": {"components": ("topo",), "scale": -1.0}}, {**_GEO_DIMS, "topo_lat": "latitude", "topo_lon": "longitude"},
             frequency=None),
    ]
}


def lexicon(name: str) -> Lexicon:
    """Return the lexicon called ``name`` or fail listing the known ones."""
    try:
        return LEXICONS[name]
    except KeyError:
        raise KeyError(
            f"unknown source {name!r}; known sources: {', '.join(sorted(LEXICONS))}"
        ) from None
