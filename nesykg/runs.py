"""Run directories: what every training, evaluation, mining and agent command leaves behind.

A run directory holds, each file written atomically (a temporary file, then a rename)::

    run.json        command, status, start and end (UTC), timings, versions, git hash
    config.json     the command's configuration: its options with the defaults resolved
    metrics.json    what it measured
    history.jsonl   one JSON object per epoch or pass (training; empty otherwise)
    records.jsonl   one JSON object per question (agent runs; absent otherwise)
    writes.jsonl    one JSON object per triple proposed for write-back (agent runs; absent otherwise)

`RunResult` is the record in memory (like PyKEEN's ``PipelineResult``): `RunResult.save` and
`RunResult.load` round-trip it, so that any two runs can be compared (``nesykg report``)::

    from nesykg.runs import record_run

    with record_run("runs/my-eval", "eval", {"checkpoint": "runs/umls-complex"}) as run:
        run.metrics = {"test": evaluate(...)}
    # run.json says "completed" (or "failed" with the error, when the block raised)

Default locations (`default_run_dir`): ``runs/<UTC timestamp>-<command>`` under the working
directory (or under ``$NESYKG_RUNS_DIR``); training and mining commands that write a checkpoint folder use its ``run/``
subfolder instead (`checkpoint_run_dir`), so the run sits beside the model it made.

This module imports nothing of nesykg but `nesykg.errors`, and neither torch nor numpy.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nesykg.errors import InputError

__all__ = [
    "RUN_FILE",
    "RunResult",
    "record_run",
    "check_run_dir",
    "default_run_dir",
    "checkpoint_run_dir",
    "resolve_run_dir",
    "versions",
    "git_hash",
]

RUN_FILE = "run.json"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.jsonl"
RECORDS_FILE = "records.jsonl"
WRITES_FILE = "writes.jsonl"
RUN_SUBDIR = "run"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _version_of(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """Python, torch, nesykg and the platform, read without importing torch."""
    import nesykg

    return {
        "python": platform.python_version(),
        "torch": _version_of("torch"),
        "nesykg": nesykg.__version__,
        "platform": platform.platform(),
    }


def git_hash() -> str | None:
    """The commit of the nesykg checkout this code runs from, or ``None`` (an installed
    package, no git, or a package folder that is not the top of its git work tree's ``nesykg``)."""
    package = Path(__file__).resolve().parent
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "HEAD"], cwd=package, capture_output=True, text=True, timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = top.stdout.split()
    if top.returncode != 0 or len(lines) != 2:
        return None
    # a copy inside some other repository (site-packages in a project's venv) is not a checkout
    if Path(lines[0]).resolve() != package.parent:
        return None
    return lines[1]


def _atomic_write(path: Path, text: str) -> None:
    """Write `path` through a temporary file beside it and a rename (the umask's permissions)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, default=str, ensure_ascii=False, allow_nan=True) + "\n"


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, default=str, ensure_ascii=False) + "\n" for r in rows)


def check_run_dir(directory: str | Path) -> Path:
    """Refuse a path that cannot become a run directory; create it (and its parents).

    A missing or empty folder, or an earlier run directory (overwritten), is fine.

    Raises:
        InputError: the path is a file, a non-empty folder that is not a run directory (so
            no checkpoint or data folder is written into by mistake), or cannot be written.
    """
    p = Path(directory)
    if p.exists() and not p.is_dir():
        raise InputError(f"run directory {p}: exists and is not a folder")
    if p.is_dir():
        try:
            entries = [e.name for e in p.iterdir()]
        except OSError as e:
            raise InputError(f"run directory {p}: cannot read it: {e.strerror or e}") from None
        if entries and RUN_FILE not in entries:
            raise InputError(
                f"run directory {p}: a folder with other files and no {RUN_FILE} (not a run directory); "
                "choose an empty or new folder"
            )
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"run directory {p}: cannot create it: {e.strerror or e}") from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise InputError(f"run directory {p}: not writable")
    return p


def default_run_dir(command: str, base: str | Path | None = None) -> Path:
    """A new ``BASE/<UTC timestamp>-<command>`` folder (``-2``, ``-3``... when taken), created.

    `base` defaults to ``$NESYKG_RUNS_DIR``, else ``runs`` under the working directory."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    slug = "-".join(command.split())
    root = Path(base if base is not None else os.environ.get("NESYKG_RUNS_DIR") or "runs")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the runs folder {root}: {e.strerror or e}") from None
    for n in range(1, 1000):
        p = root / (f"{stamp}-{slug}" if n == 1 else f"{stamp}-{slug}-{n}")
        try:
            p.mkdir()
        except FileExistsError:
            continue
        except OSError as e:
            raise InputError(f"cannot create a run directory in {root}: {e.strerror or e}") from None
        return p
    raise InputError(f"cannot create a run directory in {root}: too many runs named {stamp}-{slug}")


