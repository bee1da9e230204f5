"""One writer per on-disk store, with real processes: a second ``nesykg kg load`` waits for
the first (up to ``$NESYKG_LOCK_WAIT`` seconds), or with ``NESYKG_LOCK_WAIT=0`` fails at
once with one line naming the store; never a traceback, never a lost or half-written load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_tsv

NESYKG = Path(sys.executable).with_name("nesykg")

HOLDER = textwrap.dedent(
    """
    import sys
    from nesykg.kg import open_store
    store = open_store(sys.argv[1])
    print("held", flush=True)
    sys.stdin.readline()
    store.close()
    """
)


def nesykg_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def load(store: Path, data: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(NESYKG), "kg", "load", str(data), "--store", str(store), "--json"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=nesykg_env(**env),
    )


def total(store: Path) -> int:
    done = subprocess.run(
        [str(NESYKG), "kg", "stats", "--store", str(store), "--json"],
        capture_output=True, text=True, timeout=120, env=nesykg_env(), check=False,
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    return int(json.loads(done.stdout)["total"])


def triples(prefix: str, n: int) -> list[tuple[str, str, str]]:
    return [(f"{prefix}{i}", "linked", f"{prefix}{i + 1}") for i in range(n)]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An on-disk store holding 10 triples."""
    path = tmp_path / "kg"
    seed = load(path, write_tsv(tmp_path / "seed.tsv", triples("s", 10)))
    assert seed.wait(timeout=120) == 0, seed.communicate()[1]
    return path


@pytest.fixture
def held(store: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding `store` open until it is sent a line."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        if holder.poll() is None:
            holder.communicate("\n", timeout=30)


def test_two_concurrent_loads_both_land(tmp_path: Path, store: Path, held: subprocess.Popen[str]) -> None:
    a = write_tsv(tmp_path / "a.tsv", triples("a", 40))
    b = write_tsv(tmp_path / "b.tsv", triples("b", 70))
    # both start while a third process holds the store, so both must wait: first for it,
    # then the later one for the other load
    loads = [load(store, a, NESYKG_LOCK_WAIT="60"), load(store, b, NESYKG_LOCK_WAIT="60")]
    waiting = f"warning: the store at {store} is in use by another process; waiting up to 60 s"
    for p in loads:
        assert p.stderr is not None and p.stderr.readline().rstrip("\n") == waiting
    held.communicate("\n", timeout=30)
    for p, n in zip(loads, (40, 70)):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and not err, err
        assert json.loads(out)["triples_read"] == n
    assert total(store) == 10 + 40 + 70


def test_without_waiting_a_load_fails_at_once_and_writes_nothing(
    tmp_path: Path, store: Path, held: subprocess.Popen[str]
) -> None:
    data = write_tsv(tmp_path / "a.tsv", triples("a", 40))
    p = load(store, data, NESYKG_LOCK_WAIT="0")
    out, err = p.communicate(timeout=120)
    assert p.returncode == 2 and not out
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("error: ") and str(store) in lines[0] and "in use" in lines[0]
    held.communicate("\n", timeout=30)
    assert total(store) == 10
