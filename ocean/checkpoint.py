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
it was trained on and can refuse another one.

Integrity (checked by :func:`read_metadata` and :func:`load_model_dir`
before anything is built): ``weights_sha256`` is required (an empty or
malformed hash is refused, never skipped) and must match
``model.safetensors``; ``metadata.json`` carries its own hash,
``metadata_sha256``: the sha256 of the document without that key, written
as canonical JSON (sorted keys, no spaces), so any edit of the metadata --
a statistic, a width, the weights' hash -- is refused. The statistics must
be finite, with ``std > 0`` and means inside the catalogue's valid range.
Model directories shipped inside the package (``*/assets/``) exported before
``metadata_sha256`` existed load on their weights' hash alone; seal such a
directory with ``ocean export --seal MODEL_DIR`` (rewrites metadata.json
only, after checking the weights). :func:`check_compatible`
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
import re
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
    "metadata_sha256",
    "seal_model_dir",
    "tensor_shapes",
    "check_tensor_shapes",
    "load_weights_into",
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


def metadata_sha256(doc: Mapping) -> str:
    """sha256 of a metadata document without its own ``metadata_sha256`` key (canonical JSON)."""
    body = {k: v for k, v in doc.items() if k != "metadata_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _sealed(meta: ModelMetadata) -> dict:
    doc = json.loads(json.dumps(meta.to_dict()))  # hashed as it will read back (tuples -> lists, keys -> str)
    doc["metadata_sha256"] = metadata_sha256(doc)
    return doc


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

    from ocean.lock import store_lock

    path = Path(path)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state_dict.items()}
    with store_lock(path), atomic_path(path, overwrite=overwrite) as tmp:  # the lock removes killed runs' temporaries
        if path.exists() and not overwrite:
            raise DataError("the model directory exists", file=path, hint="Choose another --out or remove it")
        tmp.mkdir()
        save_file(tensors, str(tmp / WEIGHTS_FILE), metadata={"format": FORMAT_VERSION, "kind": metadata.kind})
        os.chmod(tmp / WEIGHTS_FILE, 0o644)  # readable like any shipped file (the writer may create it 0600)
        meta = metadata.replace(
            weights_sha256=weights_sha256(tmp / WEIGHTS_FILE),
            versions=metadata.versions or package_versions(),
            created=metadata.created or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        (tmp / METADATA_FILE).write_text(json.dumps(_sealed(meta), indent=1, sort_keys=False))
    log.info("wrote model directory %s (%s, sha256 %s)", path, meta.kind, meta.weights_sha256[:12])
    return meta


def read_metadata(path: "str | os.PathLike") -> ModelMetadata:
    """The metadata of a model directory (no weights read), verified.

    Refused (:class:`DataError`, exit 3): an unknown format, a missing or
    malformed ``weights_sha256``, a ``metadata_sha256`` that does not match
    the document (or none, outside the package's shipped assets), and
    statistics that are not finite, have ``std <= 0`` or means outside the
    catalogue's valid range.
    """
    path = Path(path)
    file = path / METADATA_FILE
    if not file.is_file():
        raise DataError("not a model directory", file=path, found=sorted(p.name for p in path.glob("*"))
                        if path.is_dir() else "no such directory",
                        expected=f"{WEIGHTS_FILE} and {METADATA_FILE}",
                        hint="Export a training checkpoint with `ocean export CKPT --out MODEL_DIR`")
    try:
        d = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"metadata is not valid JSON ({exc})", file=file) from exc
    except OSError as exc:
        raise DataError(f"metadata cannot be read ({exc.strerror})", file=file) from exc
    if not isinstance(d, dict):
        raise DataError("metadata is not a JSON object", file=file, found=type(d).__name__, expected="an object")
    if d.get("format") == FORMAT_VERSION:  # an unknown format is reported as such by from_dict
        _verify_hashes(d, file)
    try:
        meta = ModelMetadata.from_dict(d, source=file)
    except DataError as exc:
        if exc.file is not None:
            raise
        raise DataError(str(exc), file=file) from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"metadata has a malformed field ({type(exc).__name__}: {exc})", file=file) from exc
    for name in ("statistics", "forcing_statistics"):
        _check_statistics(getattr(meta, name), name, file)
    _check_sizes(meta.config, file)
    return meta


