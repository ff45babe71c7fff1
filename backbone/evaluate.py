"""Held-out skill of a backbone against persistence, in physical units.

Forecasts start every ``init_every`` days inside a period of a training
cube and run ``max(leads)`` daily steps with the cube's forcing for the
predicted days (a forced hindcast). RMSE is area-weighted (cell area),
over ocean points only, per channel and lead, averaged over starts as mean
squared error, then square-rooted::

    skill = rollout_skill(Forecaster.load("MODEL_DIR"), "CUBE", ("2007-01-01", "2007-12-31"))
    print(format_skill(skill))
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from backbone.data import describe_cube, load_period, period_indices
from backbone.forecaster import Forecaster
from ocean.errors import ConfigError

__all__ = ["Skill", "rollout_skill", "format_skill", "DEFAULT_CHANNELS", "DEFAULT_LEADS"]

log = logging.getLogger(__name__)

DEFAULT_CHANNELS = ("thetao@0.5", "thetao@100", "zos", "uo@0.5")
DEFAULT_LEADS = (1, 5, 10, 30)


@dataclass(frozen=True)
class Skill:
    """RMSE ``(channel, lead)`` of the model and of persistence, with what was scored."""

    channels: tuple[str, ...]
    leads: tuple[int, ...]
    model: np.ndarray
    persistence: np.ndarray
    starts: int
    period: tuple[str, str]

    def as_rows(self) -> list[dict]:
        return [{"channel": c, "lead": lead, "model": float(self.model[i, j]),
                 "persistence": float(self.persistence[i, j])}
                for i, c in enumerate(self.channels) for j, lead in enumerate(self.leads)]


def rollout_skill(fc: Forecaster, cube: str, period: tuple[str, str], leads: Sequence[int] = DEFAULT_LEADS,
                  channels: Sequence[str] = DEFAULT_CHANNELS, init_every: int = 5, batch_size: int = 16) -> Skill:
    """Score ``fc`` on ``period`` of ``cube``; see the module docstring."""
    info = describe_cube(cube, fc.metadata.variables, fc.metadata.forcing_variables)
    fc.check_data(info.variables, info.levels, info.grid, info.forcing_variables)
    leads = tuple(sorted(int(x) for x in leads))
    idx = [fc.metadata.channels.index(c) for c in channels]
    lo, hi = period_indices(info.times, period, cube)
    starts = np.arange(lo, hi - leads[-1], init_every)
    if starts.size == 0:
        raise ConfigError(f"period {period} holds {hi - lo} days: too few for a {leads[-1]}-day forecast")
    state_n, forcing_n = load_period(info, lo, hi)  # normalised with the cube's statistics
    state = info.statistics.denormalise(state_n, channel_axis=1) * info.channel_mask[None]
    forcing = info.forcing_statistics.denormalise(forcing_n, channel_axis=1)
    mask = torch.as_tensor(info.channel_mask[idx])
    area = torch.as_tensor(info.grid.cell_area(), dtype=torch.float64)
    w = area[None] * mask  # (c, y, x)
    w = w / w.sum(dim=(1, 2), keepdim=True)
    sq_model = np.zeros((len(idx), len(leads)))
    sq_pers = np.zeros_like(sq_model)
    device = fc.model.ocean_mask.device
    for b0 in range(0, starts.size, batch_size):
        s = starts[b0:b0 + batch_size] - lo
        x0 = torch.as_tensor(state[s]).to(device)
        f = torch.as_tensor(np.stack([forcing[t + 1:t + 1 + leads[-1]] for t in s])).to(device)
        for k, pred in enumerate(fc.rollout(x0, f), start=1):
            if k not in leads:
                continue
            j = leads.index(k)
            truth = torch.as_tensor(state[s + k][:, idx], dtype=torch.float64)
            err_m = (pred[:, idx].double().cpu() - truth) ** 2
            err_p = (x0[:, idx].double().cpu() - truth) ** 2
            sq_model[:, j] += (err_m * w).sum(dim=(2, 3)).sum(0).numpy()
            sq_pers[:, j] += (err_p * w).sum(dim=(2, 3)).sum(0).numpy()
        log.info("scored starts %d..%d of %d", b0 + 1, min(b0 + batch_size, starts.size), starts.size)
    n = starts.size
    return Skill(tuple(channels), leads, np.sqrt(sq_model / n), np.sqrt(sq_pers / n), int(n),
                 (str(period[0]), str(period[1])))


def format_skill(skill: Skill, units: dict | None = None) -> str:
    """A Markdown table: channel, lead, model RMSE, persistence RMSE, ratio."""
    from ocean.normalize import split_channel
    from ocean.variables import get as get_variable

    lines = ["| channel | lead (days) | model RMSE | persistence RMSE | model / persistence |",
             "|---|---:|---:|---:|---:|"]
    for r in skill.as_rows():
        unit = (units or {}).get(r["channel"]) or get_variable(split_channel(r["channel"])[0]).units
        ratio = r["model"] / r["persistence"] if r["persistence"] > 0 else float("nan")
        lines.append(f"| {r['channel']} ({unit}) | {r['lead']} | {r['model']:.4g} | {r['persistence']:.4g} | "
                     f"{ratio:.3f} |")
    return "\n".join(lines)
