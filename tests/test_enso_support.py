"""Shared helpers of the ENSO tests (no tests here): a tiny layout, fields and model directory.

The tiny layout is the 4-degree tropical Pacific (11x60) with 3 levels, the
``tiny`` preset's; fields come from the synthetic ocean (a few years cost
well under a second).
"""

from __future__ import annotations

import functools

import pytest

TINY_GRID = "tropical_pacific@4"
TINY_LEVELS = (5.0, 60.0, 150.0)


def tiny_layout():
    from downstream.enso.data import Layout

    return Layout.from_spec(TINY_GRID, list(TINY_LEVELS))


@functools.lru_cache(maxsize=4)
def tiny_fields(start: str = "2000-01", years: int = 6, seed: int = 0):
    from downstream.enso.data import synthetic_fields

    return synthetic_fields(tiny_layout(), start, 12 * years, seed).load()


def make_tiny_forecaster(start: str = "2000-01", years: int = 6, seed: int = 0, provenance: dict | None = None):
    """An untrained tiny Geoformer with the climatology and statistics of ``years`` synthetic years."""
    import torch

    from downstream.enso.config import get_preset
    from downstream.enso.data import EnsoData
    from downstream.enso.forecaster import EnsoForecaster
    from downstream.enso.model import Geoformer

    torch.manual_seed(0)
    layout = tiny_layout()
    fields = tiny_fields(start, years, seed)
    end = f"{int(start[:4]) + years - 1}-12-31"
    data = EnsoData(fields, layout, climatology_period=(f"{start}-01", end))
    return EnsoForecaster(Geoformer(get_preset("tiny")), layout, data.climatology, data.statistics)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A saved tiny model whose provenance names a synthetic test period (2003-2005)."""
    path = tmp_path_factory.mktemp("enso_model") / "tiny"
    prov = {"data": {"synthetic": {"seed": 0, "start": "2000-01", "years": 6}, "train": ["2000-01-01", "2002-12-31"],
                     "val": ["2003-01-01", "2003-06-30"], "test": ["2003-01-01", "2005-12-31"]}}
    make_tiny_forecaster().save(path, provenance=prov)
    return path
