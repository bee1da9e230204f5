"""`Vocabulary`: the id order every tensor and checkpoint is tied to."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from nesykg.errors import InputError, UnknownNameError, VocabularyMismatchError

__all__ = ["Vocabulary", "VOCAB_FILE"]

VOCAB_FILE = "vocab.json"
_FORMAT = "nesykg-vocabulary/1"


@dataclass(frozen=True)
class Vocabulary:
    """Entity and relation names in id order (sorted, hence deterministic).

    Names are local names for dataset snapshots (``virus``) and full IRIs otherwise.

    Attributes:
        entities: entity names; id ``i`` is ``entities[i]``.
        relations: relation names; id ``j`` is ``relations[j]``.
        namespace: IRI namespace of the local names, if any.
    """

    entities: tuple[str, ...]
    relations: tuple[str, ...]
    namespace: str | None = None

    @classmethod
    def from_names(cls, entities: object, relations: object, namespace: str | None = None) -> Vocabulary:
        """Build a vocabulary from any iterables of names (sorted and de-duplicated)."""
        return cls(tuple(sorted(set(entities))), tuple(sorted(set(relations))), namespace)  # type: ignore[call-overload]

    @property
    def num_entities(self) -> int:
        return len(self.entities)

    @property
    def num_relations(self) -> int:
        return len(self.relations)

    @cached_property
    def entity_to_id(self) -> dict[str, int]:
        return {e: i for i, e in enumerate(self.entities)}

    @cached_property
    def relation_to_id(self) -> dict[str, int]:
        return {r: i for i, r in enumerate(self.relations)}

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 over both name lists in order: equal iff the id mapping is equal."""
        h = hashlib.sha256()
        for name in self.entities:
            h.update(name.encode() + b"\n")
        h.update(b"\0")
        for name in self.relations:
            h.update(name.encode() + b"\n")
        return h.hexdigest()

    def entity_id(self, name: str) -> int:
        """Id of entity `name`; `UnknownNameError` with the closest names otherwise."""
        try:
            return self.entity_to_id[name]
        except KeyError:
            raise UnknownNameError("entity", name, self.entities) from None

    def relation_id(self, name: str) -> int:
        """Id of relation `name`; `UnknownNameError` with the closest names otherwise."""
        try:
            return self.relation_to_id[name]
        except KeyError:
            raise UnknownNameError("relation", name, self.relations) from None

    def check_same(self, other: Vocabulary, what: str = "checkpoint") -> None:
        """Raise `VocabularyMismatchError` unless `other` has the same id mapping."""
        if self.fingerprint == other.fingerprint:
            return
        diffs = []
        for kind, a, b in (("entities", self.entities, other.entities), ("relations", self.relations, other.relations)):
            if a != b:
                only_a = sorted(set(a) - set(b))[:3]
                only_b = sorted(set(b) - set(a))[:3]
                detail = f"{kind}: {len(b)} in the {what}, {len(a)} here"
                if only_a or only_b:
                    detail += f" (only in the {what}: {only_b}, only here: {only_a})"
                else:
                    detail += " (same names, different order)"
                diffs.append(detail)
        raise VocabularyMismatchError(
            f"the {what} was built for another vocabulary "
            f"(fingerprint {other.fingerprint[:12]} vs {self.fingerprint[:12]}); " + "; ".join(diffs)
        )

    def to_json(self) -> dict[str, object]:
        return {
            "format": _FORMAT,
            "fingerprint": self.fingerprint,
            "namespace": self.namespace,
            "entities": list(self.entities),
            "relations": list(self.relations),
        }

    def save(self, path: str | Path) -> Path:
        """Write ``vocab.json`` (into `path` if it is a folder)."""
        p = Path(path)
        if p.is_dir() or not p.suffix:
            p.mkdir(parents=True, exist_ok=True)
            p = p / VOCAB_FILE
        p.write_text(json.dumps(self.to_json(), indent=0), encoding="utf-8")
        return p

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        """Read a vocabulary written by `save` (a file or the folder holding it)."""
        p = Path(path)
        if p.is_dir():
            p = p / VOCAB_FILE
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{p}: no vocabulary file") from None
        except (OSError, ValueError) as e:
            raise InputError(f"{p}: cannot read the vocabulary: {e}") from None
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise InputError(f"{p}: not a nesykg vocabulary (format {data.get('format') if isinstance(data, dict) else None!r})")
        vocab = cls(tuple(data["entities"]), tuple(data["relations"]), data.get("namespace"))
        if data.get("fingerprint") != vocab.fingerprint:
            raise InputError(f"{p}: the vocabulary file is corrupt (fingerprint does not match its names)")
        return vocab
