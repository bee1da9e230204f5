"""Graph tools: find entities by name, list an entity's neighbours, follow a relation path."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from nesykg.agents.text import normalize
from nesykg.agents.tools.base import MAX_ITEMS, Episode, ToolError, bounded, check_entity, check_step

__all__ = ["search_entities", "get_neighbors", "follow_path", "SearchArgs", "NeighborsArgs", "PathArgs"]

_BRACKET = re.compile(r"\[([^\]]{1,300})\]")
MAX_NGRAM = 12
FUZZY_CUTOFF = 85.0
"""Least `rapidfuzz.fuzz.ratio` of a question span and a name for a fuzzy match (one typo in ten letters)."""
FUZZY_MIN_CHARS = 4
"""Shortest question span matched fuzzily (``mom`` is not nearly ``tom``)."""


class SearchArgs(BaseModel):
    text: str = Field(..., min_length=1, max_length=2000, description="a name, or a question mentioning entities")
    limit: int = Field(10, ge=1, le=MAX_ITEMS, description="how many entities")


class NeighborsArgs(BaseModel):
    entity: str = Field(..., min_length=1, max_length=4096, description="the entity's name")
    relation: str | None = Field(None, max_length=4096, description="only this relation ('inv:r' walks it backwards)")


class PathArgs(BaseModel):
    entity: str = Field(..., min_length=1, max_length=4096, description="the start entity's name")
    relations: list[str] = Field(..., min_length=1, max_length=4, description="relations to follow in order")


def _name_index(ep: Episode) -> dict[str, list[str]]:
    """Normalised label -> entity names (local names, labels, aliases), cached on the workspace."""
    idx = ep.ws.cache.get("names")
    if idx is None:
        idx = {}
        for e in ep.ws.graph.entities:
            tail = re.split(r"[/#:]", e)[-1] or e
            for label in {e, tail, *ep.ws.labels.get(e, ())}:
                key = normalize(label)
                if key:
                    idx.setdefault(key, [])
                    if e not in idx[key]:
                        idx[key].append(e)
        ep.ws.cache["names"] = idx
    return idx


def search_entities(ep: Episode, text: str, limit: int = 10) -> dict[str, Any]:
    """Find entities by name, label or alias; a whole question may be given (the entities it mentions
    come first, a name in [brackets] before all); fuzzy matches where none is spelt out exactly."""
    idx = _name_index(ep)
    found: dict[str, dict[str, Any]] = {}
    for m in _BRACKET.findall(text):
        for e in idx.get(normalize(m), ()):
            found.setdefault(e, {"entity": e, "score": 100.0, "match": "bracket"})
    words = normalize(text).split()
    spans = []
    for n in range(min(MAX_NGRAM, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            key = " ".join(words[i : i + n])
            if key in idx:
                spans.append((n, i, key))
    taken: set[int] = set()
    for n, i, key in spans:  # longest first; a shorter name inside a longer one is skipped
        if taken & set(range(i, i + n)):
            continue
        taken |= set(range(i, i + n))
        for e in idx[key]:
            found.setdefault(e, {"entity": e, "score": 100.0, "match": "exact", "span": key})
    if not found:  # fuzzy only where no name is spelt out
        for key, score in _fuzzy(words, list(idx), limit):
            for e in idx[key]:
                found.setdefault(e, {"entity": e, "score": round(score, 1), "match": "fuzzy"})
    items = list(found.values())[:limit]
    if not items:
        raise ToolError(f"no entity matches {text[:80]!r}")
    return bounded(items, limit)


def _fuzzy(words: list[str], names: list[str], limit: int) -> list[tuple[str, float]]:
    """Names spelt nearly like some span of the question (`fuzz.ratio` >= `FUZZY_CUTOFF` on a span
    of at least `FUZZY_MIN_CHARS` characters), best first. Span against name, not the whole
    question: a partial match of the question would find every name that shares a word such as
    ``the`` with it (``edward the elder`` for a question about ``tasha tudor``)."""
    from rapidfuzz import fuzz, process

    best: dict[str, float] = {}
    for n in range(1, min(MAX_NGRAM, len(words)) + 1):
        for i in range(len(words) - n + 1):
            span = " ".join(words[i : i + n])
            if len(span) < FUZZY_MIN_CHARS:
                continue
            for key, score, _ in process.extract(span, names, scorer=fuzz.ratio, limit=limit, score_cutoff=FUZZY_CUTOFF):
                best[key] = max(best.get(key, 0.0), float(score))
    return sorted(best.items(), key=lambda x: (-x[1], x[0]))[:limit]


def get_neighbors(ep: Episode, entity: str, relation: str | None = None) -> dict[str, Any]:
    """The entity's neighbours: with a relation, the entities it reaches along it ('inv:r' for incoming
    edges); without, every relation leaving or entering it with a few neighbours each."""
    e = check_entity(ep, entity)
    g = ep.ws.graph
    if relation is not None:
        step = check_step(ep, relation)
        out = g.step(e, step)
        if not out:
            raise ToolError(f"no edge {relation!r} from {e!r}; its relations: {', '.join(g.steps_from(e)[:20])}")
        return {"entity": e, "relation": step, **bounded(out)}
    rows = [{"relation": s, "entities": g.step(e, s)[:5], "count": len(g.step(e, s))} for s in g.steps_from(e)]
    return {"entity": e, **bounded(rows)}


def follow_path(ep: Episode, entity: str, relations: list[str]) -> dict[str, Any]:
    """Follow relations in order from an entity ('inv:r' walks r backwards) and return the entities
    reached. Where a step finds no edge, 'stopped_at' names it and the entities it started from."""
    e = check_entity(ep, entity)
    steps = [check_step(ep, r) for r in relations]
    g = ep.ws.graph
    frontier = [e]
    for i, s in enumerate(steps):
        nxt = g.follow(frontier, [s])
        if not nxt:
            return {
                "entity": e,
                "relations": steps,
                "answers": [],
                "stopped_at": {"step": i, "relation": s, "from": frontier[:MAX_ITEMS]},
            }
        frontier = nxt
    return {"entity": e, "relations": steps, "answers": frontier[:MAX_ITEMS], "total": len(frontier)}
