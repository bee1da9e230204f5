"""Sampling EFO-1 queries with easy and hard answers, as BetaE does, and JSONL files of them.

The splits of a dataset nest: ``train`` is inside ``train+valid``, which is inside
``train+valid+test``. A query for split ``test`` is grounded on the largest graph; its
**easy** answers are its answers on the next smaller graph (``train+valid``), its **hard**
answers those it has only on the larger one, which a reasoner must infer. For ``valid`` the
pair is (train, train+valid); for ``train`` there are no easy answers and every answer is
hard.

Grounding goes backward from a random answer, as in BetaE: the free variable takes an
entity with an incoming edge, and every other node of the structure (anchors, existential
variables) takes a random neighbour of an already grounded one, through any relation,
candidates being intersected when a node closes a cycle; each atom then takes a random
relation among those that join its two entities (distinct ones for a multi-edge). Negated
atoms are grounded on edges that exist too, so that they exclude something. A grounding is
kept when it passes every check, in this order:

* no two literals of a conjunction, nor two conjunctions, are equal;
* it is new (no duplicates);
* it has at least one answer on the larger graph, and for valid/test at least one hard one;
* easy plus hard answers number at most `max_answers` (default 100), else it is rejected
  (BetaE's script caps the hard answers only; capping all of them is the stricter bound);
* every negated literal is meaningful: dropping it adds answers on the larger graph.

Easy answers follow BetaE: they are the answers on the smaller graph, so with negation an
easy answer may fail on the larger one (an edge that arrived later now excludes it).

JSONL files hold one query per line: ``{"structure": "2in", "formula": "?y : ...", "easy":
[names], "hard": [names]}`` (``structure`` may be ``null`` for an ad-hoc formula).
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nesykg.errors import InputError, ParseError, UnknownNameError
from nesykg.kg.vocab import Vocabulary
from nesykg.progress import Progress, Stages
from nesykg.reasoners.logic.formula import Atom, Conjunction, Formula, NotExists
from nesykg.reasoners.logic.structures import get_structure, instantiate, template
from nesykg.reasoners.logic.syntax import parse_formula

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.datasets.loader import Dataset
    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.logic.graph_index import GraphIndex

__all__ = [
    "QueryGraphs",
    "SampledQuery",
    "nested_graphs",
    "read_queries_jsonl",
    "sample_queries",
    "write_queries_jsonl",
]

Split = Literal["train", "valid", "test"]
_SMALLER: dict[str, tuple[str, ...]] = {"train": (), "valid": ("train",), "test": ("train", "valid")}
_LARGER: dict[str, tuple[str, ...]] = {
    "train": ("train",),
    "valid": ("train", "valid"),
    "test": ("train", "valid", "test"),
}


@dataclass(frozen=True)
class SampledQuery:
    """A grounded query with its answers by entity name.

    Attributes:
        structure: the structure's name (``"2in"``), or ``None`` for an ad-hoc formula.
        formula: the grounded formula.
        easy: answers on the smaller (observed) graph.
        hard: answers only on the larger graph; never easy.
    """

    structure: str | None
    formula: Formula
    easy: frozenset[str]
    hard: frozenset[str]

    def __post_init__(self) -> None:
        both = self.easy & self.hard
        if both:
            raise InputError(f"answers both easy and hard: {', '.join(sorted(both)[:5])}")

    def to_json(self) -> dict[str, Any]:
        return {
            "structure": self.structure,
            "formula": str(self.formula),
            "easy": sorted(self.easy),
            "hard": sorted(self.hard),
        }

    @classmethod
    def from_json(cls, obj: Any) -> SampledQuery:
        """From `to_json`'s object; `InputError`/`ParseError` say what is wrong."""
        if not isinstance(obj, dict):
            raise InputError(f"a query is a JSON object, got {type(obj).__name__}")
        unknown = set(obj) - {"structure", "formula", "easy", "hard"}
        if unknown:
            raise InputError(f"unknown keys {sorted(unknown)}")
        if not isinstance(obj.get("formula"), str):
            raise InputError("'formula' must be the formula's text")
        structure = obj.get("structure")
        if structure is not None:
            if not isinstance(structure, str):
                raise InputError("'structure' must be a structure name or null")
            structure = get_structure(structure).name
        easy, hard = obj.get("easy", []), obj.get("hard", [])
        for key, val in (("easy", easy), ("hard", hard)):
            if not isinstance(val, list) or not all(isinstance(x, str) for x in val):
                raise InputError(f"'{key}' must be a list of entity names")
        return cls(structure, parse_formula(obj["formula"]), frozenset(easy), frozenset(hard))


