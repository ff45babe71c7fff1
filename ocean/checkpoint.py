"""Model directories: safetensors weights plus a JSON metadata document.

The one format every trained model of the project is shipped in (backbone
and heads alike; DESIGN.md "Stores -> Checkpoint")::

    MODEL_DIR/
      model.safetensors   weights and buffers (no pickle anywhere)
      metadata.json       :class:`ModelMetadata`: format version, kind, preset
                          and full config, variables, forcing variables,
                          levels, grid, channel order, normalisation
                          statistics, training-data provenance, package
                          versions and the sha256 of model.safetensors

The sha256 names the exact weights: a head records the hash of the backbone
it was trained on and can refuse another one. :func:`check_compatible`
refuses data whose variables, levels or grid differ from the model's with a
:class:`~ocean.errors.ModelMismatchError` naming both sides.

Lightning checkpoints are for resuming training only;
:func:`export_lightning_checkpoint` turns one into a model directory (it
reads it with ``torch.load(..., weights_only=True)``, which unpickles only
tensors and plain containers). Loading a model directory never unpickles.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from ocean.errors import DataError, ModelMismatchError
from ocean.grid import Grid
from ocean.levels import Levels
from ocean.normalize import Statistics
from ocean.store import atomic_path

__all__ = [
    "FORMAT_VERSION",
    "WEIGHTS_FILE",
    "METADATA_FILE",
    "LIGHTNING_METADATA_KEY",
    "ModelMetadata",
    "save_model_dir",
    "load_model_dir",
    "read_metadata",
    "weights_sha256",
    "check_compatible",
    "package_versions",
    "export_lightning_checkpoint",
    "load_lightning_checkpoint",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = "ocean-forecast-model/1"
WEIGHTS_FILE = "model.safetensors"
METADATA_FILE = "metadata.json"
#: Key under which a LightningModule stores the metadata dict in its checkpoints.
LIGHTNING_METADATA_KEY = "ocean_model_metadata"


@dataclass(frozen=True)
class ModelMetadata:
    """Everything needed to rebuild a model and to check it against data."""

    kind: str  # "backbone", "head/waves", ...
    preset: str
    config: dict
    variables: tuple[str, ...]
    grid: Grid
    levels: Levels | None = None
    forcing_variables: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    forcing_channels: tuple[str, ...] = ()
    statistics: Statistics | None = None
    forcing_statistics: Statistics | None = None
    provenance: dict = field(default_factory=dict)  # cube path, recipe, period, parent model hash, ...
    versions: dict = field(default_factory=dict)
    weights_sha256: str = ""
    created: str = ""
    format: str = FORMAT_VERSION
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("variables", "forcing_variables", "channels", "forcing_channels"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def to_dict(self) -> dict:
        return {
            "format": self.format, "kind": self.kind, "preset": self.preset, "config": self.config,
            "variables": list(self.variables), "forcing_variables": list(self.forcing_variables),
            "levels": self.levels.to_dict() if self.levels is not None else None,
            "grid": self.grid.to_dict(), "channels": list(self.channels),
            "forcing_channels": list(self.forcing_channels),
            "statistics": self.statistics.to_dict() if self.statistics is not None else None,
            "forcing_statistics": self.forcing_statistics.to_dict() if self.forcing_statistics is not None
            else None,
            "provenance": self.provenance, "versions": self.versions, "weights_sha256": self.weights_sha256,
            "created": self.created, "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, d: Mapping, source: Any = None) -> "ModelMetadata":
        fmt = d.get("format")
        if fmt != FORMAT_VERSION:
            raise DataError("unsupported model metadata format", file=source, found=repr(fmt),
                            expected=repr(FORMAT_VERSION), hint="Re-export the model with this version")
        try:
            return cls(
                kind=str(d["kind"]), preset=str(d["preset"]), config=dict(d["config"]),
                variables=tuple(d["variables"]), grid=Grid.from_dict(d["grid"]),
                levels=Levels.from_dict(d["levels"]) if d.get("levels") else None,
                forcing_variables=tuple(d.get("forcing_variables", ())), channels=tuple(d.get("channels", ())),
                forcing_channels=tuple(d.get("forcing_channels", ())),
                statistics=Statistics.from_dict(d["statistics"]) if d.get("statistics") else None,
                forcing_statistics=Statistics.from_dict(d["forcing_statistics"])
                if d.get("forcing_statistics") else None,
                provenance=dict(d.get("provenance", {})), versions=dict(d.get("versions", {})),
                weights_sha256=str(d.get("weights_sha256", "")), created=str(d.get("created", "")),
                format=fmt, extra=dict(d.get("extra", {})),
            )
        except KeyError as exc:
            raise DataError("model metadata is incomplete", file=source, found=f"no {exc.args[0]!r}",
                            expected="kind, preset, config, variables, grid") from exc

    def replace(self, **changes: Any) -> "ModelMetadata":
        return dataclasses.replace(self, **changes)


# -- versions and hashes ----------------------------------------------------------------

def package_versions() -> dict:
    """Versions of the packages that shape a model's numbers."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("ocean-forecast", "torch", "lightning", "numpy", "safetensors", "einops", "xarray", "zarr"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def weights_sha256(path: "str | os.PathLike") -> str:
    """sha256 of a weights file (or of ``model.safetensors`` in a model directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / WEIGHTS_FILE
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- save and load ----------------------------------------------------------------------

def save_model_dir(path: "str | os.PathLike", state_dict: Mapping[str, Any], metadata: ModelMetadata,
                   overwrite: bool = True) -> ModelMetadata:
    """Write ``state_dict`` and ``metadata`` as a model directory, atomically.

    Returns the metadata as written (with ``weights_sha256``, ``versions``
    and ``created`` filled in).
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.exists() and not overwrite:
        raise DataError("the model directory exists", file=path, hint="Choose another --out or remove it")
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state_dict.items()}
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.mkdir()
        save_file(tensors, str(tmp / WEIGHTS_FILE), metadata={"format": FORMAT_VERSION, "kind": metadata.kind})
        os.chmod(tmp / WEIGHTS_FILE, 0o644)  # readable like any shipped file (the writer may create it 0600)
        meta = metadata.replace(
            weights_sha256=weights_sha256(tmp / WEIGHTS_FILE),
            versions=metadata.versions or package_versions(),
            created=metadata.created or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        (tmp / METADATA_FILE).write_text(json.dumps(meta.to_dict(), indent=1, sort_keys=False))
    log.info("wrote model directory %s (%s, sha256 %s)", path, meta.kind, meta.weights_sha256[:12])
    return meta


def read_metadata(path: "str | os.PathLike") -> ModelMetadata:
    """The metadata of a model directory (no weights read)."""
    path = Path(path)
    file = path / METADATA_FILE
    if not file.is_file():
        raise DataError("not a model directory", file=path, found=sorted(p.name for p in path.glob("*"))
                        if path.is_dir() else "no such directory",
                        expected=f"{WEIGHTS_FILE} and {METADATA_FILE}",
                        hint="Export a training checkpoint with `ocean export CKPT --out MODEL_DIR`")
    try:
        d = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"metadata is not valid JSON ({exc})", file=file) from exc
    return ModelMetadata.from_dict(d, source=file)


