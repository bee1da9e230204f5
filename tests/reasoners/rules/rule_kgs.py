"""Tiny graphs for the rule tests: a hand-made family, seeded random graphs, brute force."""

from __future__ import annotations

import itertools
import random

from nesykg.kg.tensor import TensorKG
from nesykg.reasoners.rules.syntax import Atom, Const, RuleStats, Var, format_rule, path_rule


def family_kg(test: tuple[tuple[str, str, str], ...] = ()) -> TensorKG:
    """Three generations: parent edges and every grandparent edge (minus `test`)."""
    children = {
        "ann": ["bob", "cat"],
        "ben": ["bob", "cat"],
        "bob": ["dan", "eve"],
        "cat": ["fay"],
        "dan": ["gus"],
        "eve": ["hal", "ida"],
    }
    parent = [(p, "parent", c) for p, cs in children.items() for c in cs]
    grand = [(p, "grandparent", g) for p, cs in children.items() for c in cs for g in children.get(c, [])]
    grand = sorted(set(grand))
    sibling = sorted(
        {(a, "sibling", b) for cs in children.values() for a in cs for b in cs if a != b}
    )
    train = [t for t in parent + grand + sibling if t not in test]
    return TensorKG.from_triples({"train": train, "valid": [], "test": list(test)}, "family")


def random_kg(seed: int, num_entities: int = 9, num_relations: int = 3, num_triples: int = 30) -> TensorKG:
    """A seeded random graph (self-loops and both directions allowed)."""
    rnd = random.Random(seed)
    ents = [f"e{i}" for i in range(num_entities)]
    rels = [f"r{i}" for i in range(num_relations)]
    triples = set()
    while len(triples) < num_triples:
        triples.add((rnd.choice(ents), rnd.choice(rels), rnd.choice(ents)))
    return TensorKG.from_triples({"train": sorted(triples)}, f"random{seed}")


def _facts(kg: TensorKG) -> tuple[dict[str, set[tuple[str, str]]], list[str], list[str]]:
    v = kg.vocab
    facts: dict[str, set[tuple[str, str]]] = {r: set() for r in v.relations}
    for h, r, t in kg.triples("train").tolist():
        facts[v.relations[r]].add((v.entities[h], v.entities[t]))
    return facts, list(v.entities), list(v.relations)


def brute_force_path_rules(kg: TensorKG, max_length: int) -> dict[str, RuleStats]:
    """Stats of every closed path rule with support > 0, by enumerating assignments with
    pairwise distinct entities (object identity)."""
    facts, ents, rels = _facts(kg)
    steps = [(r, inv) for r in rels for inv in (False, True)]

    def holds(step: tuple[str, bool], a: str, b: str) -> bool:
        r, inv = step
        return ((b, a) if inv else (a, b)) in facts[r]

    out: dict[str, RuleStats] = {}
    for length in range(1, max_length + 1):
        for chain in itertools.product(steps, repeat=length):
            body: set[tuple[str, str]] = set()
            for assignment in itertools.permutations(ents, length + 1):
                if all(holds(chain[i], assignment[i], assignment[i + 1]) for i in range(length)):
                    body.add((assignment[0], assignment[-1]))
            for h in rels:
                if length == 1 and chain[0] == (h, False):
                    continue
                support = len(body & facts[h])
                if support == 0:
                    continue
                subjects = {x for x, _ in facts[h]}
                pca = sum(1 for x, _ in body if x in subjects)
                rule = path_rule(h, list(chain))
                out[format_rule(rule)] = RuleStats(
                    support, len(body), support / len(body), support / pca, support / len(facts[h])
                )
    return out


def brute_force_constant_rules(kg: TensorKG) -> dict[str, RuleStats]:
    """Stats of every constant rule ``h(X,c) <= b(X,d)`` / ``h(X,c) <= b(X,A)`` (and
    mirrored heads) with support > 0, plain Horn semantics."""
    facts, ents, rels = _facts(kg)
    X, A = Var("X"), Var("A")

    def pairs(r: str, inv: bool) -> set[tuple[str, str]]:
        return {(b, a) for a, b in facts[r]} if inv else facts[r]

    def atom(r: str, inv: bool, other: Var | Const) -> Atom:
        return Atom(r, other, X) if inv else Atom(r, X, other)

    out: dict[str, RuleStats] = {}
    for h, hinv in itertools.product(rels, (False, True)):
        hp = pairs(h, hinv)
        has_h = {x for x, _ in hp}
        for c in ents:
            heads = {x for x, y in hp if y == c}
            for b, binv in itertools.product(rels, (False, True)):
                bp = pairs(b, binv)
                for d in ents:
                    if (b, binv) == (h, hinv) and d == c:
                        continue
                    xs = {x for x, y in bp if y == d}
                    s = len(heads & xs)
                    if s:
                        text = format_rule(_rule(atom(h, hinv, Const(c)), atom(b, binv, Const(d))))
                        out[text] = RuleStats(s, len(xs), s / len(xs), s / len(xs & has_h), s / len(facts[h]))
                if (b, binv) == (h, hinv):
                    continue
                xs = {x for x, _ in bp}
                s = len(heads & xs)
                if s:
                    text = format_rule(_rule(atom(h, hinv, Const(c)), atom(b, binv, A)))
                    out[text] = RuleStats(s, len(xs), s / len(xs), s / len(xs & has_h), s / len(facts[h]))
    return out


def _rule(head: Atom, body: Atom):  # noqa: ANN202
    from nesykg.reasoners.rules.syntax import Rule

    return Rule(head, (body,))
