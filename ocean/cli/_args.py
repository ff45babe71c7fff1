"""Argument types shared by the subcommands: dates are parsed by the parser itself.

A bad date is a usage error (exit 2) reported by argparse with the expected
format, before any work starts::

    ocean forecast: error: argument --init: expected a date YYYY-MM-DD (e.g. 2020-01-31), found '2020-13-01' (month must be in 1..12)

The value handed on stays the canonical ``YYYY-MM-DD`` (``YYYY-MM``) string.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re

__all__ = ["iso_date", "iso_month"]


def iso_date(text: str) -> str:
    """``YYYY-MM-DD``, a real calendar day."""
    value = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD (e.g. 2020-01-31), found {text!r}")
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a date YYYY-MM-DD (e.g. 2020-01-31), found {text!r} ({exc})") from None


def iso_month(text: str) -> str:
    """``YYYY-MM`` (a ``YYYY-MM-DD`` is accepted and names its month)."""
    value = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
        raise argparse.ArgumentTypeError(f"expected a month YYYY-MM (e.g. 2020-01), found {text!r}")
    try:
        day = dt.date.fromisoformat(value if len(value) == 10 else value + "-01")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a month YYYY-MM (e.g. 2020-01), found {text!r} ({exc})") from None
    return f"{day:%Y-%m}"
