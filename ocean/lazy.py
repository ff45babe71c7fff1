"""Lazy package attributes: ``import pkg`` stays cheap, ``pkg.Name`` imports its module on first use.

Each package's ``__init__`` lists where its public names live::

    __getattr__ = lazy_attributes(__name__, {"Grid": "ocean.grid", ...})
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` (PEP 562) serving ``where``'s names from their modules."""

    def __getattr__(name: str) -> Any:
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
