"""Heads inside a forecast: what ``ocean forecast --heads NAME[,NAME]`` runs.

The forecast rolls the backbone out once. For every lead it hands the
:class:`HeadSet` the previous and the new physical state, the forcing of the
new day and the lead's index; the set computes the backbone features of that
step once (``features(previous, forcing)``, the step that produced the new
state) when any head needs them and passes a :class:`LeadStep` to each
head's runner. After the last lead each runner returns an ``xarray.Dataset``
with dims ``init_time, lead_time, ...`` that the workflow writes as a group
of the forecast store (``ForecastWriter.write_group(name, ds)``)::

    heads = prepare_heads(["downscaling"], forecaster, model_dir, init, leads)   # before the rollout
    for i, state in enumerate(rollout):
        heads.step(i, previous, state, forcing[:, i])
        previous = state
    for name, ds in heads.results(): writer.write_group(name, ds)

A runner implements :class:`HeadRunner`. Where a head's weights come from
(:func:`resolve_head_dir`): ``NAME=DIR`` on the command line, else
``MODEL_DIR/heads/NAME`` beside the backbone, else a directory the head ships
(``HeadSpec.packaged``) trained on this very backbone (same sha256).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
import torch
import xarray as xr

from downstream.checkpoint import head_peft, load_head
from downstream.frozen import FrozenBackbone
from downstream.registry import get_head, list_heads
from ocean.checkpoint import ModelMetadata, read_metadata
from ocean.errors import ConfigError

__all__ = ["ForecastContext", "LeadStep", "HeadRunner", "HeadSet", "prepare_heads", "resolve_head_dir",
           "parse_head_specs", "forecast_coords"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForecastContext:
    """What a runner knows about the forecast it runs in."""

    init: np.datetime64
    leads: int
    backbone: FrozenBackbone
    head_dir: Path


@dataclass(frozen=True)
class LeadStep:
    """One lead of the rollout, physical units, ``(b, channels, lat, lon)`` on the backbone grid.

    ``features`` are the backbone's decoder features ``(b, d_dec, h_tok,
    w_tok)`` of the step ``previous`` -> ``state`` (None when no head asks).
    """

    index: int  # 0-based; lead day index + 1
    valid_time: np.datetime64
    previous: torch.Tensor
    state: torch.Tensor
    forcing: torch.Tensor
    features: torch.Tensor | None


class HeadRunner(Protocol):
    """A head at forecast time: fed every lead, returns its fields at the end."""

    needs_features: bool

    def step(self, lead: LeadStep) -> None: ...

    def result(self) -> xr.Dataset: ...


def forecast_coords(init: np.datetime64, leads: int) -> dict:
    """``init_time``, ``lead_time`` and ``valid_time`` as the forecast store has them."""
    init = np.datetime64(init, "ns")
    lead = (np.arange(1, leads + 1) * np.timedelta64(1, "D")).astype("timedelta64[ns]")
    return {"init_time": ("init_time", [init]), "lead_time": ("lead_time", lead),
            "valid_time": (("init_time", "lead_time"), (init + lead)[None, :])}


def parse_head_specs(specs: Sequence[str]) -> list[tuple[str, Path | None]]:
    """``["downscaling", "waves=DIR"]`` -> ``[("downscaling", None), ("waves", Path("DIR"))]``."""
    out = []
    for s in specs:
        name, _, where = str(s).partition("=")
        name = name.strip()
        if not name:
            raise ConfigError(f"--heads: empty head name in {list(specs)}; known heads: {', '.join(list_heads())}")
        get_head(name)  # unknown names fail here, before anything runs
        out.append((name, Path(where) if where else None))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"--heads names a head twice: {names}")
    return out


def resolve_head_dir(name: str, explicit: Path | None, model_dir: Path | None, backbone_sha: str) -> Path:
    """Where head ``name``'s weights are (see the module docstring)."""
    if explicit is not None:
        return explicit
    beside = [Path(model_dir) / "heads" / name] if model_dir is not None else []
    packaged = list(get_head(name).packaged)
    for path in beside:  # whatever is there is checked against the backbone when loaded
        if (path / "metadata.json").is_file():
            return path
    for path in packaged:  # a shipped head is used only on the backbone it was trained on
        if (path / "metadata.json").is_file() and \
                read_metadata(path).provenance.get("backbone_sha256") == backbone_sha:
            return path
    candidates = beside + packaged
    raise ConfigError(f"no trained {name!r} head for this backbone (sha256 {backbone_sha[:16]}...): looked in "
                      f"{', '.join(str(p) for p in candidates) or 'nowhere'}. Train one with `ocean train head "
                      f"{name} --config configs/train/{name}_*.yaml` and pass --heads {name}=HEAD_DIR")


class HeadSet:
    """The heads of one forecast; computes each distinct backbone's features once per lead."""

    def __init__(self, runners: list[tuple[str, HeadRunner, FrozenBackbone]], init: np.datetime64):
        self.runners, self.init = runners, np.datetime64(init, "ns")

    def __bool__(self) -> bool:
        return bool(self.runners)

    @property
    def names(self) -> list[str]:
        return [n for n, _, _ in self.runners]

    @torch.no_grad()
    def step(self, index: int, previous: torch.Tensor, state: torch.Tensor, forcing: torch.Tensor) -> None:
        cache: dict[int, torch.Tensor] = {}
        valid = self.init + np.timedelta64(index + 1, "D")
        for _, runner, bb in self.runners:
            feats = None
            if runner.needs_features:
                if id(bb) not in cache:
                    cache[id(bb)] = bb.features(bb.normalise_state(previous), bb.normalise_forcing(forcing))
                feats = cache[id(bb)]
            runner.step(LeadStep(index, valid, previous, state, forcing, feats))

    def results(self) -> list[tuple[str, xr.Dataset]]:
        return [(name, runner.result()) for name, runner, _ in self.runners]


def prepare_heads(specs: Sequence[str], forecaster, model_dir: Path | None, init, leads: int) -> HeadSet:
    """Resolve, load and check every requested head before the rollout starts.

    Heads share one frozen view of the forecast's backbone; a head trained
    with PEFT gets its own tuned copy. Unknown names, missing weights and a
    head trained on another backbone are errors (exit 3) raised here.
    """
    parsed = parse_head_specs(specs)
    shared = FrozenBackbone(forecaster, source=model_dir)
    runners = []
    for name, explicit in parsed:
        head_dir = resolve_head_dir(name, explicit, model_dir, shared.sha256)
        meta: ModelMetadata = read_metadata(head_dir)
        peft = head_peft(meta)
        bb = shared if not peft.enabled else FrozenBackbone(copy.deepcopy(forecaster), source=model_dir, peft=peft)
        head, meta = load_head(head_dir, bb, name)
        context = ForecastContext(np.datetime64(init, "ns"), int(leads), bb, head_dir)
        runners.append((name, get_head(name).runner(head, meta, context), bb))
        log.info("head %s: %s (sha256 %s)", name, head_dir, meta.weights_sha256[:12])
    return HeadSet(runners, init)
