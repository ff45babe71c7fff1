"""Real model directories and cubes for the operations tests (no training: an untrained tiny backbone).

An untrained backbone predicts a zero tendency (its output layer starts at
zero), so its forecast is persistence of the initial state: a sound model
whose output passes every check. Tests break one thing at a time and write
the result as ``ocean export`` would (sealed), or tamper with the files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from forecast_fixtures import ROOT, synthetic_cube  # noqa: F401  (re-exported for the tests)

INIT = "2020-01-05"


def untrained_model(cube: Path, out: Path, *, state: dict | None = None, **meta_changes) -> Path:
    """A sealed model directory for ``cube``: the tiny preset, untrained; ``meta_changes`` alter its metadata."""
    from backbone.config import get_preset
    from backbone.data import describe_cube
    from backbone.forecaster import build_metadata, static_inputs
    from backbone.model import FourierMAE
    from ocean.checkpoint import save_model_dir

    info = describe_cube(str(cube))
    config = get_preset("tiny", io={"grid_shape": list(info.grid.shape), "state_channels": len(info.channels),
                                    "forcing_channels": len(info.forcing_variables),
                                    "static_channels": len(info.level_mask)})
    meta = build_metadata(config, variables=info.variables, levels=info.levels, grid=info.grid,
                          statistics=info.statistics, forcing_variables=info.forcing_variables,
                          forcing_statistics=info.forcing_statistics)
    torch.manual_seed(0)
    model = FourierMAE(config)
    model.set_geography(torch.as_tensor(info.channel_mask),
                        torch.as_tensor(static_inputs(info.level_mask, config.io.static_channels)))
    model.set_tendency_scale(torch.as_tensor(info.statistics.tendency_std / info.statistics.std, dtype=torch.float32))
    save_model_dir(out, state if state is not None else model.state_dict(), meta.replace(**meta_changes))
    return out


def edit_metadata(model_dir: Path, edit) -> None:
    """Change ``metadata.json`` in place as a person would (no re-sealing)."""
    path = model_dir / "metadata.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc, indent=1))


def ocean_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """``ocean ARGS`` in a fresh process (exit code, stdout and stderr as a cron job sees them)."""
    return subprocess.run([sys.executable, "-m", "ocean.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def forecast_args(model: Path, out: Path, *extra: str, leads: int = 3) -> list[str]:
    return ["forecast", "--model", str(model), "--init", INIT, "--out", str(out), "--leads", str(leads), *extra]


def published(root: Path) -> list[str]:
    """Everything under an output root (hidden names too), sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def hot_cube(cube: Path, out: Path, day: str = INIT, value: float = 400.0) -> Path:
    """A copy of ``cube`` whose sea temperature is ``value`` degC in every ocean cell on ``day`` (a valid Zarr)."""
    import xarray as xr

    from ocean.cube import open_statistics, write_cube

    ds = xr.open_zarr(cube).load()
    i = int(np.nonzero(ds["time"].values.astype("datetime64[D]") == np.datetime64(day))[0][0])
    thetao = ds["thetao"].values
    thetao[i] = np.where(np.isfinite(thetao[i]), value, np.nan)
    ds["thetao"] = (ds["thetao"].dims, thetao, ds["thetao"].attrs)
    return write_cube(ds, out, statistics=open_statistics(cube))
