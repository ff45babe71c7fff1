"""No project code unpickles user files: every ``torch.load`` passes ``weights_only=True``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ocean", "backbone", "downstream", "pipelines", "benchmarks", "notebooks")


def _unsafe_loads(source: str) -> list[int]:
    """Line numbers of ``torch.load(...)`` / ``load(...)`` from torch without ``weights_only=True``."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        owner = getattr(f.value, "id", "") if isinstance(f, ast.Attribute) else ""
        if name == "load" and owner == "torch" or name in ("pl_load", "_load_checkpoint"):
            ok = any(k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                     for k in node.keywords)
            if not ok:
                bad.append(node.lineno)
        if name in ("load", "loads") and owner in ("pickle", "cPickle", "dill", "joblib"):
            bad.append(node.lineno)
    return bad


def test_the_checker_catches_unsafe_calls():
    assert _unsafe_loads("import torch\ntorch.load('x')\n") == [2]
    assert _unsafe_loads("torch.load('x', weights_only=False)") == [1]
    assert _unsafe_loads("import pickle\npickle.load(f)") == [2]
    assert _unsafe_loads("torch.load('x', map_location='cpu', weights_only=True)") == []


def test_no_torch_load_without_weights_only():
    offenders = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")) if (ROOT / pkg).is_dir() else []:
            for line in _unsafe_loads(path.read_text()):
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == [], "torch.load without weights_only=True (or pickle.load) in: " + ", ".join(offenders)
