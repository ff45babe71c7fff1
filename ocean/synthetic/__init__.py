"""A deterministic synthetic ocean that writes files in the real producers' formats.

The project's embedded default: the demo model is trained on it, tests use
it and the forecast CLI takes its initial state from it. Fields are analytic
functions of (date, latitude, longitude, depth), so any grid, levels and
dates work, a day's values never depend on the requested range, and a
point's values never depend on the grid. See docs/synthetic.md for the
equations, the file layout and the predictability figures.

Modules: ``noise`` (counter-based randomness, red noise, spatial modes),
``geography`` (continents, bathymetry, relief), ``climatology``,
``atmosphere`` and ``hourly`` (forcing), ``eddies``, ``enso`` (recharge oscillator),
``physics`` (T, S, currents, SSH), ``bgc``, ``waves``, ``monthly`` (ENSO
fields), ``formats`` (producer file conventions), ``writer`` (directory
layout and manifest), ``model`` (:class:`SyntheticOcean`).

Importing this package does not import torch.
"""

from __future__ import annotations

from ocean.synthetic.config import DEFAULT_CONFIG, SyntheticConfig
from ocean.synthetic.model import DEFAULT_LEVELS, SyntheticOcean, dates_from
from ocean.synthetic.physics import Known
from ocean.synthetic.writer import PRODUCTS, generate, write

__all__ = [
    "SyntheticOcean",
    "SyntheticConfig",
    "DEFAULT_CONFIG",
    "DEFAULT_LEVELS",
    "PRODUCTS",
    "generate",
    "write",
    "dates_from",
    "Known",
]