#: Config keys that size a network, and the largest value any of them may take (a 1/24-degree grid has 8640
#: longitudes); a model asking for more is refused before it is built (heads and backbone alike).
_SIZE_KEYS = ("width", "channels", "blocks", "layers", "heads", "d_model", "feedforward", "depth", "convs",
              "grid_shape", "patch", "factor", "halo", "months")
MAX_SIZE = 1 << 16


def _check_sizes(config: Any, file: Path, where: str = "config") -> None:
    if isinstance(config, dict):
        for key, value in config.items():
            _check_sizes(value, file, f"{where}.{key}")
        return
    if isinstance(config, list):
        for value in config:
            _check_sizes(value, file, where)
        return
    name = where.rsplit(".", 1)[-1]
    if isinstance(config, int) and not isinstance(config, bool) and any(k in name for k in _SIZE_KEYS) \
            and not 0 <= config <= MAX_SIZE:
        raise DataError("the model metadata has an impossible size", file=file, variable="config",
                        found=f"{where} = {config}", expected=f"a size between 0 and {MAX_SIZE}",
                        hint="Re-export the model from its training checkpoint")


def _verify_hashes(d: Mapping, file: Path) -> None:
    weights = d.get("weights_sha256")
    if not isinstance(weights, str) or not re.fullmatch(r"[0-9a-f]{64}", weights):
        raise DataError("the metadata does not name its weights", file=file, variable="weights_sha256",
                        found=repr(weights), expected="the 64-hex-digit sha256 of model.safetensors",
                        hint="An empty hash is refused, not skipped; re-export the model (`ocean export`)")
    own = d.get("metadata_sha256")
    if own is None:
        if _shipped(file.parent):
            log.debug("%s: shipped model directory without metadata_sha256; checked by its weights' hash", file)
            return
        raise DataError("the metadata carries no hash of itself", file=file, variable="metadata_sha256",
                        found="no metadata_sha256", expected="the sha256 of the document (ocean export writes it)",
                        hint="Re-export the model, or seal a directory you trust with `ocean export --seal MODEL_DIR`")
    found = metadata_sha256(d)
    if own != found:
        raise DataError("metadata.json was modified after export", file=file, variable="metadata_sha256",
                        found=f"content sha256 {found[:16]}...", expected=f"{str(own)[:16]}... (recorded)",
                        hint="Restore the exported metadata.json or re-export the model")


def _shipped(model_dir: Path) -> bool:
    """A model directory shipped inside the project's packages (``ocean|backbone|downstream/.../assets/...``)."""
    root = Path(__file__).resolve().parents[1]
    try:
        rel = model_dir.resolve().relative_to(root)
    except ValueError:
        return False
    return rel.parts[:1] in (("ocean",), ("backbone",), ("downstream",)) and "assets" in rel.parts


def _check_statistics(stats: Statistics | None, name: str, file: Path) -> None:
    """Finite statistics, ``std > 0`` and ``tendency_std > 0``, means inside the catalogue's range."""
    if stats is None:
        return
    from ocean.normalize import split_channel
    from ocean.variables import CATALOGUE

    for what in ("std", "tendency_std"):
        values = getattr(stats, what)
        bad = [f"{c}={v:g}" for c, v in zip(stats.channels, values) if not v > 0]
        if bad:
            raise DataError(f"the {name} have {what} <= 0 (normalising would divide by zero)", file=file,
                            variable=split_channel(bad[0].split("=")[0])[0], found=", ".join(bad[:5]),
                            expected=f"{what} > 0 for every channel", hint="Recompute the statistics and re-export")
    for c, mean, std in zip(stats.channels, stats.mean, stats.std):
        var = CATALOGUE.get(split_channel(c)[0])
        if var is None:
            continue
        lo, hi = var.valid_range
        if not lo <= mean <= hi or std > (hi - lo):
            raise DataError(f"the {name} are impossible for {c}", file=file, variable=var.name,
                            found=f"mean {mean:g}, std {std:g}",
                            expected=f"a mean within the valid range [{lo:g}, {hi:g}] {var.units} "
                                     f"and a std below {hi - lo:g}",
                            hint="Recompute the statistics and re-export")


