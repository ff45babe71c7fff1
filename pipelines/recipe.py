"""Data recipes: YAML in ``configs/data/`` parsed into frozen dataclasses.

A recipe says which files to read (``sources``), onto which ``grid`` and
``levels``, for which ``dates``, over which period the normalisation
``statistics`` are computed, what to do when a day is missing (``missing``)
and how to compute (``compute``). ``load_recipe`` is the typed loader used
at the CLI boundary: everything past it receives a :class:`Recipe`, never a
dict. docs/pipeline.md has the annotated schema.

Sources with different variables are joined; sources with the same
variables are concatenated in time (their dates must not overlap).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from ocean import variables as V
from ocean.errors import ConfigError
from ocean.grid import Grid
from ocean.levels import Levels, resolve as resolve_levels

__all__ = ["KINDS", "SCHEDULERS", "POLICIES", "SourceSpec", "MissingPolicy", "RegridOptions",
           "ComputeOptions", "Recipe", "load_recipe", "parse_recipe", "parse_date"]

KINDS = ("reanalysis", "forcing", "sst_l4", "swath", "bathymetry")
SCHEDULERS = ("auto", "local-cluster", "processes", "synchronous")
POLICIES = ("refuse", "persist", "skip")
METHODS = ("auto", "conservative", "linear")
_PRODUCT = {"reanalysis": "glorys", "forcing": "era5", "sst_l4": "ostia", "swath": "altimetry",
            "bathymetry": "bathymetry"}
_VARIABLES = {"reanalysis": V.PROGNOSTIC, "forcing": V.FORCING, "sst_l4": ("sst",), "bathymetry": ("deptho",)}
_SOURCE_KEYS = {"name", "kind", "product", "files", "variables", "start", "end", "frequency",
                "time_interpolation", "min_records_per_day", "regrid", "names", "resampler",
                "radius_km", "sigma_km"}
_TOP_KEYS = {"name", "description", "root", "grid", "levels", "dates", "statistics", "missing",
             "regrid", "compute", "sources"}


@dataclass(frozen=True)
class SourceSpec:
    """One input: a producer's files of one kind.

    ``kind`` is one of :data:`KINDS`; ``product`` names a lexicon of
    ``ocean.variables`` (``glorys``, ``hycom``, ``era5``, ``ostia``,
    ``ersst``, ``altimetry``, ``bathymetry``). ``files`` are absolute
    paths or glob patterns. ``start``/``end`` restrict the dates taken from
    this source (to concatenate products). ``frequency`` is ``daily`` or
    ``monthly`` (monthly records are spread over days by
    ``time_interpolation``: ``step`` or ``linear``). Swath sources name
    their file variables in ``names`` (canonical -> file name) and choose
    a ``resampler`` (``bucket`` average plus count, or ``gaussian``).
    """

    name: str
    kind: str
    product: str
    files: tuple[str, ...]
    variables: tuple[str, ...]
    start: dt.date | None = None
    end: dt.date | None = None
    frequency: str = "daily"
    time_interpolation: str = "step"
    min_records_per_day: int = 1
    regrid: str = "auto"
    names: tuple[tuple[str, str], ...] = ()
    resampler: str = "bucket"
    radius_km: float = 50.0
    sigma_km: float = 25.0

    def file_name(self, canonical: str) -> str | None:
        return dict(self.names).get(canonical)


@dataclass(frozen=True)
class MissingPolicy:
    """What a missing day does: ``refuse`` (default), ``persist`` (repeat the
    previous day, recorded) or ``skip`` (leave the day out, recorded).
    ``max_gap_days`` bounds consecutive persisted or skipped days (None: no bound)."""

    policy: str = "refuse"
    max_gap_days: int | None = None


@dataclass(frozen=True)
class RegridOptions:
    """``method``: auto (conservative when coarsening, linear when refining);
    ``coverage``: the least ocean fraction of a target cell that gets a value."""

    method: str = "auto"
    coverage: float = 0.5


@dataclass(frozen=True)
class ComputeOptions:
    """Where the graph runs: a ``dask.distributed`` scheduler at ``address``,
    or a local ``scheduler`` (see docs/pipeline.md for why not threads)."""

    scheduler: str = "auto"
    workers: int | None = None
    memory_limit: str | None = None
    address: str | None = None
    progress: bool = True
    batch_days: int | None = None  # days per write batch (None: chosen from the day's size and the workers)


@dataclass(frozen=True)
class Recipe:
    name: str
    grid: Grid
    levels: Levels
    dates: tuple[dt.date, ...]
    sources: tuple[SourceSpec, ...]
    statistics: tuple[dt.date, dt.date]
    missing: MissingPolicy = field(default_factory=MissingPolicy)
    regrid: RegridOptions = field(default_factory=RegridOptions)
    compute: ComputeOptions = field(default_factory=ComputeOptions)
    description: str = ""
    path: str | None = None
    document: str = "{}"

    @property
    def variables(self) -> tuple[str, ...]:
        """Every variable the cube holds (swath sources add ``{var}_count``)."""
        out = []
        for s in self.sources:
            if s.kind == "bathymetry":
                continue
            out.extend(s.variables)
            if s.kind == "swath":
                out.extend(f"{v}_count" for v in s.variables)
        return tuple(dict.fromkeys(out))

    @property
    def bathymetry(self) -> SourceSpec | None:
        return next((s for s in self.sources if s.kind == "bathymetry"), None)

    def with_compute(self, **changes) -> "Recipe":
        """A copy with compute options changed (CLI flags override the YAML)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return replace(self, compute=replace(self.compute, **changes))


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def load_recipe(path: "str | os.PathLike", root: "str | os.PathLike | None" = None) -> Recipe:
    """Read a recipe file; relative source paths resolve against ``root``
    (default: the recipe's ``root`` key, else the recipe's folder)."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"recipe not found: {path}; the shipped recipes are in configs/data/") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    return parse_recipe(doc, base=path.parent, root=root, label=str(path))


def parse_recipe(doc: Any, *, base: "str | os.PathLike" = ".", root=None, label: str = "recipe") -> Recipe:
    """Validate a parsed YAML document and build the :class:`Recipe`."""
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{label}: expected a mapping at the top level, found {type(doc).__name__}")
    _check_keys(doc, _TOP_KEYS, label)
    root_dir = Path(_expand(str(root if root is not None else doc.get("root", "."))))
    root_dir = root_dir if root_dir.is_absolute() else (Path(base) / root_dir)
    try:
        grid = Grid.from_spec(_require(doc, "grid", label))
        levels = resolve_levels(doc.get("levels"))
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"{label}: bad grid or levels: {exc}") from None
    dates = _parse_dates(_require(doc, "dates", label), label)
    sources = tuple(_parse_source(s, i, root_dir, f"{label}: sources[{i}]")
                    for i, s in enumerate(_list(_require(doc, "sources", label), f"{label}: sources",
                                                "a list of sources ({name: ..., kind: ..., files: ...})")))
    if not any(s.kind != "bathymetry" for s in sources):
        raise ConfigError(f"{label}: no data sources; expected at least one of kinds {KINDS[:-1]}")
    _check_sources(sources, label)
    return Recipe(
        name=str(doc.get("name", Path(label).stem)), grid=grid, levels=levels, dates=dates,
        sources=sources, statistics=_parse_period(doc.get("statistics"), dates, label),
        missing=_parse_missing(doc.get("missing"), label), regrid=_parse_regrid(doc.get("regrid"), label),
        compute=_parse_compute(doc.get("compute"), label), description=str(doc.get("description", "")),
        path=label, document=json.dumps(doc, default=str, sort_keys=True),
    )


def parse_date(value: Any, label: str = "date") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ConfigError(f"{label}: cannot read a date from {value!r}; expected YYYY-MM-DD") from None


def _parse_dates(spec: Any, label: str) -> tuple[dt.date, ...]:
    if isinstance(spec, Mapping):
        _check_keys(spec, {"start", "end"}, f"{label}: dates")
        start = parse_date(_require(spec, "start", f"{label}: dates"), f"{label}: dates.start")
        end = parse_date(spec.get("end", start), f"{label}: dates.end")
        if end < start:
            raise ConfigError(f"{label}: dates end {end} is before start {start}")
        return tuple(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    if isinstance(spec, Sequence) and not isinstance(spec, str) and spec:
        days = [parse_date(d, f"{label}: dates") for d in spec]
        if any(b <= a for a, b in zip(days, days[1:])):
            raise ConfigError(f"{label}: dates must be increasing without duplicates; found "
                              f"{[str(d) for d in days]}")
        return tuple(days)
    raise ConfigError(f"{label}: dates must be {{start: YYYY-MM-DD, end: YYYY-MM-DD}} or a list of "
                      f"dates; found {spec!r}")


def _parse_period(spec: Any, dates: tuple[dt.date, ...], label: str) -> tuple[dt.date, dt.date]:
    spec = spec or {}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{label}: statistics must be {{start: ..., end: ...}}, found {spec!r}")
    _check_keys(spec, {"start", "end"}, f"{label}: statistics")
    start = parse_date(spec.get("start", dates[0]), f"{label}: statistics.start")
    end = parse_date(spec.get("end", dates[-1]), f"{label}: statistics.end")
    if start > end or end < dates[0] or start > dates[-1]:
        raise ConfigError(f"{label}: the statistics period {start}..{end} does not overlap the recipe's "
                          f"dates {dates[0]}..{dates[-1]}")
    return start, end


def _parse_source(spec: Any, i: int, root: Path, label: str) -> SourceSpec:
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{label}: expected a mapping, found {spec!r}")
    _check_keys(spec, _SOURCE_KEYS, label)
    kind = _choice(spec.get("kind", "reanalysis"), KINDS, f"{label}: kind")
    product = str(spec.get("product", _PRODUCT[kind]))
    if product not in V.LEXICONS:
        raise ConfigError(f"{label}: unknown product {product!r}; known: {', '.join(sorted(V.LEXICONS))}")
    files = spec.get("files")
    files = [files] if isinstance(files, str) else files
    if files and not (isinstance(files, Sequence) and all(isinstance(f, str) for f in files)):
        raise ConfigError(f"{label}: files: found {files!r}, expected a path or glob, or a list of them")
    if not files:
        raise ConfigError(f"{label}: 'files' is required (a path or glob, or a list of them)")
    files = tuple(str(p if p.is_absolute() else root / p) for p in (Path(_expand(str(f))) for f in files))
    default_vars = _VARIABLES.get(kind) or tuple(V.lexicon(product).variables)
    variables = spec.get("variables") or default_vars
    variables = tuple(_list([variables] if isinstance(variables, str) else variables, f"{label}: variables",
                            "a list of catalogue names (e.g. [thetao, so])"))
    for v in variables:
        if v not in V.CATALOGUE:
            raise ConfigError(f"{label}: unknown variable {v!r}; the catalogue knows "
                              f"{', '.join(sorted(V.CATALOGUE))}")
    frequency = spec.get("frequency", V.lexicon(product).frequency or "daily")
    names = spec.get("names") or {}
    if not isinstance(names, Mapping):
        raise ConfigError(f"{label}: names must map canonical names to file variable names")
    return SourceSpec(
        name=str(spec.get("name", f"{kind}{i}")), kind=kind, product=product, files=files,
        variables=variables,
        start=parse_date(spec["start"], f"{label}: start") if spec.get("start") else None,
        end=parse_date(spec["end"], f"{label}: end") if spec.get("end") else None,
        frequency=_choice(frequency, ("daily", "monthly"), f"{label}: frequency"),
        time_interpolation=_choice(spec.get("time_interpolation", "step"), ("step", "linear"),
                                   f"{label}: time_interpolation"),
        min_records_per_day=_positive_int(spec.get("min_records_per_day", 1), f"{label}: min_records_per_day"),
        regrid=_choice(spec.get("regrid", "auto"), METHODS, f"{label}: regrid"),
        names=tuple(sorted((str(k), str(v)) for k, v in names.items())),
        resampler=_choice(spec.get("resampler", "bucket"), ("bucket", "gaussian"), f"{label}: resampler"),
        radius_km=_number(spec.get("radius_km", 50.0), f"{label}: radius_km", "a distance in km (e.g. 50)"),
        sigma_km=_number(spec.get("sigma_km", 25.0), f"{label}: sigma_km", "a distance in km (e.g. 25)"),
    )


def _check_sources(sources: tuple[SourceSpec, ...], label: str) -> None:
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise ConfigError(f"{label}: source names must be unique; found {names}")
    if sum(s.kind == "bathymetry" for s in sources) > 1:
        raise ConfigError(f"{label}: at most one bathymetry source; found "
                          f"{[s.name for s in sources if s.kind == 'bathymetry']}")
    data = [s for s in sources if s.kind != "bathymetry"]
    for a_i, a in enumerate(data):
        for b in data[a_i + 1:]:
            shared = set(a.variables) & set(b.variables)
            if not shared:
                continue
            if set(a.variables) != set(b.variables):
                raise ConfigError(
                    f"{label}: sources {a.name!r} and {b.name!r} share {sorted(shared)} but not all their "
                    "variables; sources are either joined (disjoint variables) or concatenated in time "
                    "(the same variables, disjoint dates)")
            if a.kind != b.kind:
                raise ConfigError(f"{label}: sources {a.name!r} ({a.kind}) and {b.name!r} ({b.kind}) "
                                  "provide the same variables but are of different kinds")
            if _ranges_overlap(a, b):
                raise ConfigError(
                    f"{label}: sources {a.name!r} and {b.name!r} provide the same variables and their "
                    f"date ranges overlap ({a.start}..{a.end} and {b.start}..{b.end}); give each a "
                    "disjoint start/end")


def _ranges_overlap(a: SourceSpec, b: SourceSpec) -> bool:
    """Declared ranges that overlap (sources without start/end are checked on their data)."""
    if (a.start is None and a.end is None) or (b.start is None and b.end is None):
        return False
    lo_a, hi_a = a.start or dt.date.min, a.end or dt.date.max
    lo_b, hi_b = b.start or dt.date.min, b.end or dt.date.max
    return lo_a <= hi_b and lo_b <= hi_a


def _parse_missing(spec: Any, label: str) -> MissingPolicy:
    if spec is None:
        return MissingPolicy()
    if isinstance(spec, str):
        spec = {"policy": spec}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{label}: missing must be a policy name or {{policy: ..., max_gap_days: N}}")
    _check_keys(spec, {"policy", "max_gap_days"}, f"{label}: missing")
    gap = spec.get("max_gap_days")
    if gap is not None and (isinstance(gap, bool) or not isinstance(gap, int) or gap < 0):
        raise ConfigError(f"{label}: missing.max_gap_days: expected a whole number >= 0, found {gap!r}")
    return MissingPolicy(_choice(spec.get("policy", "refuse"), POLICIES, f"{label}: missing.policy"), gap)


def _parse_regrid(spec: Any, label: str) -> RegridOptions:
    spec = spec or {}
    _check_keys(spec, {"method", "coverage"}, f"{label}: regrid")
    coverage = _number(spec.get("coverage", 0.5), f"{label}: regrid.coverage", "a fraction in (0, 1], e.g. 0.5")
    if not 0.0 < coverage <= 1.0:
        raise ConfigError(f"{label}: regrid.coverage must be in (0, 1], found {coverage}")
    return RegridOptions(_choice(spec.get("method", "auto"), METHODS, f"{label}: regrid.method"), coverage)


def _parse_compute(spec: Any, label: str) -> ComputeOptions:
    spec = spec or {}
    _check_keys(spec, {"scheduler", "workers", "memory_limit", "address", "progress", "batch_days"},
                f"{label}: compute")
    workers, batch = spec.get("workers"), spec.get("batch_days")
    return ComputeOptions(
        scheduler=_choice(spec.get("scheduler", "auto"), SCHEDULERS, f"{label}: compute.scheduler"),
        workers=None if workers is None else _positive_int(workers, f"{label}: compute.workers"),
        memory_limit=_text(spec.get("memory_limit"), f"{label}: compute.memory_limit", "a size such as '4GB'"),
        address=_text(spec.get("address"), f"{label}: compute.address", "a scheduler address (tcp://host:8786)"),
        progress=_flag(spec.get("progress", True), f"{label}: compute.progress"),
        batch_days=None if batch is None else _positive_int(batch, f"{label}: compute.batch_days"),
    )


def _require(doc: Mapping, key: str, label: str) -> Any:
    if key not in doc:
        raise ConfigError(f"{label}: the key {key!r} is required (see docs/pipeline.md for the schema)")
    return doc[key]


def _check_keys(doc: Mapping, allowed: set[str], label: str) -> None:
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{label}: expected a mapping, found {doc!r}")
    unknown = sorted(set(map(str, doc)) - allowed)
    if unknown:
        raise ConfigError(f"{label}: unknown keys {unknown}; allowed: {sorted(allowed)}")


def _choice(value: Any, allowed: Sequence[str], label: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{label}: found {value!r}, expected one of {list(allowed)}")
    return str(value)


def _list(value: Any, label: str, expected: str) -> list:
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise ConfigError(f"{label}: found {value!r} ({type(value).__name__}), expected {expected}")
    return list(value)


def _number(value: Any, label: str, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{label}: found {value!r} ({type(value).__name__}), expected {expected}")
    return float(value)


def _flag(value: Any, label: str) -> bool:
    """A YAML boolean (true/false, yes/no unquoted); a quoted 'no' is a string, not false."""
    if not isinstance(value, bool):
        raise ConfigError(f"{label}: found {value!r} ({type(value).__name__}), expected true or false "
                          "(unquoted)")
    return value


def _text(value: Any, label: str, expected: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{label}: found {value!r} ({type(value).__name__}), expected {expected}")
    return value


def _positive_int(value: Any, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{label}: expected a positive integer, found {value!r}")
    return value


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand(text: str) -> str:
    """``${NAME}`` and ``${NAME:-default}`` from the environment; ``~`` to home."""
    def sub(m: re.Match) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            if m.group(2) is None:
                raise ConfigError(f"the environment variable {m.group(1)} is not set; set it or write "
                                  f"${{{m.group(1)}:-default}} in the recipe")
            return m.group(2)
        return value
    return os.path.expanduser(_VAR.sub(sub, text))
