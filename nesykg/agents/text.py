"""Text helpers shared by the planner, the documents and entity search: tokens and BM25.

`BM25` wraps ``bm25s`` (imported on first use) over pre-tokenised texts. Tokens are
lower-cased words without English stop words, each with its 5-letter prefix as a second
token, a light stemming so that ``nation`` meets ``nationality``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["tokens", "normalize", "BM25"]

_WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    "a an the of is are was were be been to in on at by for with from and or as that this these those "
    "it its it's his her their s 's what which who whom whose where when how do does did ? please".split()
)


def normalize(text: str) -> str:
    """Lower case, underscores and punctuation as single spaces (``Frederica_of_X`` -> ``frederica of x``)."""
    return " ".join(_WORD.findall(text.lower().replace("_", " ")))


def tokens(text: str) -> list[str]:
    """BM25 tokens of `text`: words without stop words, plus a 5-letter prefix of long words."""
    out = []
    for w in _WORD.findall(text.lower().replace("_", " ")):
        if w in STOP:
            continue
        out.append(w)
        if len(w) > 5:
            out.append(w[:5] + "~")
    return out


class BM25:
    """A BM25 index over token lists.

    Args:
        docs: one token list per document (`tokens`).
    """

    def __init__(self, docs: Sequence[list[str]]):
        import bm25s

        self.size = len(docs)
        self._index: Any = None
        if self.size:
            self._index = bm25s.BM25()
            # bm25s rejects empty documents: give them a token no query has
            self._index.index([d or ["\0"] for d in docs], show_progress=False)

    def search(self, query: list[str], k: int) -> list[tuple[int, float]]:
        """Up to `k` ``(document index, score)`` with a positive score, best first."""
        if not self.size or not query or k < 1:
            return []
        ids, scores = self._index.retrieve([query], k=min(k, self.size), show_progress=False, n_threads=1)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]