def seal_model_dir(path: "str | os.PathLike") -> ModelMetadata:
    """Add ``metadata_sha256`` to a model directory exported without it (weights untouched).

    The weights must match ``weights_sha256``; run it only on a directory you
    trust (sealing records the metadata as it is now).
    """
    path = Path(path)
    file = path / METADATA_FILE
    try:
        d = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"metadata cannot be read ({exc})", file=file) from exc
    d.pop("metadata_sha256", None)
    doc = dict(d, metadata_sha256=metadata_sha256(d))
    _verify_hashes(doc, file)
    meta = ModelMetadata.from_dict(doc, source=file)
    _check_weights(path / WEIGHTS_FILE, meta)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=False))
    os.replace(tmp, file)
    log.info("sealed %s (metadata sha256 %s)", file, doc["metadata_sha256"][:12])
    return read_metadata(path)


def tensor_shapes(path: "str | os.PathLike") -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in a safetensors file, from its header only (no data read)."""
    from safetensors import safe_open

    path = Path(path)
    if path.is_dir():
        path = path / WEIGHTS_FILE
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: tuple(int(n) for n in f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as exc:  # a truncated or foreign file: safetensors raises its own error types
        raise DataError(f"the weights cannot be read as safetensors ({type(exc).__name__}: {exc})",
                        file=path, hint="Re-export the model") from exc


def check_tensor_shapes(path: "str | os.PathLike", expected: Mapping[str, Sequence[int]], what: str) -> None:
    """Refuse weights whose tensor names or shapes are not those ``expected`` (before any is loaded)."""
    found = tensor_shapes(path)
    expected = {k: tuple(int(n) for n in v) for k, v in expected.items()}
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = [f"{k} {found[k]} (expected {expected[k]})" for k in sorted(set(found) & set(expected))
             if found[k] != expected[k]]
    if missing or unexpected or wrong:
        parts = [f"{len(wrong)} tensor(s) of the wrong shape: {'; '.join(wrong[:4])}"] if wrong else []
        parts += [f"missing {missing[:4]}"] if missing else []
        parts += [f"unexpected {unexpected[:4]}"] if unexpected else []
        raise DataError("the weights do not fit the architecture in the metadata", file=path,
                        found=", ".join(parts), expected=f"the tensors of {what}",
                        hint="The weights and metadata.json come from different models; re-export it")


def load_weights_into(module, state: Mapping[str, Any], path, what: str, strict: bool = True):
    """``module.load_state_dict(state)``, a size mismatch refused as bad input naming the tensors (exit 3)."""
    try:
        return module.load_state_dict(state, strict=strict)
    except RuntimeError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines()[1:] if ln.strip()]
        raise DataError("the weights do not fit the architecture in the metadata", file=path,
                        found="; ".join(lines[:4]) or str(exc), expected=f"the tensors of {what}",
                        hint="The weights and metadata.json come from different models; re-export it") from exc


def _check_weights(weights: Path, meta: ModelMetadata) -> None:
    if not weights.is_file():
        raise DataError("the model directory has no weights", file=weights.parent, expected=WEIGHTS_FILE)
    found = weights_sha256(weights)
    if found != meta.weights_sha256:
        raise DataError("the weights do not match their metadata", file=weights,
                        found=f"sha256 {found[:16]}...", expected=f"sha256 {meta.weights_sha256[:16]}...",
                        hint="The directory was modified after export; re-export it")


def load_model_dir(path: "str | os.PathLike", *, verify_hash: bool = True, device: str = "cpu"
                   ) -> tuple[dict, ModelMetadata]:
    """``(state_dict, metadata)`` of a model directory; the weights' sha256 is checked.

    ``verify_hash=False`` skips only the hashing of the weights (tests); the
    metadata is always verified (:func:`read_metadata`).
    """
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_metadata(path)
    weights = path / WEIGHTS_FILE
    if not weights.is_file():
        raise DataError("the model directory has no weights", file=path, expected=WEIGHTS_FILE)
    if verify_hash:
        _check_weights(weights, meta)
    try:
        return load_file(str(weights), device=device), meta
    except Exception as exc:  # safetensors' own error types
        raise DataError(f"the weights cannot be read as safetensors ({type(exc).__name__}: {exc})",
                        file=weights, hint="Re-export the model") from exc


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
