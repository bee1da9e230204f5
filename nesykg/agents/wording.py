"""`HopModel`: which words of a question name which step of a relation path (a monotone alignment).

A question composes its hops in an order (`hop_words`: the possessive chain after the topic
first, then the ``of`` chain before it, nearest first), but a hop may take several words
(``other half``) or none (``what does X 's son do``). The model learns ``P(word | step)`` from
solved questions by EM over monotone alignments (IBM-model style: each content word is emitted
by one step, steps in order), plus ``P(cue | last step)`` for the interrogative cues
(``where``, ``who``, ``when``, ``do``...) that name the answer's kind. A path is then scored
by summing over its alignments with the question's words, so a word learned for a step at one
position (``heir`` as the first hop) counts at another (``heir`` as the second): the joint
classifier of whole paths in `nesykg.agents.planner` cannot share that.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from nesykg.agents.text import normalize, tokens

__all__ = ["CUES", "HopModel", "hop_words"]

CUES = frozenset(["where", "who", "whom", "whose", "when", "which", "what", "how", "do", "does", "did", "many", "much"])
"""Interrogative words kept as cues of the answer's kind (`tokens` drops them as stop words)."""
ALPHA = 0.1
"""Additive smoothing of the word counts."""
EMPTY = 0.05
"""Probability that a step is named by no word (``what does X 's son do``)."""


def hop_words(text: str, topic: str | None) -> tuple[list[str], list[str]]:
    """``(content words in hop order, interrogative cues)`` of `text` around its `topic`.

    Without the topic in the text, every content word in reading order (and the cues)."""
    t = normalize(text)
    key = normalize(topic) if topic else ""
    cues = sorted({"q:" + w for w in t.split() if w in CUES})
    if not key or f" {key} " not in f" {t} ":
        return _words(t), cues
    before, _, after = f" {t} ".partition(f" {key} ")
    return _words(after) + _words(before)[::-1], cues


def _words(text: str) -> list[str]:
    """Content words of `text` (`tokens` without the prefix tokens)."""
    return [w for w in tokens(text) if not w.endswith("~")]


class HopModel:
    """``P(question words | path)`` under monotone word-to-step alignments, learned by EM.

    Args:
        iterations: EM iterations.
    """

    def __init__(self, iterations: int = 5):
        self.iterations = iterations
        self._emit: dict[str, dict[str, float]] = {}
        self._total: dict[str, float] = {}
        self._cue: dict[str, dict[str, float]] = {}
        self._cue_total: dict[str, float] = {}
        self._vocab: set[str] = set()
        self._cues: set[str] = set()

    def __len__(self) -> int:
        return len(self._emit)

    def fit(self, examples: Sequence[tuple[list[str], list[str], tuple[str, ...], float]]) -> HopModel:
        """Learn from ``(hop-ordered words, cues, path, weight)`` of solved questions."""
        data = [(w, c, p, x) for w, c, p, x in examples if p and x > 0]
        self._vocab = {x for w, _, _, _ in data for x in w}
        self._cues = {x for _, c, _, _ in data for x in c}
        cue: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for _, cs, p, x in data:
            for c in cs:
                cue[p[-1]][c] += x
        self._cue = {s: dict(d) for s, d in cue.items()}
        self._cue_total = {s: sum(d.values()) for s, d in cue.items()}
        self._emit = {}
        for _ in range(self.iterations):
            counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
            for words, _, path, weight in data:
                for i, post in enumerate(self._posteriors(words, path)):
                    for k, x in enumerate(post):
                        if x > 0:
                            counts[path[k]][words[i]] += weight * x
            for path in {p for _, _, p, _ in data}:
                for s in path:
                    counts.setdefault(s, defaultdict(float))
            self._emit = {s: dict(d) for s, d in counts.items()}
            self._total = {s: sum(d.values()) for s, d in counts.items()}
        return self

    def _p(self, word: str, step: str) -> float:
        """``P(word | step)``, smoothed; uniform before the first iteration."""
        if not self._emit:
            return 1.0
        d = self._emit.get(step, {})
        return (d.get(word, 0.0) + ALPHA) / (self._total.get(step, 0.0) + ALPHA * (len(self._vocab) + 1))

    @staticmethod
    def _move(j: int, k: int) -> float:
        """Weight of the next word's step being `k` after step `j` (``-1``: before the first word):
        the same or the next step freely, each step skipped in between at `EMPTY`."""
        if k < j:
            return 0.0
        return 1.0 if k <= j + 1 else EMPTY ** (k - j - 1)

    def _forward(self, words: Sequence[str], path: Sequence[str]) -> list[list[float]]:
        """``f[i][k]``: probability of the first `i + 1` words with word `i` emitted by step `k`."""
        n = len(path)
        f: list[list[float]] = []
        for i, w in enumerate(words):
            row = []
            for k in range(n):
                prev = self._move(-1, k) if i == 0 else sum(f[i - 1][j] * self._move(j, k) for j in range(k + 1))
                row.append(prev * self._p(w, path[k]))
            f.append(row)
        return f

    def _posteriors(self, words: Sequence[str], path: Sequence[str]) -> list[list[float]]:
        """Per word, the posterior share of each step emitting it (forward-backward)."""
        n, m = len(path), len(words)
        if not m:
            return []
        f = self._forward(words, path)
        b = [[0.0] * n for _ in range(m)]
        for k in range(n):  # after the last word, the remaining steps are skipped
            b[m - 1][k] = EMPTY ** (n - 1 - k)
        for i in range(m - 2, -1, -1):
            w = words[i + 1]
            for k in range(n):
                b[i][k] = sum(self._move(k, kk) * self._p(w, path[kk]) * b[i + 1][kk] for kk in range(k, n))
        out = []
        for i in range(m):
            row = [f[i][k] * b[i][k] for k in range(n)]
            z = sum(row) or 1.0
            out.append([x / z for x in row])
        return out

    def log_likelihood(self, words: Sequence[str], cues: Sequence[str], path: Sequence[str]) -> float:
        """``log P(words, cues | path)``: words seen in training only, summed over alignments."""
        if not path:
            return -math.inf
        known = [w for w in words if w in self._vocab]
        n = len(path)
        if not known:
            total = EMPTY ** n
        else:
            f = self._forward(known, path)
            total = sum(f[-1][k] * EMPTY ** (n - 1 - k) for k in range(n))
        ll = math.log(total) if total > 0 else -math.inf
        d, z = self._cue.get(path[-1], {}), self._cue_total.get(path[-1], 0.0)
        for c in cues:
            if c in self._cues:
                ll += math.log((d.get(c, 0.0) + ALPHA) / (z + ALPHA * (len(self._cues) + 1)))
        return ll

    def posterior(self, words: Sequence[str], cues: Sequence[str], paths: Sequence[tuple[str, ...]]) -> dict[tuple[str, ...], float]:
        """``P(path | question)`` over `paths` (a uniform prior), normalised."""
        lls = {p: self.log_likelihood(words, cues, p) for p in paths}
        finite = [x for x in lls.values() if x > -math.inf]
        if not finite:
            return {}
        top = max(finite)
        exp = {p: math.exp(x - top) for p, x in lls.items() if x > -math.inf}
        z = sum(exp.values())
        return {p: x / z for p, x in exp.items()}