@dataclass(frozen=True)
class QueryGraphs:
    """The pair of nested graphs a split's queries are answered on."""

    split: str
    smaller: GraphIndex
    larger: GraphIndex

    @property
    def vocab(self) -> Vocabulary:
        return self.larger.require_vocab()


def nested_graphs(data: Dataset | TensorKG, split: Split = "test") -> QueryGraphs:
    """The smaller and larger graphs of `split` (see the module doc), on one vocabulary.

    `data` is a `Dataset` (names; ids are sorted names, as `TensorKG.from_dataset` makes them)
    or a `TensorKG` with splits ``train``/``valid``/``test``.
    """
    from nesykg.reasoners.logic.graph_index import GraphIndex

    if split not in _SMALLER:
        raise InputError(f"unknown split {split!r}; use train, valid or test")
    if hasattr(data, "triples") and hasattr(data, "vocab"):  # a TensorKG
        kg: Any = data
        have = set(kg.splits)

        def build(names: tuple[str, ...]) -> GraphIndex:
            return GraphIndex.from_tensor_kg(kg, [s for s in names if s in have])
    else:
        ds: Any = data
        vocab = Vocabulary.from_names(ds.entities, ds.relations, ds.namespace)

        def build(names: tuple[str, ...]) -> GraphIndex:
            return GraphIndex.from_names((t for s in names for t in ds.splits[s]), vocab)

    return QueryGraphs(split, build(_SMALLER[split]), build(_LARGER[split]))


# ------------------------------------------------------------------ grounding
@dataclass(frozen=True)
class _Plan:
    """A template flattened for grounding: nodes and atoms (all conjunctions merged)."""

    name: str
    free: str
    atoms: tuple[Atom, ...]  # distinct template atoms, negated ones and blocks' ones included (as positive)
    nodes: tuple[str, ...]  # anchors and variables, in order of first occurrence
    num_anchors: int
    num_relations: int


def _plan(name: str) -> _Plan:
    t = template(name)
    seen: dict[Atom, None] = {}
    for a in t.atoms():
        seen.setdefault(Atom(a.relation, a.subject, a.object))
    nodes: dict[str, None] = {}
    for a in seen:
        for term in a.terms:
            nodes.setdefault(term.name)
    st = get_structure(name)
    return _Plan(st.name, t.free, tuple(seen), tuple(nodes), st.num_anchors, st.num_relations)


def _next_node(plan: _Plan, value: dict[str, int]) -> tuple[str | None, list[Atom]]:
    """The unassigned node with the most atoms to assigned ones (ties: first in template order)."""
    best, best_atoms = None, []
    for v in plan.nodes:
        if v in value:
            continue
        links = []
        for a in plan.atoms:
            s, o = a.subject.name, a.object.name
            if s != o and v in (s, o) and (o if s == v else s) in value:
                links.append(a)
        if len(links) > len(best_atoms):
            best, best_atoms = v, links
    return best, best_atoms


