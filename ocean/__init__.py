"""ocean-forecast core: grid, levels, variables, Batch, normalisation, CF I/O,
synthetic ocean, metrics and plotting; and, as the composition root, the
workflows and the CLI.

Importing ``ocean`` is cheap: submodules (and torch) load on first use.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ocean-forecast")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

from ocean.lazy import lazy_attributes  # noqa: E402

_LAZY = {
    "Grid": "ocean.grid",
    "Region": "ocean.grid",
    "Levels": "ocean.levels",
    "Batch": "ocean.batch",
    "open_source": "ocean.io",
    "open_forecasts": "ocean.forecast_store",
    "open_hindcast": "ocean.workflows.hindcast",
    "run_hindcast": "ocean.workflows.hindcast",
    "HindcastRequest": "ocean.workflows.hindcast",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


# The ``ds.ocean`` / ``da.ocean`` accessor: ocean.accessor imports only numpy and
# xarray (plotting libraries load inside its methods), never torch.
from ocean import accessor as _accessor  # noqa: E402,F401
