"""The error hierarchy. Every error nesykg raises on purpose derives from `NesykgError`.

Messages name *what* went wrong and *where* (file and line, backend and feature, entity
name), so that a user can act on one line of output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "NesykgError",
    "InputError",
    "ParseError",
    "UnsupportedCapabilityError",
    "StoreError",
    "PartialWriteError",
    "StoreLockedError",
    "StoreUnavailableError",
    "AuthenticationError",
    "QueryTimeoutError",
    "QueryRefusedError",
    "UnknownNameError",
    "VocabularyMismatchError",
    "TrainingError",
    "printable",
]


class NesykgError(Exception):
    """Base class of every error raised deliberately by nesykg."""


# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: bytes of a binary
# file or a hostile name that would break a message's one line or drive the terminal.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """`text` with control characters escaped (``\\x1b``, ``\\u2028``), so that a message
    quoting input stays one line and never reaches the terminal as a control sequence."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


class InputError(NesykgError):
    """Input that nesykg cannot use: an unreadable or empty file, an unknown format..."""


class ParseError(InputError):
    """A syntax or content error at a known place in a file.

    Attributes:
        source: the file (or a description such as ``"<string>"``).
        line: 1-based line number, or ``None`` when the parser gives none.
        column: 1-based column, or ``None``.
        reason: what is wrong, without the location.
    """

    def __init__(self, source: str | Path, line: int | None, reason: str, column: int | None = None):
        self.source = str(source)
        self.line = line
        self.column = column
        self.reason = printable(reason)
        where = printable(self.source)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {self.reason}")


class UnsupportedCapabilityError(NesykgError):
    """A backend was asked for a feature it does not declare."""

    def __init__(self, backend: str, capability: str, kind: str = "store"):
        self.backend = backend
        self.capability = capability
        super().__init__(f"the {backend!r} {kind} does not support {capability}")


class StoreError(NesykgError):
    """A store could not be opened, read or written."""


class PartialWriteError(StoreError):
    """A write done in several transactions failed after some of them committed.

    `written` triples (of `total`) are in the store; each transaction was all or nothing.
    """

    def __init__(self, message: str, written: int, total: int):
        self.written = written
        self.total = total
        super().__init__(message)


class StoreLockedError(StoreError):
    """An on-disk store is held by another process."""


class StoreUnavailableError(StoreError):
    """A store server cannot be reached (down, wrong address, connection lost)."""


class AuthenticationError(StoreError):
    """A store server refused the credentials; the message names the address and user."""


class QueryTimeoutError(StoreError):
    """A query ran past its time limit and was cancelled (nothing was changed)."""


class QueryRefusedError(InputError):
    """A query was refused before running, e.g. a write given to a read-only tool."""


class UnknownNameError(NesykgError, KeyError):
    """An entity, relation, dataset, model or other name that is not known.

    The message lists the closest known names.
    """

    def __init__(self, kind: str, name: str, known: Iterable[str] = ()):
        import difflib

        self.kind = kind
        self.name = name
        known = list(known)
        self.suggestions = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
        msg = f"unknown {kind} {name!r}"
        if self.suggestions:
            msg += "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        elif known and len(known) <= 20:
            msg += "; known: " + ", ".join(sorted(known))
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0])


class VocabularyMismatchError(InputError):
    """A checkpoint or tensor snapshot was built against a different vocabulary."""


class TrainingError(NesykgError):
    """Training cannot go on, e.g. the loss became NaN; the message names epoch and batch."""
