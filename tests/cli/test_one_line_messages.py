"""Every ``error:`` and ``warning:`` the command line prints is one physical line, whatever
the terminal: none (stderr a pipe, COLUMNS and LINES unset, as under cron or CI), a narrow
one (COLUMNS=40), or a real 40-column pseudo-terminal. The messages are made long on purpose:
they name a folder whose name alone is 200 characters, far past any terminal's width.

The CLI runs as a real process (the venv's ``nesykg`` console script), as scripts and log
collectors run it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.conftest import write_tsv

NESYKG = Path(sys.executable).with_name("nesykg")
BAD = Path(__file__).resolve().parents[1] / "bad_inputs"

# the environments a message must survive: stderr is a pipe in all of them
ENVIRONMENTS = {
    "no-terminal-size": {},  # COLUMNS and LINES removed
    "40-columns": {"COLUMNS": "40", "LINES": "20"},
}


def environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return {**env, **extra}


def nesykg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NESYKG), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=120,
        check=False,
    )


@pytest.fixture
def long_dir(tmp_path: Path) -> Path:
    """A folder whose own name is 200 characters long."""
    folder = tmp_path / ("a-deliberately-long-folder-name-" + "x" * 168)
    assert len(folder.name) == 200
    folder.mkdir()
    return folder


@pytest.fixture
def store(long_dir: Path) -> str:
    """An on-disk store (in the long folder) holding a few triples."""
    location = str(long_dir / "kg")
    data = write_tsv(long_dir / "family.tsv", [("abe", "parent", "homer"), ("homer", "parent", "bart")])
    done = nesykg("kg", "load", str(data), "--store", location, env=environment({}))
    assert done.returncode == 0, done.stderr
    return location


def one_line(stderr: str, prefix: str) -> str:
    """The only line of `stderr`, which must start with `prefix`."""
    lines = stderr.splitlines()
    assert len(lines) == 1 and stderr.endswith("\n"), stderr
    assert lines[0].startswith(prefix) and "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("extra", list(ENVIRONMENTS.values()), ids=list(ENVIRONMENTS))
def test_an_error_naming_a_long_path_is_one_line(long_dir: Path, store: str, extra: dict[str, str]) -> None:
    bad = long_dir / "wrong_columns.tsv"
    shutil.copy(BAD / "wrong_columns.tsv", bad)
    done = nesykg("kg", "load", str(bad), "--store", store, env=environment(extra))
    assert done.returncode == 2
    line = one_line(done.stderr, "error: ")
    assert line == f"error: {bad}:3: expected 3 tab-separated columns (head, relation, tail), found 2"
    assert len(line) > 250


@pytest.mark.parametrize("extra", list(ENVIRONMENTS.values()), ids=list(ENVIRONMENTS))
def test_the_interrupted_import_warning_is_one_line(long_dir: Path, store: str, extra: dict[str, str]) -> None:
    # what a process killed during a bulk import leaves behind: the journal record
    import pyoxigraph as ox

    from nesykg.kg.backends.oxigraph_bulk import _journal_quads

    raw = ox.Store(store)
    raw.extend(_journal_quads("deadbeef", ["domain"], [str(long_dir / "family.tsv")]))
    raw.flush()
    del raw
    done = nesykg("kg", "stats", "--store", store, "--json", env=environment(extra))
    assert done.returncode == 0, done.stderr
    line = one_line(done.stderr, "warning: ")
    assert f"{store}: a bulk import into graph(s) domain from {long_dir / 'family.tsv'} was interrupted" in line


@pytest.mark.parametrize("extra", list(ENVIRONMENTS.values()), ids=list(ENVIRONMENTS))
def test_a_usage_error_is_one_line(long_dir: Path, extra: dict[str, str]) -> None:
    option = "--" + long_dir.name
    done = nesykg("kg", "stats", "--store", str(long_dir / "kg"), option, env=environment(extra))
    assert done.returncode == 2
    line = one_line(done.stderr, "error: ")
    assert option in line and "nesykg kg stats --help" in line


@pytest.mark.parametrize("extra", list(ENVIRONMENTS.values()), ids=list(ENVIRONMENTS))
def test_a_sparql_syntax_error_is_one_line(store: str, extra: dict[str, str]) -> None:
    query = "SELECT ?a_rather_long_variable_name WHERE { ?a_rather_long_variable_name <http://example.org/p> }"
    done = nesykg("kg", "sparql", query, "--store", store, env=environment(extra))
    assert done.returncode == 2
    one_line(done.stderr, "error: ")


def test_an_error_on_a_narrow_pseudo_terminal_is_one_line(long_dir: Path) -> None:
    """stderr a real 40-column terminal, colours allowed: still one line (colour codes aside)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 20, 40, 0, 0))
    env = {k: v for k, v in environment({}).items() if k != "NO_COLOR"}
    env["TERM"] = "xterm-256color"
    missing = long_dir / "no-store-here"
    try:
        proc = subprocess.Popen(  # a command that draws no progress bar, which a terminal would erase
            [str(NESYKG), "kg", "stats", "--store", str(missing)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env,
        )
        os.close(slave)
        assert proc.wait(timeout=120) == 2
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    text = b"".join(chunks).decode()
    assert text.count("\n") == 1 and text.endswith("\r\n"), text  # the terminal turns \n into \r\n
    hint = f"load data first: nesykg kg load FILE --store {missing}"
    assert text == f"\x1b[1;31merror:\x1b[0m no store at {missing}; {hint}\r\n"
