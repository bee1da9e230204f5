"""Provenance of inferred triples: who wrote a triple, how sure, on what evidence, when."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone

from nesykg.errors import InputError
from nesykg.kg.terms import Triple

__all__ = ["Provenance", "RunInfo", "new_run_id", "record_key"]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Why a triple is in the ``inferred`` graph.

    Attributes:
        confidence: belief in the triple, in [0, 1].
        method: what produced it (``"rule"``, ``"complex"``, ``"agent:symbolic"``, ``"import"``...).
        evidence: human-readable support: rule text, path, document passage, file name.
        run_id: the run that wrote it; `GraphStore.undo` removes a run's writes.
        time: when it was written (UTC, whole seconds).
    """

    confidence: float
    method: str
    evidence: str
    run_id: str
    time: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        c = self.confidence
        if not isinstance(c, (int, float)) or not (0.0 <= float(c) <= 1.0):
            raise InputError(f"provenance confidence must be a number in [0, 1], got {c!r}")
        if not self.method:
            raise InputError("provenance needs a method")
        if not self.run_id or any(ch.isspace() for ch in self.run_id):
            raise InputError(f"invalid run id {self.run_id!r}: use a non-empty id without spaces")
        if self.time.tzinfo is None:
            object.__setattr__(self, "time", self.time.replace(tzinfo=timezone.utc))


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Summary of one run's writes to the ``inferred`` graph."""

    run_id: str
    method: str
    triples: int
    started: datetime


def new_run_id(prefix: str = "run") -> str:
    """A fresh, sortable run id such as ``run-20261129T120102-3f9a1c``."""
    return f"{prefix}-{_now().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def record_key(run_id: str, triple: Triple) -> str:
    """Stable key of the provenance record of `triple` written by run `run_id`."""
    h = hashlib.sha1()
    for part in (run_id, *map(repr, triple)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]
