"""Question sets for the agent: PathQuestion and MetaQA files, generated questions, the incomplete-KG protocol.

* `load_pathquestion`: ``question<TAB>answer(alt1/alt2/)<TAB>subj#r1#e1#r2#ans#<end>#ans``
  (PQ/PQL of Zhou et al. 2018); the gold relation path and its triples come with each question.
* `load_metaqa`: ``question with [topic entity]<TAB>answer|answer`` (Zhang et al. 2018).
* `load_kb`: ``head<TAB>relation<TAB>tail`` (PathQuestion) or ``head|relation|tail`` (MetaQA).
* `generate_questions`: questions with gold answers from held-out triples of any graph.
* `drop_path_triples`: the incomplete-KG protocol: remove a seeded fraction of the
  triples on the gold paths of the questions answered, so that answers need fallbacks.
* `split_exemplars` (seeded 80/20, paraphrases of one path kept together) and `sample`.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nesykg.errors import InputError, ParseError

__all__ = [
    "Question",
    "load_questions",
    "load_pathquestion",
    "load_metaqa",
    "load_kb",
    "generate_questions",
    "drop_path_triples",
    "split_exemplars",
    "sample",
]

Format = Literal["pathquestion", "metaqa"]
_BRACKET = re.compile(r"\[([^\]]+)\]")


@dataclass(frozen=True)
class Question:
    """A question with its gold answers.

    Attributes:
        text: the question.
        answers: gold answer entities.
        topic: the topic entity, when known.
        path: the gold relation path from the topic, when known.
        triples: the gold path's triples, when known.
        id: its position in its file (``file:line``) or a generated id.
    """

    text: str
    answers: tuple[str, ...]
    topic: str | None = None
    path: tuple[str, ...] = ()
    triples: tuple[tuple[str, str, str], ...] = field(default=(), compare=False)
    id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "topic": self.topic, "answers": list(self.answers), "path": list(self.path)}


def _lines(path: str | Path) -> list[tuple[int, str]]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: cannot read: {e}") from None
    return [(i, line.rstrip("\r\n")) for i, line in enumerate(text.split("\n"), 1) if line.strip()]


def load_pathquestion(path: str | Path) -> list[Question]:
    """PathQuestion questions with answers, topic, gold path and its triples."""
    out = []
    for n, line in _lines(path):
        cols = line.split("\t")
        if len(cols) != 3:
            raise ParseError(path, n, f"expected 3 tab-separated columns (question, answers, path), got {len(cols)}")
        q, ans, gold = cols
        m = re.fullmatch(r"(.*?)\((.*)\)", ans.strip())
        answers = tuple(a for a in (m.group(2).split("/") if m else [ans]) if a) or ((m.group(1),) if m else ())
        parts = gold.split("#<end>#")[0].split("#")
        if len(parts) < 3 or len(parts) % 2 == 0:
            raise ParseError(path, n, f"the path {gold[:60]!r} is not subject#relation#entity#...")
        triples = tuple((parts[i], parts[i + 1], parts[i + 2]) for i in range(0, len(parts) - 2, 2))
        out.append(Question(q.strip(), answers, parts[0], tuple(parts[1::2]), triples, f"{Path(path).name}:{n}"))
    return out


def load_metaqa(path: str | Path) -> list[Question]:
    """MetaQA questions: the topic is the ``[bracketed]`` entity; answers are ``|``-separated."""
    out = []
    for n, line in _lines(path):
        cols = line.split("\t")
        if len(cols) != 2:
            raise ParseError(path, n, f"expected 2 tab-separated columns (question, answers), got {len(cols)}")
        m = _BRACKET.search(cols[0])
        answers = tuple(a.strip() for a in cols[1].split("|") if a.strip())
        out.append(Question(cols[0].strip(), answers, m.group(1).strip() if m else None, id=f"{Path(path).name}:{n}"))
    return out


def load_questions(path: str | Path, format: Format | None = None) -> list[Question]:
    """Questions of either format (guessed from the first line when `format` is ``None``)."""
    if format is None:
        first = _lines(path)[:1]
        format = "pathquestion" if first and first[0][1].count("\t") == 2 else "metaqa"
    if format == "pathquestion":
        return load_pathquestion(path)
    if format == "metaqa":
        return load_metaqa(path)
    raise InputError(f"unknown question format {format!r}; choose pathquestion or metaqa")


def load_kb(path: str | Path) -> list[tuple[str, str, str]]:
    """A KB file: ``head<TAB>relation<TAB>tail`` or ``head|relation|tail`` lines (distinct, in order)."""
    out: dict[tuple[str, str, str], None] = {}
    for n, line in _lines(path):
        cols = [c.strip() for c in (line.split("\t") if "\t" in line else line.split("|"))]
        cols = [c for c in cols if c] if "\t" in line else cols
        if len(cols) != 3 or not all(cols):
            raise ParseError(path, n, f"expected head, relation and tail (tab- or |-separated), got {len(cols)} fields")
        out[(cols[0], cols[1], cols[2])] = None
    return list(out)


def generate_questions(
    triples: Sequence[tuple[str, str, str]], fraction: float = 0.1, seed: int = 0, limit: int | None = None
) -> tuple[list[tuple[str, str, str]], list[Question]]:
    """Hold out a seeded `fraction` of the triples and ask for their tails.

    Each held-out ``(h, r, t)`` becomes ``what is the R of [h] ?`` (``R`` the relation's words)
    with every tail of ``(h, r)`` in `triples` as gold answers and ``(r,)`` as its path.

    Returns:
        ``(the remaining triples, the questions)``.
    """
    if not 0.0 < fraction < 1.0:
        raise InputError(f"fraction must lie in (0, 1), got {fraction}")
    rng = random.Random(seed)
    held = set(rng.sample(range(len(triples)), max(1, int(len(triples) * fraction))))
    tails: dict[tuple[str, str], list[str]] = defaultdict(list)
    for h, r, t in triples:
        tails[(h, r)].append(t)
    kept = [t for i, t in enumerate(triples) if i not in held]
    seen: set[tuple[str, str]] = set()
    qs = []
    for i in sorted(held):
        h, r, t = triples[i]
        if (h, r) in seen:
            continue
        seen.add((h, r))
        words = re.sub(r"[_\W]+", " ", r.split("/")[-1].split("#")[-1]).strip()
        qs.append(Question(f"what is the {words} of [{h}] ?", tuple(sorted(set(tails[(h, r)]))), h, (r,), ((h, r, t),), f"gen:{i}"))
    if limit is not None:
        qs = qs[:limit]
    return kept, qs


def drop_path_triples(
    kb: Iterable[tuple[str, str, str]], questions: Iterable[Question], fraction: float, seed: int = 0
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Remove a seeded `fraction` of the distinct triples on the questions' gold paths.

    Returns:
        ``(the remaining KB, the removed triples)``.

    Raises:
        InputError: `fraction` outside [0, 1], or questions without gold path triples.
    """
    if not 0.0 <= fraction <= 1.0:
        raise InputError(f"the fraction of gold-path triples to drop must lie in [0, 1], got {fraction}")
    kb = list(kb)
    present = set(kb)
    gold = sorted({t for q in questions for t in q.triples if t in present})
    if fraction and not gold:
        raise InputError("the questions carry no gold path triples in the KB, so none can be dropped")
    rng = random.Random(seed)
    removed = set(rng.sample(gold, round(len(gold) * fraction)))
    return [t for t in kb if t not in removed], sorted(removed)


def split_exemplars(questions: Sequence[Question], seed: int = 0, share: float = 0.8) -> tuple[list[Question], list[Question]]:
    """Seeded split into ``(exemplars, evaluation questions)``; the questions of one topic and gold
    path (paraphrases) stay on one side, so no paraphrase of an evaluation question is an exemplar."""
    groups: dict[tuple[Any, ...], list[Question]] = defaultdict(list)
    for q in questions:
        groups[(q.topic, q.path, q.answers) if q.path else (q.text,)].append(q)
    keys = sorted(groups, key=repr)
    random.Random(seed).shuffle(keys)
    cut = round(len(keys) * share)
    ex = [q for k in keys[:cut] for q in groups[k]]
    ev = [q for k in keys[cut:] for q in groups[k]]
    return ex, ev


def sample(questions: Sequence[Question], limit: int | None, seed: int = 0) -> list[Question]:
    """A seeded sample of `limit` questions in their file order (all when `limit` is ``None``)."""
    if limit is None or limit >= len(questions):
        return list(questions)
    keep = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in keep]
