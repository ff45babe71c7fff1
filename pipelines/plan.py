"""Which source provides which day: joining, concatenating and the missing-day policy.

Sources with the same variables form a *provider group* whose members
are concatenated in time (a day found in two members is an overlap and
is refused). For each wanted day, every group must provide it; when one
does not, the recipe's ``missing`` policy decides:

* ``refuse`` -- the build (or append) fails, listing the missing days;
* ``persist`` -- the group's previous day is repeated (at most
  ``max_gap_days`` in a row), and the day is recorded in the cube's
  ``gaps`` attribute with ``policy: persist``; such days are left out of
  the statistics;
* ``skip`` -- the day is left out of the cube (its time axis then has a
  hole) and recorded with ``policy: skip``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from ocean.errors import DataError
from pipelines.recipe import MissingPolicy

__all__ = ["Provider", "Choice", "DayPlan", "plan_days", "groups_of", "CUBE"]

#: The provider name used when a persisted day is copied from the cube itself (append).
CUBE = "<cube>"


class Provider(Protocol):
    """What a source offers the plan (gridded and swath sources both do)."""

    @property
    def name(self) -> str: ...

    spec: object

    def available(self, days: np.ndarray) -> np.ndarray: ...

    def file_of(self, day) -> str: ...


@dataclass(frozen=True)
class Choice:
    """For one group and each output day: the source name and the source day used."""

    sources: tuple[str, ...]
    days: tuple[str, ...]


@dataclass(frozen=True)
class DayPlan:
    days: tuple[str, ...]  # ISO dates written, increasing
    choices: tuple[tuple[tuple[str, ...], Choice], ...]  # (group variables, choice)
    gaps: tuple[dict, ...]

    @property
    def filled(self) -> tuple[str, ...]:
        """Days whose values are persisted from an earlier day."""
        return tuple(g["date"] for g in self.gaps if g["policy"] == "persist")

    def choice(self, variables: tuple[str, ...]) -> Choice:
        return dict(self.choices)[variables]

    def subset(self, start: int, stop: int) -> "DayPlan":
        """Days ``start:stop`` of the plan (gaps are the whole plan's business)."""
        return DayPlan(self.days[start:stop], tuple((g, Choice(c.sources[start:stop], c.days[start:stop]))
                                                     for g, c in self.choices), ())


def groups_of(providers: Sequence[Provider]) -> dict[tuple[str, ...], list[Provider]]:
    """Providers keyed by their (sorted) variables: members of a group are concatenated."""
    out: dict[tuple[str, ...], list[Provider]] = {}
    for p in providers:
        out.setdefault(tuple(sorted(p.spec.variables)), []).append(p)
    return out


def plan_days(days: Sequence[dt.date | str | np.datetime64], providers: Sequence[Provider],
              policy: MissingPolicy, previous: str | None = None) -> DayPlan:
    """Decide, day by day, where each group's values come from.

    ``previous`` is the cube's last day when appending: a persisted day is
    then copied from the cube (provider :data:`CUBE`).
    """
    wanted = np.asarray([np.datetime64(d, "D") for d in days])
    groups = groups_of(providers)
    have = {g: _who_has(members, wanted) for g, members in groups.items()}
    kept, gaps = [], []
    chosen: dict[tuple, list[tuple[str, str]]] = {g: [] for g in groups}
    last: dict[tuple, tuple[str, str] | None] = {g: (CUBE, previous) if previous else None for g in groups}
    run = {g: 0 for g in groups}
    refused: dict[str, list[str]] = {}
    for i, day in enumerate(wanted):
        iso = str(day)
        missing = [g for g in groups if have[g][i] is None]
        if not missing:
            kept.append(iso)
            for g in groups:
                chosen[g].append((have[g][i], iso))
                last[g], run[g] = chosen[g][-1], 0
            continue
        names = sorted(m.name for g in missing for m in groups[g])
        if policy.policy == "refuse":
            for g in missing:
                refused.setdefault("/".join(m.name for m in groups[g]), []).append(iso)
            continue
        _count_gap(run, missing, policy, iso, names[0])
        if policy.policy == "skip":
            gaps.append({"date": iso, "policy": "skip", "missing": names})
            continue
        unfillable = [g for g in missing if last[g] is None]
        if unfillable:
            raise DataError("cannot persist a missing first day", file=names[0],
                            found=f"{iso} missing and no earlier day to repeat",
                            expected="the first day present in every source",
                            hint="Start the recipe's dates on a day every source provides")
        kept.append(iso)
        for g in groups:
            chosen[g].append(last[g] if g in missing else (have[g][i], iso))
            if g not in missing:
                last[g], run[g] = chosen[g][-1], 0
        gaps.append({"date": iso, "policy": "persist", "missing": names,
                     "filled_from": {"/".join(m.name for m in groups[g]): last[g][1] for g in missing}})
    _refuse_empty(refused, kept, gaps, wanted)
    choices = tuple((g, Choice(tuple(s for s, _ in chosen[g]), tuple(d for _, d in chosen[g]))) for g in groups)
    return DayPlan(tuple(kept), choices, tuple(gaps))


def _count_gap(run: dict, missing: list, policy: MissingPolicy, iso: str, name: str) -> None:
    for g in missing:
        run[g] += 1
        if policy.max_gap_days is not None and run[g] > policy.max_gap_days:
            raise DataError(f"more than {policy.max_gap_days} missing days in a row", file=name,
                            found=f"{run[g]} days missing up to {iso}",
                            expected=f"at most max_gap_days={policy.max_gap_days}",
                            hint="Fetch the missing files or raise missing.max_gap_days in the recipe")


def _refuse_empty(refused: dict, kept: list, gaps: list, wanted: np.ndarray) -> None:
    """Fail for refused days (policy refuse) or when no day is left to write."""
    if refused:
        detail = "; ".join(f"{k}: {len(v)} days ({', '.join(v[:5])}{', ...' if len(v) > 5 else ''})"
                           for k, v in refused.items())
        raise DataError("days missing from the sources", found=detail, expected="every recipe date in every source",
                        hint="Fetch the missing files, or set missing.policy to persist or skip in the recipe")
    if not kept:
        short = sorted({n for g in gaps for n in g["missing"]})
        raise DataError("no day to write", found=f"{len(wanted)} days requested ({', '.join(map(str, wanted[:3]))}"
                        f"{', ...' if len(wanted) > 3 else ''}), all missing from {', '.join(short)}",
                        expected="at least one day every source provides",
                        hint="Check the sources' files for these dates")


def _who_has(members: Sequence[Provider], wanted: np.ndarray) -> list[str | None]:
    """For each wanted day, the one member providing it (two members: an overlap)."""
    flags = np.stack([np.asarray(m.available(wanted), dtype=bool) for m in members])
    both = np.nonzero(flags.sum(axis=0) > 1)[0]
    if both.size:
        day = wanted[both[0]]
        who = [m for m, f in zip(members, flags[:, both[0]]) if f]
        raise DataError("overlapping dates between concatenated sources",
                        file=" and ".join(m.file_of(day) for m in who),
                        found=f"{both.size} days (first {day}) in {', '.join(m.name for m in who)}",
                        expected="each date in exactly one source of the same variables",
                        hint="Give the sources disjoint start/end dates in the recipe")
    return [members[int(np.argmax(flags[:, i]))].name if flags[:, i].any() else None
            for i in range(wanted.size)]
