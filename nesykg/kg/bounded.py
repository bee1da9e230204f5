"""Run a read in a worker process with a deadline and a memory budget.

An embedded Oxigraph query runs inside Rust and cannot be interrupted from Python: an
``ORDER BY`` or ``COUNT`` over a cross product would hold the process for hours and may
take all its memory. So a bounded read runs in a worker process whose address space is
limited to its size at start plus `max_memory` bytes, and which sends its (picklable)
result back through a pipe. Past the deadline the worker is killed: the query is
cancelled and its memory returned at once; a worker that runs out of its budget dies and
is reported as such. The caller's memory grows only by the result.

Two kinds of worker:

* `run_bounded` forks: the child shares the parent's data copy-on-write. Used for the
  in-memory store, which has no background threads (forking a process whose threads hold
  locks can leave the child waiting on them forever).
* `run_in_worker` starts a fresh interpreter (``python -m nesykg.kg.bounded``) that runs a
  named function, e.g. one that opens an on-disk store read-only: RocksDB's background
  threads make forking its handle unsafe. Start-up costs about 0.2 s.

Where ``fork`` is not available (Windows), `run_bounded` runs the function in the calling
process and only the caller's own checks (row caps, deadlines between rows) bound it.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from nesykg.errors import NesykgError, QueryTimeoutError, StoreError

__all__ = ["run_bounded", "run_in_worker", "DEFAULT_MAX_MEMORY", "can_fork"]

T = TypeVar("T")

DEFAULT_MAX_MEMORY = 2 << 30
"""Address space a bounded query may add to the process (2 GiB) unless told otherwise."""


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32"


def _vm_size() -> int:
    """The process's current virtual size in bytes (Linux), else 0."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _serve(fn: Callable[[], Any], w: int, max_memory: int | None) -> int:  # pragma: no cover - in the worker
    """Run `fn` under the memory limit and write the pickled outcome to fd `w`."""
    code = 0
    try:
        import faulthandler

        faulthandler.disable()  # an abort here is an expected outcome, not a crash to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)  # nor is the allocator's message
        if max_memory is not None:
            import resource

            vm = _vm_size()
            if vm:
                limit = vm + max_memory
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            payload = ("ok", fn())
        except MemoryError:
            payload = ("memory", None)
        except NesykgError as e:
            payload = ("error", (type(e), str(e)))
        except Exception as e:  # reported in the parent as a store error, with its type
            payload = ("error", (StoreError, f"{type(e).__name__}: {e}"))
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            n = os.write(w, view)
            view = view[n:]
    except BaseException:
        code = 1
    return code


def _rebuild(cls: type[NesykgError], message: str) -> NesykgError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    return err


def run_bounded(
    fn: Callable[[], T], timeout: float | None, max_memory: int | None = DEFAULT_MAX_MEMORY, what: str = "the query"
) -> T:
    """``fn()`` in a forked child, cancelled after `timeout` seconds.

    Args:
        fn: the work; it must return a picklable value and must not write to the store.
        timeout: seconds before the child is killed (`QueryTimeoutError`); ``None`` waits.
        max_memory: bytes the child may add to the process's address space; ``None``
            sets no limit.
        what: names the work in messages.

    Raises:
        QueryTimeoutError: past the timeout (the work is cancelled).
        StoreError: the work exceeded `max_memory` or died.
        NesykgError: whatever nesykg error `fn` raised, with its message.
    """
    if not can_fork():
        return fn()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        os._exit(_serve(fn, w, max_memory))
    os.close(w)
    try:
        chunks, killed = _collect(r, lambda: os.kill(pid, signal.SIGKILL), timeout)
    finally:
        os.close(r)
        _, status = os.waitpid(pid, 0)
    return _outcome(chunks, killed, status, timeout, max_memory, what)


def _outcome(
    chunks: list[bytes], killed: bool, status: int, timeout: float | None, max_memory: int | None, what: str
) -> Any:
    if killed:
        raise QueryTimeoutError(f"{what} ran past its timeout of {timeout:g} s and was cancelled")
    budget = f"{max_memory / 2**20:,.0f} MiB" if max_memory else "the machine's memory"
    if not chunks:
        if os.WIFSIGNALED(status):
            raise StoreError(
                f"{what} was stopped: it needed more than its memory budget of {budget} "
                f"(signal {os.WTERMSIG(status)})"
            )
        raise StoreError(f"{what} failed in its worker process (exit status {os.waitstatus_to_exitcode(status)})")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "ok":
        return value
    if kind == "memory":
        raise StoreError(f"{what} was stopped: it needed more than its memory budget of {budget}")
    cls, message = value
    raise _rebuild(cls, message)


def _collect(fd: int, pid_kill: Callable[[], None], timeout: float | None) -> tuple[list[bytes], bool]:
    """Read the worker's pipe to its end, or until the deadline (then kill it)."""
    chunks: list[bytes] = []
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                pid_kill()
                return chunks, True
            data = os.read(fd, 1 << 20)
            if not data:
                return chunks, False
            chunks.append(data)
    except BaseException:  # Ctrl-C in the caller: cancel the worker too
        pid_kill()
        raise


def run_in_worker(
    target: str,
    args: tuple[Any, ...],
    timeout: float | None,
    max_memory: int | None = DEFAULT_MAX_MEMORY,
    what: str = "the query",
) -> Any:
    """``module:function(*args)`` in a fresh interpreter, cancelled after `timeout` seconds.

    `args` and the result must be picklable. Errors as `run_bounded`.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "nesykg.kg.bounded"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        close_fds=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(pickle.dumps((target, args, max_memory), protocol=pickle.HIGHEST_PROTOCOL))
        proc.stdin.close()
    except BrokenPipeError:
        pass
    try:
        chunks, killed = _collect(proc.stdout.fileno(), proc.kill, timeout)
    finally:
        proc.stdout.close()
        proc.wait()
    status = proc.returncode
    # Popen's returncode: -N for a signal; turn it into a wait status for `_outcome`
    wstatus = (-status) if status < 0 else (status << 8)
    return _outcome(chunks, killed, wstatus, timeout, max_memory, what)


def _worker_main() -> None:  # pragma: no cover - the fresh interpreter of run_in_worker
    import importlib

    target, args, max_memory = pickle.load(sys.stdin.buffer)
    module, _, name = target.partition(":")
    fn = getattr(importlib.import_module(module), name)
    out = sys.stdout.fileno()
    sys.stdout = open(os.devnull, "w")  # nothing but the result goes down the pipe
    os._exit(_serve(lambda: fn(*args), out, max_memory))


if __name__ == "__main__":  # pragma: no cover
    _worker_main()
