"""Agent questions generated from UMLS: 1- and 2-hop PathQuestion files over a KB file."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path

__all__ = ["write_agent_questions"]


def write_agent_questions(folder: Path, relations: int = 8, per_kind: int = 15) -> tuple[Path, Path, Path]:
    """A KB (UMLS train triples of its most frequent relations) and PathQuestion files of 1- and
    2-hop questions with one answer each: exemplars and, disjoint from them, questions to score."""
    from nesykg.datasets import load_dataset

    train = list(load_dataset("umls").train)
    keep = {r for r, _ in Counter(r for _, r, _ in train).most_common(relations)}
    kb = [t for t in train if t[1] in keep]
    tails: dict[tuple[str, str], set[str]] = defaultdict(set)
    out_edges: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for h, r, t in kb:
        tails[(h, r)].add(t)
        out_edges[h].append((r, t))
    rng = random.Random(0)
    one = [(h, r, t) for h, r, t in kb if len(tails[(h, r)]) == 1]
    rng.shuffle(one)
    two = [(h, r1, m, r2, t) for h, r1, m in one for r2, t in out_edges[m] if len(tails[(m, r2)]) == 1 and t != h]
    rng.shuffle(two)

    def q1(h: str, r: str, t: str) -> str:
        return f"what is the {r.replace('_', ' ')} of [{h}] ?\t{t}({t}/)\t{h}#{r}#{t}#<end>#{t}"

    def q2(h: str, r1: str, m: str, r2: str, t: str) -> str:
        return (f"what is the {r2.replace('_', ' ')} of the {r1.replace('_', ' ')} of [{h}] ?\t{t}({t}/)\t"
                f"{h}#{r1}#{m}#{r2}#{t}#<end>#{t}")

    assert len(one) >= 2 * per_kind and len(two) >= 2 * per_kind
    n = per_kind
    files = (folder / "kb.tsv", folder / "exemplars.txt", folder / "questions.txt")
    files[0].write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in kb), encoding="utf-8")
    files[1].write_text("\n".join([q1(*x) for x in one[:n]] + [q2(*x) for x in two[:n]]) + "\n", encoding="utf-8")
    files[2].write_text("\n".join([q1(*x) for x in one[n:2 * n]] + [q2(*x) for x in two[n:2 * n]]) + "\n", encoding="utf-8")
    return files
