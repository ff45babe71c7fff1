"""The dependency direction of DESIGN.md, checked with import-linter."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(exe), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Contracts: 4 kept, 0 broken" in out.stdout


def test_pipelines_and_ocean_core_do_not_import_torch():
    code = ("import sys, ocean, ocean.io, ocean.grid, ocean.normalize, ocean.cf, pipelines; "
            "import pkgutil, importlib; "
            "[importlib.import_module('pipelines.' + m.name) for m in pkgutil.iter_modules(pipelines.__path__)]; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
