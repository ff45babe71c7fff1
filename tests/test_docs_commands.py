"""Every command documented in README.md and docs/*.md runs.

**Which lines are commands.** Fenced blocks of README.md and docs/*.md:
every line of a ``bash``/``sh``/``shell`` block (``#`` comments and blank
lines skipped, ``\\`` continuations joined, trailing comments dropped);
the ``$ `` lines of a ``console`` block (the rest is output); in a block
with no language, the lines that start with a project command (``ocean``,
``python``, ``make``, ``nice``, ``.venv/bin/``). ``python``, ``yaml``,
``ini`` and ``cron`` blocks are not shell. ``nice [-n N]``, ``exec`` and a
``.venv/bin/`` prefix are stripped; shell plumbing (``cd``, ``set``,
``VAR=...``) and other programs (``cp``, ``copernicusmarine``, ...) are
not run: :data:`OTHER_PROGRAMS` must name each with the reason.

**How each runs** (one parametrised case per command, id ``FILE:LINE
command``):

* ``make X`` -> ``make -n X`` in the repository (prints, runs nothing).
* a line with placeholders -- a CAPS word (``CUBE.zarr``, ``MODEL_DIR``,
  ``DATE``, ``N``), ``...``, ``[--opt]``, an ``a|b`` alternative or a
  ``$variable`` -- runs as ``PROGRAM POSITIONALS --help`` (the words
  before the first option, so ``ocean data build RECIPE --help`` shows
  ``build``'s options; ``a|b`` gives one help per alternative), and every
  ``--option`` spelled on the line must appear in that help (options
  before the subcommand, e.g. ``ocean --log-file PATH daily``, in
  ``ocean --help``). So the docs cannot name an option that does not exist.
  On every line, the repository files it names (``configs/...``,
  ``benchmarks/...``) must exist.
* a concrete line that runs for minutes to hours gets the same help check
  instead; :data:`HELP_ONLY` says which and why (training, the benchmark
  and training scripts, commands reading ``outputs/`` of the 8-year demo
  runs, the ENSO outlook).
* every other line runs for real, ``ocean`` being the console script
  installed beside this interpreter. Consecutive commands of one block run
  in order in one folder, shared by the pytest-xdist workers under a lock
  (a later command sees the earlier ones' outputs; each runs once). The
  folder holds a copy of ``configs/`` so that the documented relative paths
  work, and the commands are made small by one rule: ``--days N`` becomes
  ``--days min(N, 10)`` and every data recipe in the copy has its
  ``dates`` and ``statistics`` periods cut to the same first 10 days
  (``configs/data/synthetic_4deg.yaml``'s ``root`` default,
  ``../../demo/synthetic`` from the recipe's folder, then points into the
  folder; ``OCEAN_SYNTHETIC`` is removed from the environment so that the
  default is what is tested). It must exit 0.

At the time of writing: 65 commands; 5 run for real (``ocean --help``,
``ocean --version`` and docs/pipeline.md's demo: ``ocean synthetic``,
``ocean data build``, ``ocean data validate``), 2 as ``make -n``, 53 via
``--help`` with the option check (22 with placeholders, 31 long-running),
5 not run (README.md's daily script: ``set``, ``day=...``, ``cd``,
``copernicusmarine``; the demo model's ``cp``).
``test_the_split_is_reported`` prints the current split (``pytest -s``).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
BIN = Path(sys.executable).parent  # the venv's bin: the installed ``ocean`` console script
SMALL_DAYS = 10

SHELL_LANGS = {"bash", "sh", "shell"}
PROJECT_START = re.compile(r"^(ocean|python3?|make|nice|exec)\s|^\.venv/bin/")
WRAPPERS = {"nice", "exec", "time"}
OCEAN_GLOBAL_WITH_VALUE = {"--log-file"}

# Programs in the docs that are not this project's and are not run, with why.
OTHER_PROGRAMS = {
    "cp": "copies a trained model into the package (would overwrite the shipped demo model)",
    "copernicusmarine": "fetches data from Copernicus Marine (network, credentials)",
    "systemctl": "installs a systemd timer on the host",
    "journalctl": "reads the host's journal",
    "cd": "shell plumbing",
    "set": "shell plumbing",
}

# Concrete commands that run for minutes to hours: --help and the option check instead.
HELP_ONLY = (
    (lambda argv: argv[:2] == ["ocean", "train"], "trains a model (minutes for tiny, hours for the demo)"),
    (lambda argv: argv[:2] == ["ocean", "enso"],
     "the shipped 3D-Geoformer's outlook: 3 members x 20 months, about a minute of CPU"),
    (lambda argv: any("outputs/" in a for a in argv),
     "reads outputs/ of the long demo runs (an 8-year cube, trained models)"),
    (lambda argv: argv[0] == "python", "a benchmark or training script: minutes to hours"),
)


@dataclass
class DocCommand:
    file: str
    line: int
    text: str
    block: str  # FILE:LINE of the fence
    argv: list[str] = field(default_factory=list)
    mode: str = ""  # real | help | make | other
    why: str = ""

    @property
    def id(self) -> str:
        words = " ".join(self.argv[:4]) if self.argv else self.text[:40]
        return f"{self.file}:{self.line} " + re.sub(r"[\[\]]", "", words)


def _fenced_blocks(path: Path):
    """(language, line of the fence, [(line number, text)]) for each fenced block."""
    block = None
    for n, line in enumerate(path.read_text().splitlines(), 1):
        fence = re.match(r"^\s*```(\S*)\s*$", line)
        if fence and block is None:
            block = (fence.group(1).lower(), n, [])
        elif fence and not fence.group(1):
            yield block
            block = None
        elif block is not None:
            block[2].append((n, line))


def _join(lines, start: int, first: str):
    """``first`` plus its backslash continuations from ``lines[start:]``; returns (text, next index)."""
    text, i = first.rstrip(), start
    while text.endswith("\\") and i < len(lines):
        text = text[:-1].rstrip() + " " + lines[i][1].strip()
        i += 1
    return text, i


def commands_in(path: Path) -> list[DocCommand]:
    rel = str(path.relative_to(ROOT))
    found = []
    for lang, fence_line, lines in _fenced_blocks(path):
        if lang not in SHELL_LANGS | {"console", ""}:
            continue
        i = 0
        while i < len(lines):
            n, raw = lines[i]
            s = raw.strip()
            i += 1
            if lang == "console":
                if not s.startswith("$ "):
                    continue
                s = s[2:].strip()
            elif lang == "" and not PROJECT_START.match(s):
                continue
            if not s or s.startswith("#"):
                continue
            text, i = _join(lines, i, s)
            found.append(classify(DocCommand(rel, n, text, f"{rel}:{fence_line}")))
    return found


def _strip_wrappers(argv: list[str]) -> list[str]:
    while argv and argv[0] in WRAPPERS:
        head = argv.pop(0)
        if head == "nice" and argv and argv[0] == "-n":
            argv = argv[2:]
        elif head == "nice" and argv and re.fullmatch(r"-n?\d+", argv[0]):
            argv = argv[1:]
    if argv and argv[0].startswith(".venv/bin/"):
        argv[0] = argv[0][len(".venv/bin/"):]
    if argv and argv[0] == "python3":
        argv[0] = "python"
    return argv


PLACEHOLDER_WORD = re.compile(r"(?<![\w.-])[A-Z][A-Z_]*(?![\w])|(?<=[/=,\[])[A-Z][A-Z_]*(?![\w])")


def has_placeholders(text: str, argv: list[str]) -> bool:
    """CAPS words, ``...``, ``[--opt]``, ``a|b`` alternatives or shell variables."""
    if "..." in text or "$" in text or any(c in a for a in argv for c in "[]|"):
        return True
    return any(PLACEHOLDER_WORD.search(a) for a in argv if not a.startswith("-"))


def classify(cmd: DocCommand) -> DocCommand:
    argv = _strip_wrappers(shlex.split(cmd.text, comments=True))
    cmd.argv = argv
    if not argv or "=" in argv[0]:
        cmd.mode, cmd.why = "other", "shell plumbing"
    elif argv[0] == "make":
        cmd.mode = "make"
    elif argv[0] not in ("ocean", "python"):
        cmd.mode, cmd.why = "other", OTHER_PROGRAMS.get(argv[0], "")
    elif has_placeholders(cmd.text, argv):
        cmd.mode, cmd.why = "help", "placeholders"
    else:
        reason = next((why for test, why in HELP_ONLY if test(argv)), "")
        cmd.mode, cmd.why = ("help", reason) if reason else ("real", "")
    return cmd


def all_commands() -> list[DocCommand]:
    return [c for path in DOCS for c in commands_in(path)]


COMMANDS = all_commands()
RUNNABLE = [c for c in COMMANDS if c.mode != "other"]


# ---------------------------------------------------------------------------------------------------------------
# running


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OCEAN_SYNTHETIC"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("OMP_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    return env


def _executable(argv: list[str]) -> list[str]:
    if argv[0] == "ocean":
        return [str(BIN / "ocean"), *argv[1:]]
    if argv[0] == "python":
        return [sys.executable, *argv[1:]]
    return argv


def _run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(_executable(argv), cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)


@functools.lru_cache(maxsize=None)
def help_text(argv: tuple[str, ...], cache: Path | None = None) -> str:
    """``ARGV --help``'s output (run once per session: ``cache`` is a folder shared by the workers)."""
    saved = cache / (re.sub(r"[^\w.-]", "_", " ".join(argv)) + ".txt") if cache else None
    with _locked(saved.with_suffix(".lock")) if saved else contextlib.nullcontext():
        if saved and saved.exists():
            return saved.read_text()
        proc = _run([*argv, "--help"], ROOT, 300)
        assert proc.returncode == 0, (f"`{' '.join(argv)} --help` exited {proc.returncode}\n"
                                      f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        if saved:
            saved.write_text(proc.stdout)
        return proc.stdout


def _is_option(word: str) -> bool:
    return word.startswith("-") or word.startswith("[")


def _options(words: list[str]) -> list[str]:
    return [m.group(1) for w in words if (m := re.match(r"^\[*(--[A-Za-z0-9][\w-]*)", w))]


def help_checks(argv: list[str]) -> list[tuple[tuple[str, ...], list[str]]]:
    """(help invocation, options it must show) for a documented line."""
    program, rest = argv[0], argv[1:]
    checks = []
    if program == "python" and rest[:1] == ["-m"]:
        program, rest = f"python -m {rest[1]}", rest[2:]
    base = tuple(program.split())
    if program == "ocean":  # options before the subcommand are the top level's
        i = 0
        while i < len(rest) and rest[i].startswith("-"):
            i += 2 if rest[i] in OCEAN_GLOBAL_WITH_VALUE else 1
        if i:
            checks.append((base, _options(rest[:i])))
        rest = rest[i:]
    positionals = []
    for word in rest:
        if _is_option(word):
            break
        if word != "...":
            positionals.append(word)
    options = _options(rest)
    alternatives = [[]]
    for word in positionals:
        alternatives = [[*a, w] for a in alternatives for w in (word.split("|") if "|" in word else [word])]
    checks += [(base + tuple(a), options) for a in alternatives]
    return checks


def check_help(argv: list[str], cache: Path | None = None) -> None:
    for invocation, options in help_checks(argv):
        text = help_text(invocation, cache)
        missing = [o for o in options if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)]
        assert not missing, (f"the docs spell {missing} but `{' '.join(invocation)} --help` does not list "
                             f"{'it' if len(missing) == 1 else 'them'}:\n{text}")