def load_model_dir(path: "str | os.PathLike", *, verify_hash: bool = True, device: str = "cpu"
                   ) -> tuple[dict, ModelMetadata]:
    """``(state_dict, metadata)`` of a model directory; the weights' sha256 is checked."""
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_metadata(path)
    weights = path / WEIGHTS_FILE
    if not weights.is_file():
        raise DataError("the model directory has no weights", file=path, expected=WEIGHTS_FILE)
    if verify_hash and meta.weights_sha256:
        found = weights_sha256(weights)
        if found != meta.weights_sha256:
            raise DataError("the weights do not match their metadata", file=weights,
                            found=f"sha256 {found[:16]}...", expected=f"sha256 {meta.weights_sha256[:16]}...",
                            hint="The directory was modified after export; re-export it")
    return load_file(str(weights), device=device), meta


# -- compatibility ------------------------------------------------------------------------

def check_compatible(metadata: ModelMetadata, *, variables: Sequence[str] | None = None,
                     levels: Levels | None = None, grid: Grid | None = None,
                     forcing_variables: Sequence[str] | None = None, what: str = "data") -> None:
    """Raise :class:`ModelMismatchError` when the data do not match the model.

    Only the aspects given are compared; the message names both sides, e.g.
    ``checkpoint has levels [0.5, 10.0, 100.0], data has [0.5, 6.0]``.
    """
    problems = []
    if variables is not None and tuple(variables) != metadata.variables:
        problems.append(f"checkpoint has variables {list(metadata.variables)}, {what} has {list(variables)}")
    if forcing_variables is not None and tuple(forcing_variables) != metadata.forcing_variables:
        problems.append(f"checkpoint has forcing variables {list(metadata.forcing_variables)}, "
                        f"{what} has {list(forcing_variables)}")
    if levels is not None or metadata.levels is not None:
        if levels is not None and (metadata.levels is None or not metadata.levels.same_as(levels)):
            have = list(metadata.levels.depths) if metadata.levels is not None else None
            problems.append(f"checkpoint has levels {have}, {what} has {list(levels.depths)}")
    if grid is not None and not metadata.grid.same_as(grid):
        problems.append(f"checkpoint has grid {metadata.grid.describe()}, {what} has grid {grid.describe()}")
    if problems:
        raise ModelMismatchError(f"the {metadata.kind} model ({metadata.preset}) does not match the {what}: "
                                 + "; ".join(problems),
                                 hint="Use a model trained on this grid, these levels and variables, "
                                      "or remap the data onto the model's (ocean data build)")


