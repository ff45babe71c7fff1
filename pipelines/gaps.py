"""The cube's ``gaps`` attribute: missing days, as compact JSON ranges.

A record is ``{"start": "2012-01-02", "end": "2012-12-30", "days": 364,
"policy": "skip" | "persist", "missing": [sources]}`` (``persist`` records
also say which day was repeated, ``filled_from``). Consecutive days with
the same policy and reason are merged; :func:`expand_gaps` gives one
record per day back (``date``, ``policy``).
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

__all__ = ["compact_gaps", "expand_gaps"]


def compact_gaps(records: Iterable[dict]) -> list[dict]:
    """Merge per-day records (``date`` key) into ranges; ranges pass through."""
    out: list[dict] = []
    for r in records:
        if "date" not in r:
            out.append(dict(r))
            continue
        day = dt.date.fromisoformat(r["date"])
        rest = {k: v for k, v in r.items() if k != "date"}
        prev = out[-1] if out else None
        if (prev is not None and "end" in prev and _same(prev, rest)
                and dt.date.fromisoformat(prev["end"]) + dt.timedelta(days=1) == day):
            prev["end"] = r["date"]
            prev["days"] += 1
        else:
            out.append({"start": r["date"], "end": r["date"], "days": 1, **rest})
    return out


def _same(prev: dict, rest: dict) -> bool:
    keys = set(prev) - {"start", "end", "days"}
    return keys == set(rest) and all(prev[k] == rest[k] for k in keys)


def expand_gaps(records: Iterable[dict]) -> list[dict]:
    """One ``{"date", "policy", ...}`` record per missing day."""
    out = []
    for r in records:
        if "date" in r:
            out.append(dict(r))
            continue
        start, end = dt.date.fromisoformat(r["start"]), dt.date.fromisoformat(r["end"])
        rest = {k: v for k, v in r.items() if k not in ("start", "end", "days")}
        out += [{"date": str(start + dt.timedelta(days=i)), **rest} for i in range((end - start).days + 1)]
    return out
