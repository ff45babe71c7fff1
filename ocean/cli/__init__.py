"""The ``ocean`` command: one module per subcommand, each thin.

Every subcommand module defines ``register(subparsers)``, which adds its
parser and sets ``func`` to a function ``(args) -> int``. The function
parses nothing itself: it calls a library function that a notebook can call
too, and returns an exit code.

Exit codes (documented in the README):

====  ==========================================================
0     success (also: nothing to do, the output already exists)
1     failure (a bug or an environment problem; see the log)
2     usage error (bad command-line options)
3     bad input (data, configuration or checkpoint cannot be used)
4     locked (another run for the same output holds the lock)
====  ==========================================================
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from typing import Sequence

from ocean import __version__
from ocean.damage import explain as explain_damage
from ocean.errors import OceanError

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "EXIT_BAD_INPUT", "EXIT_LOCKED"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 3, 4

# Every module of this package is a subcommand; ``ocean --help`` lists these
# first, in this order, then any others alphabetically.
ORDER: tuple[str, ...] = ("forecast", "daily", "hindcast", "enso", "data", "train", "export",
                          "synthetic", "info")


def subcommands() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))

log = logging.getLogger("ocean")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocean",
        description="Ocean forecasting foundation-model system: data, training, forecasts, evaluation.",
        epilog="Exit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 locked.",
    )
    parser.add_argument("--version", action="version", version=f"ocean-forecast {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("--log-file", metavar="PATH", help="also append the log to this file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in subcommands():
        importlib.import_module(f"ocean.cli.{name}").register(sub)
    return parser


_installed: list[logging.Handler] = []


def configure_logging(verbose: int = 0, quiet: bool = False, log_file: str | None = None) -> None:
    """Log to stderr (and optionally a file); called by the CLI only, never at import."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file))
    root = logging.getLogger()
    for h in _installed:  # ours from an earlier call (tests call main() repeatedly); leave others alone
        root.removeHandler(h)
    for h in list(root.handlers):  # a stream handler left on a closed stream (a finished test's capture)
        stream = getattr(h, "stream", None)
        if isinstance(h, logging.StreamHandler) and getattr(stream, "closed", False):
            root.removeHandler(h)
    _installed[:] = handlers
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    root.setLevel(level)
    for noisy in ("distributed", "fsspec", "asyncio", "matplotlib", "numcodecs", "urllib3", "PIL"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ocean`` command; returns the exit code (see the module docstring).

    Errors are one log line: a user error (``OceanError``) exits with its code,
    anything else is a failure (exit 1). The traceback is logged only with
    ``-v``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)  # a usage error exits 2 here (SystemExit), with argparse's message
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        configure_logging(args.verbose, args.quiet, args.log_file)
    except OSError as exc:
        parser.print_usage(sys.stderr)
        print(f"ocean: error: argument --log-file: cannot open {args.log_file!r} ({exc.strerror or exc}); "
              "expected a file in an existing, writable folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or EXIT_OK)
    except OceanError as exc:
        log.error("%s", exc, exc_info=args.verbose > 0)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
    except Exception as exc:  # a bug or an environment problem: one line, the traceback with -v
        damaged = explain_damage(exc)  # a chunk that does not decode is bad input (exit 3), named
        if damaged is not None:
            log.error("%s", damaged, exc_info=args.verbose > 0)
            return damaged.exit_code
        log.error("failed: %s: %s%s", type(exc).__name__, exc, "" if args.verbose else " (run with -v for the traceback)",
                  exc_info=args.verbose > 0)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
