"""What goes in and out of a forecast is checked against the variable catalogue.

``ocean forecast`` calls :func:`check_field` on the initial state, on every
lead before it is written and on every head's field before its group is
written; a failure is a :class:`~ocean.errors.DataError` (exit 3) that names
the file or model, the variable, the lead and the values found, and since it
is raised inside the forecast writer nothing is published.

Rules, for a variable of ``ocean.variables`` (others are only checked for
finiteness):

* with an ``ocean`` mask: every ocean cell is finite (no NaN, no inf) and
  inside the catalogue's ``valid_range``;
* without one (a head's field on its own grid, where sea ice or land may
  legitimately be NaN): no inf anywhere, at least one finite value, and every
  finite value inside the range.

Inputs (data) must lie inside the range. A model's output may overshoot it
by :data:`OUTPUT_MARGIN` of the range's width (``margin=OUTPUT_MARGIN``):
the shipped demo model, a sound model, forecasts -3.08 degC in a few winter
cells (the range starts at -3); a forecast beyond the margin (399.9 degC,
1e18, all NaN) is garbage.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ocean import variables as V
from ocean.errors import DataError

__all__ = ["check_field", "OUTPUT_MARGIN"]

#: Share of a variable's valid range a forecast may overshoot it by (model error, not garbage).
OUTPUT_MARGIN = 0.05


def check_field(values: np.ndarray, variable: str, *, what: str, ocean: np.ndarray | None = None,
                file: Any = None, hint: str | None = None, margin: float = 0.0) -> None:
    """Refuse ``values`` of ``variable`` that are not finite (in ocean cells) or out of range.

    ``ocean`` is a bool mask broadcastable to ``values`` (True = ocean);
    ``what`` says which field this is (e.g. ``"the forecast at lead 3
    (2020-01-08)"``) and starts the message; ``margin`` widens the range by
    that share of its width at each end.
    """
    values = np.asarray(values)
    if ocean is not None:
        cells = values[np.broadcast_to(np.asarray(ocean, dtype=bool), values.shape)]
        bad = ~np.isfinite(cells)
        if bad.any():
            nan = int(np.isnan(cells).sum())
            raise DataError(f"{what} is not finite in ocean cells", file=file, variable=variable,
                            found=f"{nan} NaN and {int(bad.sum()) - nan} inf of {cells.size} ocean cells",
                            expected="finite values in every ocean cell", hint=hint)
    else:
        cells = values.ravel()
        inf = int(np.isinf(cells).sum())
        if inf or not np.isfinite(cells).any():
            raise DataError(f"{what} is not finite", file=file, variable=variable,
                            found=f"{inf} inf cells" if inf else f"all {cells.size} cells NaN",
                            expected="finite values (NaN only where masked)", hint=hint)
        cells = cells[np.isfinite(cells)]
    if variable not in V.CATALOGUE or cells.size == 0:
        return
    var = V.get(variable)
    lo, hi = var.valid_range
    if margin:
        lo, hi = lo - margin * (hi - lo), hi + margin * (hi - lo)
    outside = (cells < lo) | (cells > hi)
    if outside.any():
        raise DataError(f"{what} is outside the physical range", file=file, variable=variable,
                        found=f"min {float(cells.min()):.6g}, max {float(cells.max()):.6g} "
                              f"({int(outside.sum())} of {cells.size} cells outside)",
                        expected=f"values within [{lo:.4g}, {hi:.4g}] {var.units} (ocean/variables.py"
                                 + (f", widened by {margin:.0%} for a forecast)" if margin else ")"), hint=hint)
