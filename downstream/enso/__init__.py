"""ENSO head: the 3D-Geoformer (space-time factorised attention) and its Niño3.4 outlook.

Public API (docs/enso.md)::

    from downstream.enso import (Geoformer, get_preset, EnsoForecaster, enso_outlook, write_outlook,
                                 plot_plume, enso_hindcast, monthly_inputs, read_monthly, train_enso)

    ds = enso_outlook("2020-01")                      # shipped model, synthetic inputs
    write_outlook(ds, "out/")                         # NetCDF + plume PNG
    scores = enso_hindcast(out_dir="scores/")         # what `ocean hindcast --enso` calls
    fields = monthly_inputs([analyses, forecasts], fc.layout)   # as a head on the backbone
    fields = read_monthly("godas", "pottmp.*.nc", layout, zonal_stress="uflx.*.nc", meridional_stress="vflx.*.nc")

Submodules load lazily: ``import downstream.enso`` imports neither torch nor Lightning.
"""

from __future__ import annotations

import importlib

__all__ = ["Geoformer", "GeoformerConfig", "get_preset", "list_presets", "EnsoForecaster", "Layout",
           "enso_outlook", "write_outlook", "plot_plume", "default_model_dir", "enso_hindcast",
           "monthly_inputs", "read_monthly", "train_enso", "load_train_config"]

_LAZY = {
    "Geoformer": "downstream.enso.model",
    "GeoformerConfig": "downstream.enso.config",
    "get_preset": "downstream.enso.config",
    "list_presets": "downstream.enso.config",
    "EnsoForecaster": "downstream.enso.forecaster",
    "Layout": "downstream.enso.data",
    "enso_outlook": "downstream.enso.outlook",
    "write_outlook": "downstream.enso.outlook",
    "plot_plume": "downstream.enso.outlook",
    "default_model_dir": "downstream.enso.outlook",
    "enso_hindcast": "downstream.enso.evaluate",
    "monthly_inputs": "downstream.enso.assemble",
    "read_monthly": "downstream.enso.readers",
    "train_enso": "downstream.enso.train",
    "load_train_config": "downstream.enso.train_config",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'downstream.enso' has no attribute {name!r}")
