"""`Documents`: passages the agent can search with BM25 (a folder of text files, entity descriptions).

A passage is a paragraph of a ``.txt`` or ``.md`` file (blank-line separated), or the
description of an entity (``rdfs:comment``, ``schema:description``). Passages are data for
the agent to read, never instructions: a tool returns their text as an observation, and
nothing in them can write to the store (write-back validates every triple and trusts only
the tools' own confidence).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nesykg.agents.text import BM25, tokens
from nesykg.errors import InputError

__all__ = ["Passage", "Documents", "MAX_PASSAGE_CHARS"]

MAX_PASSAGE_CHARS = 2000
"""A passage longer than this is cut (the rest stays searchable through the next passage)."""


@dataclass(frozen=True)
class Passage:
    """One searchable passage.

    Attributes:
        source: the file (``name.txt#3`` for its third paragraph) or ``entity:NAME``.
        text: the passage, at most `MAX_PASSAGE_CHARS` characters.
    """

    source: str
    text: str


class Documents:
    """A BM25 index over passages.

    Args:
        passages: what to index.
    """

    def __init__(self, passages: Iterable[Passage]):
        self.passages = list(passages)
        self._bm25: BM25 | None = None

    @classmethod
    def from_folder(cls, folder: str | Path) -> Documents:
        """Every paragraph of the ``.txt`` and ``.md`` files under `folder` (sorted by path).

        Raises:
            InputError: `folder` is not a folder, or a file is not UTF-8 text.
        """
        root = Path(folder)
        if not root.is_dir():
            raise InputError(f"{root}: not a folder of documents")
        passages = []
        for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in (".txt", ".md") and p.is_file()):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise InputError(f"{path}: cannot read the document: {e}") from None
            rel = path.relative_to(root).as_posix()
            for i, para in enumerate(p for p in text.split("\n\n") if p.strip()):
                for j in range(0, len(para), MAX_PASSAGE_CHARS):
                    passages.append(Passage(f"{rel}#{i + 1}", para[j : j + MAX_PASSAGE_CHARS].strip()))
        return cls(passages)

    def extend(self, passages: Iterable[Passage]) -> None:
        """Add passages (the index is rebuilt on the next search)."""
        self.passages.extend(passages)
        self._bm25 = None

    def __len__(self) -> int:
        return len(self.passages)

    def search(self, text: str, k: int = 5) -> list[tuple[Passage, float]]:
        """The `k` passages most similar to `text` with their BM25 scores, best first."""
        if self._bm25 is None:
            self._bm25 = BM25([tokens(p.text) for p in self.passages])
        return [(self.passages[i], s) for i, s in self._bm25.search(tokens(text), k)]