# -- Lightning checkpoints (resume-only) ------------------------------------------------------

def load_lightning_checkpoint(path: "str | os.PathLike") -> dict:
    """Read a Lightning checkpoint without unpickling arbitrary objects (``weights_only=True``)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise DataError("no checkpoint file here", file=path, expected="a .ckpt written by `ocean train`")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle errors, truncated files
        raise DataError(f"cannot be read as a training checkpoint ({type(exc).__name__}: {exc})", file=path,
                        hint="Only checkpoints written by `ocean train` are supported") from exc


def export_lightning_checkpoint(ckpt: "str | os.PathLike", out: "str | os.PathLike",
                                prefix: str = "model.", overwrite: bool = True) -> ModelMetadata:
    """Turn a Lightning checkpoint into a model directory.

    The LightningModule must have stored :class:`ModelMetadata` as a dict
    under :data:`LIGHTNING_METADATA_KEY`; the weights are the state-dict
    entries under ``prefix`` (the wrapped model), with the prefix removed.
    """
    data = load_lightning_checkpoint(ckpt)
    meta = data.get(LIGHTNING_METADATA_KEY)
    if meta is None:
        raise DataError("the checkpoint carries no model metadata", file=ckpt,
                        found=sorted(k for k in data if isinstance(k, str)),
                        expected=LIGHTNING_METADATA_KEY, hint="Only checkpoints written by `ocean train` can be exported")
    state = {k[len(prefix):]: v for k, v in data["state_dict"].items() if k.startswith(prefix)}
    if not state:
        raise DataError("the checkpoint has no weights under the expected prefix", file=ckpt,
                        found=sorted(data["state_dict"])[:5], expected=f"keys starting with {prefix!r}")
    metadata = ModelMetadata.from_dict(meta, source=ckpt).replace(weights_sha256="", versions={}, created="")
    prov = dict(metadata.provenance)
    prov.update({"lightning_checkpoint": str(Path(ckpt).resolve()), "epoch": data.get("epoch"),
                 "global_step": data.get("global_step")})
    return save_model_dir(out, state, metadata.replace(provenance=prov), overwrite=overwrite)
