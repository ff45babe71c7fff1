"""Errors a user can act on.

Every error that reaches a user names what was looked at (file, variable),
what was found, what was expected and, where there is one, how to fix it.
The CLI maps these classes onto exit codes (see ``ocean.cli``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["OceanError", "DataError", "ConfigError", "ModelMismatchError", "LockedError"]


class OceanError(Exception):
    """Base class of the project's user-facing errors."""

    exit_code = 1


class DataError(OceanError, ValueError):
    """Input data that cannot be used as it is (exit code 3: bad input)."""

    exit_code = 3

    def __init__(self, message: str | None = None, *, file: Any = None, variable: str | None = None,
                 found: Any = None, expected: Any = None, hint: str | None = None):
        self.file, self.variable, self.found, self.expected, self.hint = file, variable, found, expected, hint
        where = ", ".join(str(p) for p in (file, f"variable {variable!r}" if variable else None) if p)
        text = message or "bad input"
        detail = ", ".join(f"{k} {v}" for k, v in (("found", found), ("expected", expected)) if v is not None)
        if detail:
            text = f"{text}: {detail}"
        if where:
            text = f"{where}: {text}"
        if hint:
            text = f"{text}. {hint}"
        super().__init__(text)


class ConfigError(OceanError, ValueError):
    """A configuration file or option that cannot be used (exit code 3: bad input)."""

    exit_code = 3


class ModelMismatchError(DataError):
    """A checkpoint whose variables, levels or grid do not match the data."""


class LockedError(OceanError):
    """Another run holds the lock (exit code 4)."""

    exit_code = 4