def _pick(
    v: str, links: list[Atom], value: dict[str, int], g: GraphIndex, rng: np.random.Generator
) -> int | None:
    """A random entity for node `v` joined to its assigned neighbours by `links` (any relation)."""
    cands: np.ndarray | None = None
    need: Counter[tuple[bool, str]] = Counter()  # (v is the subject, neighbour) -> atoms
    for a in links:
        if a.subject.name == v:
            nb = g.in_neighbors(value[a.object.name])
            need[(True, a.object.name)] += 1
        else:
            nb = g.out_neighbors(value[a.subject.name])
            need[(False, a.subject.name)] += 1
        cands = nb if cands is None else np.intersect1d(cands, nb, assume_unique=True)
        if len(cands) == 0:
            return None
    assert cands is not None
    multi = [(is_subject, u, k) for (is_subject, u), k in need.items() if k > 1]
    if not multi:
        return int(rng.choice(cands))
    # a multi-edge to one neighbour needs as many distinct relations: try a few candidates
    for c in rng.permutation(cands)[:200]:
        c = int(c)
        if all(len(g.relations(c, value[u]) if s else g.relations(value[u], c)) >= k for s, u, k in multi):
            return c
    return None


def _ground(plan: _Plan, g: GraphIndex, rng: np.random.Generator) -> Formula | None:
    """One random grounding of `plan` on `g`, or None when the walk got stuck."""
    starts = g.entities_with_in_edges()
    if len(starts) == 0:
        return None
    value: dict[str, int] = {plan.free: int(rng.choice(starts))}
    while len(value) < len(plan.nodes):
        v, links = _next_node(plan, value)
        if v is None:
            return None
        picked = _pick(v, links, value, g, rng)
        if picked is None:
            return None
        value[v] = picked
    # relations: a random one per atom, distinct on a multi-edge, one per placeholder
    rel_of: dict[str, int] = {}
    used: dict[tuple[int, int], set[int]] = {}
    for a in plan.atoms:
        h, t = value[a.subject.name], value[a.object.name]
        taken = used.setdefault((h, t), set())
        rels = [r for r in g.relations(h, t).tolist() if r not in taken]
        if a.relation in rel_of:
            if rel_of[a.relation] not in rels:
                return None
        elif rels:
            rel_of[a.relation] = int(rng.choice(rels))
        else:
            return None
        taken.add(rel_of[a.relation])
    vocab = g.require_vocab()
    anchors = [vocab.entities[value[f"s{i}"]] for i in range(1, plan.num_anchors + 1)]
    relations = [vocab.relations[rel_of[f"r{j}"]] for j in range(1, plan.num_relations + 1)]
    return instantiate(plan.name, anchors, relations)


def _degenerate(f: Formula) -> bool:
    if len(set(f.disjuncts)) != len(f.disjuncts):
        return True
    return any(len(set(c.literals)) != len(c.literals) for c in f.disjuncts)


def _without(f: Formula, k: int, i: int) -> Formula:
    """`f` with literal `i` of conjunction `k` dropped (existential variables left unused removed)."""
    conj = list(f.disjuncts)
    lits = conj[k].literals
    conj[k] = Conjunction(lits[:i] + lits[i + 1 :])
    used = {v for c in conj for v in c.variables()}
    return Formula(f.free, tuple(v for v in f.exists if v in used), tuple(conj))


def _negation_meaningful(f: Formula, answers: frozenset[int], g: GraphIndex) -> bool:
    from nesykg.reasoners.logic.exact import exact_answers

    for k, conj in enumerate(f.disjuncts):
        for i, lit in enumerate(conj.literals):
            negated = isinstance(lit, NotExists) or (isinstance(lit, Atom) and lit.negated)
            if negated and not exact_answers(_without(f, k, i), g) - answers:
                return False
    return True


