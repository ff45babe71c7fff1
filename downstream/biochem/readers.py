"""Readers of biogeochemistry: CMEMS BIO products and CESM / POP (MARBL) output.

:func:`open_bgc` returns the canonical form of :func:`ocean.io.open_source`:
``chl, no3, po4, si, o2`` (and ``nppv`` where the product has it), depth in
metres positive down (CESM's ``z_t`` is in centimetres), latitude ascending.
CESM's chlorophyll is split by phytoplankton group (``diatChl``, ``spChl``,
``diazChl``, on the upper 150 m ``z_t_150m``): the total is their sum, and
zero below 150 m over the ocean. Negative concentrations are refused.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ocean.errors import DataError
from ocean.io import check_values, open_source, resolve_paths

__all__ = ["open_bgc", "check_concentrations", "BGC_SOURCES"]

BGC_SOURCES = ("cmems_bio", "cesm_bgc")


def check_concentrations(ds: xr.Dataset, label) -> None:
    """Refuse negative concentrations, naming the variable, the minimum and how many cells."""
    for name in [v for v in ("chl", "no3", "po4", "si", "o2", "nppv") if v in ds]:
        x = np.asarray(ds[name].values, dtype=float)
        bad = np.isfinite(x) & (x < 0)
        if bad.any():
            raise DataError("negative concentrations", file=label, variable=name,
                            found=f"min {np.nanmin(x):.4g} in {int(bad.sum())} of {int(np.isfinite(x).sum())} cells",
                            expected="values >= 0",
                            hint="Check the file's units and scale_factor; a model's tiny negative noise must be "
                                 "clipped at the source (ds.clip(min=0)) before it is used as truth")


def open_bgc(paths, source: str | None = None) -> xr.Dataset:
    """CMEMS BIO or CESM BGC files in canonical form, checked (no negative concentrations, plausible ranges)."""
    files = resolve_paths(paths)
    ds = open_source(files, source=source, check=False)
    if ds.attrs.get("source") not in BGC_SOURCES:
        raise DataError("not a biogeochemistry product", file=files[0], found=ds.attrs.get("source"),
                        expected=f"one of {list(BGC_SOURCES)}")
    ds = ds.load()
    check_concentrations(ds, str(files[0]))
    check_values(ds, str(files[0]))
    return ds