def checkpoint_run_dir(checkpoint: str | Path) -> Path:
    """The run directory of a command that writes a checkpoint folder: its ``run/`` subfolder."""
    return Path(checkpoint) / RUN_SUBDIR


def resolve_run_dir(path: str | Path) -> Path:
    """`path` itself when it holds ``run.json``; its ``run/`` subfolder when that does (a
    checkpoint folder written by ``nesykg train``).

    Raises:
        InputError: no such folder, a file, unreadable, or no run directory there.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such run directory")
    if not p.is_dir():
        raise InputError(f"{p}: a file, not a run directory")
    try:
        if (p / RUN_FILE).is_file():
            return p
        if (p / RUN_SUBDIR / RUN_FILE).is_file():
            return p / RUN_SUBDIR
        os.listdir(p)
    except OSError as e:
        raise InputError(f"{p}: cannot read it: {e.strerror or e}") from None
    raise InputError(f"{p}: not a run directory (no {RUN_FILE}, nor {RUN_SUBDIR}/{RUN_FILE})")


def _read_json(path: Path, missing: Any = ...) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing is ...:
            raise InputError(f"{path}: missing from the run directory") from None
        return missing
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{n}: not valid JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise InputError(f"{path}:{n}: expected a JSON object per line")
        rows.append(row)
    return rows


@dataclass
class RunResult:
    """The record of one command's run (saved as a run directory; see the module).

    Attributes:
        command: the command, e.g. ``"train"``, ``"rules mine"``, ``"cqa eval"``, ``"agent eval"``.
        config: its configuration (options, resolved defaults, the dataset).
        metrics: what it measured (``{"test": {"mrr": ...}}`` for link prediction, per query
            type for ``cqa eval``, Hits@1 and write-back precision for ``agent eval``...).
        history: one dict per epoch or pass, in order (``epoch``, ``loss``, ``valid_mrr``...).
        records: one dict per question (agent runs: ``hops``, ``hit``, ``removed_share``...).
        writes: one dict per triple proposed for write-back (agent runs: ``confidence``,
            ``written``, ``correct``).
        timings: seconds: ``total_seconds`` always, more where the command measured them.
        versions: python, torch, nesykg, platform.
        git_hash: commit of the nesykg checkout, ``None`` when not run from one.
        started: start time, UTC ISO 8601; ``finished`` likewise, ``None`` while running.
        status: ``running``, ``completed``, ``failed`` or ``interrupted``.
        error: the one-line error of a failed run.
        path: where it was saved or loaded from (not saved itself).
    """

    command: str
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    writes: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str | None] = field(default_factory=dict)
    git_hash: str | None = None
    started: str = ""
    finished: str | None = None
    status: str = "running"
    error: str | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """A short label: the run directory's name (its checkpoint's, for a ``run/`` subfolder)."""
        if self.path is None:
            return self.command
        p = self.path.resolve()
        return p.parent.name if p.name == RUN_SUBDIR else p.name

    def run_info(self) -> dict[str, Any]:
        """What ``run.json`` holds."""
        return {
            "command": self.command,
            "status": self.status,
            "started": self.started,
            "finished": self.finished,
            "error": self.error,
            "timings": self.timings,
            "versions": self.versions,
            "git_hash": self.git_hash,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.run_info(),
            "config": self.config,
            "metrics": self.metrics,
            "history": self.history,
            "records": self.records,
            "writes": self.writes,
            "path": None if self.path is None else str(self.path),
        }

    def save(self, directory: str | Path | None = None) -> Path:
        """Write the run directory (`directory`, default `path`); each file atomically, run.json last."""
        target = Path(directory) if directory is not None else self.path
        if target is None:
            raise InputError("RunResult.save: no directory given and the run has no path")
        target.mkdir(parents=True, exist_ok=True)
        _atomic_write(target / CONFIG_FILE, _json(self.config))
        _atomic_write(target / METRICS_FILE, _json(self.metrics))
        _atomic_write(target / HISTORY_FILE, _jsonl(self.history))
        for name, rows in ((RECORDS_FILE, self.records), (WRITES_FILE, self.writes)):
            if rows:
                _atomic_write(target / name, _jsonl(rows))
            else:
                (target / name).unlink(missing_ok=True)  # a stale one of an earlier run
        _atomic_write(target / RUN_FILE, _json(self.run_info()))
        self.path = target
        return target

    @classmethod
    def load(cls, directory: str | Path) -> RunResult:
        """Read a run directory (or a checkpoint folder with a ``run/`` subfolder).

        Raises:
            InputError: not a run directory, unreadable, or a file that is not valid JSON.
        """
        p = resolve_run_dir(directory)
        info = _read_json(p / RUN_FILE)
        if not isinstance(info, dict) or not isinstance(info.get("command"), str):
            raise InputError(f"{p / RUN_FILE}: not a run record (no command)")
        config = _read_json(p / CONFIG_FILE, {})
        metrics = _read_json(p / METRICS_FILE, {})
        for name, value in ((CONFIG_FILE, config), (METRICS_FILE, metrics)):
            if not isinstance(value, dict):
                raise InputError(f"{p / name}: expected a JSON object")
        return cls(
            command=info["command"],
            config=config,
            metrics=metrics,
            history=_read_jsonl(p / HISTORY_FILE),
            records=_read_jsonl(p / RECORDS_FILE),
            writes=_read_jsonl(p / WRITES_FILE),
            timings=dict(info.get("timings") or {}),
            versions=dict(info.get("versions") or {}),
            git_hash=info.get("git_hash"),
            started=str(info.get("started") or ""),
            finished=info.get("finished"),
            status=str(info.get("status") or "unknown"),
            error=info.get("error"),
            path=p,
        )


def start_run(directory: str | Path, command: str, config: Mapping[str, Any]) -> RunResult:
    """Check and create `directory`, write a ``running`` record with the config; return it."""
    p = check_run_dir(directory)
    run = RunResult(command, dict(config), versions=versions(), git_hash=git_hash(), started=_now())
    run.save(p)
    return run


@contextmanager
def record_run(directory: str | Path, command: str, config: Mapping[str, Any]) -> Iterator[RunResult]:
    """Record a command's run in `directory` while the block runs.

    The directory is checked and the config written first (bad input fails before any work);
    the block fills ``metrics``, ``history``, ``records`` and ``timings``; on leaving, the run
    is saved as ``completed``, or as ``failed``/``interrupted`` with the error (then re-raised).
    """
    run = start_run(directory, command, config)
    t0 = time.perf_counter()

    def close(status: str, error: str | None = None) -> None:
        run.status, run.error, run.finished = status, error, _now()
        run.timings["total_seconds"] = round(time.perf_counter() - t0, 4)
        run.save()

    try:
        yield run
    except KeyboardInterrupt:
        close("interrupted", "interrupted")
        raise
    except BaseException as e:
        if getattr(e, "exit_code", getattr(e, "code", None)) == 0:  # a clean typer.Exit / sys.exit(0)
            close("completed")
            raise
        text = " ".join(str(e).split()) or type(e).__name__
        close("failed", f"{type(e).__name__}: {text}"[:500])
        raise
    close("completed")