def _seed_for(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def sample_queries(
    data: Dataset | TensorKG | QueryGraphs,
    structures: Sequence[str],
    num: int,
    *,
    split: Split = "test",
    max_answers: int = 100,
    seed: int = 0,
    max_attempts: int | None = None,
    allow_fewer: bool = False,
    progress: Progress | None = None,
) -> list[SampledQuery]:
    """Sample `num` queries of each structure, with easy and hard answers (see the module doc).

    Args:
        data: a `Dataset`, a `TensorKG` (splits train/valid/test) or `nested_graphs`' result.
        structures: structure names (``"1p"``, ``"2in"``, ``"3c"``...), see `STRUCTURES`.
        num: queries per structure.
        split: whose queries: ``test`` (easy on train+valid), ``valid`` or ``train``.
        max_answers: a grounding with more answers (easy plus hard) is rejected.
        seed: each structure draws from its own generator seeded by ``(seed, name)``, so a
            structure's queries do not depend on which others are sampled.
        max_attempts: groundings tried per structure (default ``50 * num + 500``).
        allow_fewer: return fewer queries when attempts run out instead of raising.
        progress: ``progress(stage, done, total)``, one stage per structure.

    Raises:
        InputError: a structure could not be sampled `num` times (the message gives the
            rejection counts), unless `allow_fewer`.
    """
    from nesykg.reasoners.logic.exact import exact_answers

    if num < 0 or max_answers < 1:
        raise InputError(f"num must be >= 0 and max_answers >= 1, got {num} and {max_answers}")
    names = [get_structure(s).name for s in structures]
    graphs = data if isinstance(data, QueryGraphs) else nested_graphs(data, split)
    small, large = graphs.smaller, graphs.larger
    ent = graphs.vocab.entities
    attempts_cap = max_attempts if max_attempts is not None else 50 * num + 500
    out: list[SampledQuery] = []
    for name in names:
        plan = _plan(name)
        rng = _seed_for(seed, name)
        seen: set[Formula] = set()
        why: Counter[str] = Counter()
        got = 0
        stage = Stages(progress, f"sampling {name}", num)
        attempts = 0
        while got < num and attempts < attempts_cap:
            attempts += 1
            f = _ground(plan, large, rng)
            if f is None:
                why["no grounding"] += 1
                continue
            if _degenerate(f):
                why["repeated atom"] += 1
                continue
            if f in seen:
                why["duplicate"] += 1
                continue
            full = exact_answers(f, large)
            if not full:
                why["no answer"] += 1
                continue
            easy = exact_answers(f, small) if len(small) else frozenset()
            hard = full - easy
            if graphs.split != "train" and not hard:
                why["no hard answer"] += 1
                continue
            if len(easy) + len(hard) > max_answers:
                why["too many answers"] += 1
                continue
            if f.has_negation and not _negation_meaningful(f, full, large):
                why["negation not meaningful"] += 1
                continue
            seen.add(f)
            out.append(
                SampledQuery(name, f, frozenset(ent[i] for i in easy), frozenset(ent[i] for i in hard))
            )
            got += 1
            stage.advance()
        if got < num and not allow_fewer:
            counts = ", ".join(f"{k} {v}" for k, v in why.most_common())
            raise InputError(
                f"sampled only {got} of {num} {name} queries in {attempts} attempts (rejected: {counts}); "
                "try another dataset, a larger max_answers or allow_fewer"
            )
    return out


# ------------------------------------------------------------------ JSONL
def write_queries_jsonl(queries: Iterable[SampledQuery], path: str | Path) -> Path:
    """Write one JSON object per line (see the module doc); returns the path."""
    p = Path(path)
    try:
        with p.open("w", encoding="utf-8") as fh:
            for q in queries:
                fh.write(json.dumps(q.to_json(), ensure_ascii=False) + "\n")
    except OSError as e:
        raise InputError(f"{p}: cannot write the queries: {e.strerror or e}") from None
    return p


def read_queries_jsonl(path: str | Path) -> list[SampledQuery]:
    """Read queries written by `write_queries_jsonl`; a bad line raises `ParseError` with its number."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ParseError(p, None, f"not UTF-8 text ({e.reason})") from None
    except OSError as e:
        raise InputError(f"{p}: cannot read the queries: {e.strerror or e}") from None
    out = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ParseError(p, lineno, f"invalid JSON: {e.msg}", column=e.colno) from None
        try:
            out.append(SampledQuery.from_json(obj))
        except ParseError as e:  # a formula's error: keep its column, put it on this line
            raise ParseError(p, lineno, f"formula: {e.reason}", column=e.column) from None
        except (InputError, UnknownNameError) as e:
            raise ParseError(p, lineno, str(e)) from None
    return out