REPO_PATH = re.compile(r"^(configs|benchmarks|notebooks|docs|ocean|backbone|downstream|pipelines|tests)/")


def check_paths(argv: list[str]) -> None:
    """The repository files a line names (configs/..., benchmarks/...) exist (globs: at least one match)."""
    words = [w.split("=", 1)[-1] for w in argv[1:] if not w.startswith("-")]
    named = [w for w in words if REPO_PATH.match(w) and not PLACEHOLDER_WORD.search(w) and "|" not in w]
    missing = [w for w in named if not (list(ROOT.glob(w)) if "*" in w else (ROOT / w).exists())]
    assert not missing, f"the docs name files that are not in the repository: {missing}"


@pytest.fixture(scope="session")
def shared_root(request, tmp_path_factory) -> Path:
    """A folder shared by the xdist workers of this session (their basetemps' parent)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if hasattr(request.config, "workerinput") else base) / "doc_blocks"
    root.mkdir(exist_ok=True)
    return root


@contextlib.contextmanager
def _locked(path: Path):
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def small(argv: list[str]) -> list[str]:
    """``--days N`` -> ``--days min(N, SMALL_DAYS)``."""
    out = list(argv)
    for i, word in enumerate(out[:-1]):
        if word == "--days" and out[i + 1].isdigit():
            out[i + 1] = str(min(int(out[i + 1]), SMALL_DAYS))
    return out


def _small_configs(folder: Path) -> None:
    """A copy of configs/ whose data recipes cover only their first SMALL_DAYS days."""
    import pandas as pd

    shutil.copytree(ROOT / "configs", folder / "configs")
    for recipe in (folder / "configs" / "data").glob("*.yaml"):
        doc = yaml.safe_load(recipe.read_text())
        for key in ("dates", "statistics"):
            period = doc.get(key)
            if isinstance(period, dict) and "start" in period and "end" in period:
                last = pd.Timestamp(str(period["start"])) + pd.Timedelta(days=SMALL_DAYS - 1)
                period["end"] = str(min(pd.Timestamp(str(period["end"])), last).date())
        recipe.write_text(yaml.safe_dump(doc, sort_keys=False))


def run_in_block(cmd: DocCommand, root: Path) -> dict:
    """Run the block's real commands up to ``cmd`` (once each, in order, in the block's folder)."""
    folder = root / re.sub(r"[^\w.-]", "_", cmd.block)
    block = [c for c in RUNNABLE if c.block == cmd.block and c.mode == "real"]
    with _locked(root / f"{folder.name}.lock"):
        if not folder.exists():
            _small_configs(folder)
        for k, c in enumerate(block):
            record = folder / f".command_{k}.json"
            if not record.exists():
                try:
                    proc = _run(small(c.argv), folder, 600)
                    result = {"rc": proc.returncode, "stdout": proc.stdout[-3000:], "stderr": proc.stderr[-6000:]}
                except subprocess.TimeoutExpired:
                    result = {"rc": "timeout", "stdout": "", "stderr": ""}
                record.write_text(json.dumps({"command": " ".join(small(c.argv)), **result}))
            if c is cmd:
                return json.loads(record.read_text())
    raise AssertionError(f"{cmd.id} not found in its block")  # pragma: no cover


# ---------------------------------------------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("cmd", RUNNABLE, ids=[c.id for c in RUNNABLE])
def test_documented_command_runs(cmd: DocCommand, shared_root):
    check_paths(cmd.argv)
    if cmd.mode == "make":
        proc = subprocess.run(["make", "-n", *cmd.argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"`make -n {' '.join(cmd.argv[1:])}`: {proc.stderr}"
    elif cmd.mode == "help":
        (shared_root / "help").mkdir(exist_ok=True)
        check_help(cmd.argv, shared_root / "help")
    else:
        result = run_in_block(cmd, shared_root)
        assert result["rc"] == 0, (f"{cmd.file}:{cmd.line}: `{result['command']}` (in the block's folder) exited "
                                   f"{result['rc']}\nstdout:\n{result['stdout']}\nstderr:\n{result['stderr']}")


def test_other_programs_are_known():
    unknown = {c.argv[0] if c.argv else c.text for c in COMMANDS
               if c.mode == "other" and not c.why}
    assert not unknown, f"documented commands of unknown programs {unknown}: add them to OTHER_PROGRAMS with why"


def test_the_split_is_reported(capsys):
    counts = {m: [c for c in COMMANDS if c.mode == m] for m in ("real", "make", "help", "other")}
    assert len(counts["real"]) >= 3 and len(counts["help"]) >= 10, {m: len(v) for m, v in counts.items()}
    # the pipeline demo really runs, in order
    demo = [c.argv[:3] for c in counts["real"] if c.file == "docs/pipeline.md"]
    assert demo[:3] == [["ocean", "synthetic", "--grid"], ["ocean", "data", "build"], ["ocean", "data", "validate"]]
    with capsys.disabled():
        print(f"\ndocumented commands: {len(COMMANDS)}; real {len(counts['real'])}, make -n {len(counts['make'])}, "
              f"--help {len(counts['help'])} ("
              f"{sum(c.why == 'placeholders' for c in counts['help'])} with placeholders, "
              f"{sum(c.why != 'placeholders' for c in counts['help'])} long-running), "
              f"not run {len(counts['other'])}")


@pytest.mark.parametrize("text, mode", [
    ("ocean forecast [--init DATE] [--model MODEL_DIR]", "help"),
    ("ocean data build RECIPE --out CUBE.zarr", "help"),
    ("ocean export-oceanbench OUT/forecasts --out challenger.zarr", "help"),
    ("ocean data build|append|validate", "help"),
    ("ocean synthetic --start 2020-01-01 --days 30 --seed N", "help"),
    ("ocean hindcast --cube c.zarr --start 2006-12-09 --end 2007-12-01 --every 7D --out hc", "real"),
    ("ocean train backbone --config configs/train/demo.yaml", "help"),
    ("nice -n 10 .venv/bin/ocean data validate demo/cube.zarr", "real"),
    ("make demo", "make"),
    ('day=$(date -u -d yesterday +%F)', "other"),
])
def test_classification(text, mode):
    assert classify(DocCommand("x.md", 1, text, "x.md:1")).mode == mode


def test_help_check_catches_an_option_that_does_not_exist():
    check_help(["ocean", "data", "validate", "CUBE.zarr", "--json"])
    with pytest.raises(AssertionError, match="--no-such-option"):
        check_help(["ocean", "data", "validate", "CUBE.zarr", "--json", "--no-such-option"])
    assert help_checks(["ocean", "--log-file", "x.log", "daily", "--recipe", "R"]) == [
        (("ocean",), ["--log-file"]), (("ocean", "daily"), ["--recipe"])]
    assert [c[0] for c in help_checks(["ocean", "data", "build|append", "..."])] == [
        ("ocean", "data", "build"), ("ocean", "data", "append")]
    check_paths(["ocean", "train", "head", "waves", "--config", "configs/train/waves_*.yaml"])
    with pytest.raises(AssertionError, match="configs/train/no_such.yaml"):
        check_paths(["ocean", "train", "backbone", "--config", "configs/train/no_such.yaml"])
    assert small(["ocean", "synthetic", "--days", "30"]) == ["ocean", "synthetic", "--days", str(SMALL_DAYS)]
