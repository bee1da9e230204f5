"""Reading and writing the BetaE / KGReasoning query files, through a restricted unpickler.

A BetaE dataset folder (Ren & Leskovec 2020, github.com/snap-stanford/KGReasoning) holds, per
split, pickled Python objects:

* ``{split}-queries.pkl``: ``{structure: {query, ...}}``. A structure is a nested tuple of
  ``'e'`` (anchor), ``'r'`` (relation), ``'n'`` (negation) and ``'u'`` (union), e.g.
  ``(('e', ('r',)), ('e', ('r', 'n')))`` for 2in; a query is the same tuple with ids in
  place of ``'e'``/``'r'``, ``-2`` for ``'n'`` and ``-1`` for ``'u'``:
  ``((17, (3,)), (52, (8, -2)))``.
* ``{split}-easy-answers.pkl`` and ``{split}-hard-answers.pkl``: ``{query: {entity id, ...}}``
  (``train-answers.pkl`` for the train split, every answer counted as hard).
* ``id2ent.pkl``, ``ent2id.pkl``, ``id2rel.pkl``, ``rel2id.pkl``: the id maps. BetaE adds a
  reciprocal for every relation: ``+r`` has id ``2k`` and ``-r`` id ``2k + 1``.

`read_betae` turns them into `SampledQuery` values: a ``-r`` atom ``-r(a, b)`` becomes
``r(b, a)`` (``relation_mode="flip"``, the default when every relation name is signed),
so queries are stated over the dataset's own relations. Both union encodings are read (DNF
and De Morgan, ``2u-DM``/``up-DM``); unions are written in DNF.

Pickle runs code while loading: `safe_load_pickle` admits only builtin containers and
scalars (``set``, ``frozenset``, ``dict``, ``list``, ``tuple``, ``int``, ``float``, ``str``,
``bool``, ``collections.defaultdict``/``OrderedDict``) and refuses everything else (a
function, a class, ``os.system``...) with an `InputError` naming the file, before any of it
is called.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from nesykg.datasets.queries import SampledQuery
from nesykg.errors import InputError
from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.logic.structures import get_structure, instantiate, match_structure

__all__ = [
    "BETAE_SHAPES",
    "read_betae",
    "safe_load_pickle",
    "write_betae",
]

_E, _R, _N, _U = "e", "r", "n", "u"

BETAE_SHAPES: dict[str, tuple[Any, ...]] = {
    "1p": (_E, (_R,)),
    "2p": (_E, (_R, _R)),
    "3p": (_E, (_R, _R, _R)),
    "2i": ((_E, (_R,)), (_E, (_R,))),
    "3i": ((_E, (_R,)), (_E, (_R,)), (_E, (_R,))),
    "ip": (((_E, (_R,)), (_E, (_R,))), (_R,)),
    "pi": ((_E, (_R, _R)), (_E, (_R,))),
    "2in": ((_E, (_R,)), (_E, (_R, _N))),
    "3in": ((_E, (_R,)), (_E, (_R,)), (_E, (_R, _N))),
    "inp": (((_E, (_R,)), (_E, (_R, _N))), (_R,)),
    "pin": ((_E, (_R, _R)), (_E, (_R, _N))),
    "pni": ((_E, (_R, _R, _N)), (_E, (_R,))),
    "2u": ((_E, (_R,)), (_E, (_R,)), (_U,)),
    "up": (((_E, (_R,)), (_E, (_R,)), (_U,)), (_R,)),
}
"""KGReasoning's structure tuple of each BetaE structure (unions in DNF, as written)."""

_DM_SHAPES: dict[tuple[Any, ...], str] = {
    (((_E, (_R, _N)), (_E, (_R, _N))), (_N,)): "2u",
    (((_E, (_R, _N)), (_E, (_R, _N))), (_N, _R)): "up",
}
_SHAPE_NAMES: dict[tuple[Any, ...], str] = {**{v: k for k, v in BETAE_SHAPES.items()}, **_DM_SHAPES}

_ALLOWED = {
    ("builtins", n)
    for n in ("set", "frozenset", "dict", "list", "tuple", "int", "float", "str", "bytes", "bool", "complex")
} | {("collections", "defaultdict"), ("collections", "OrderedDict")}


_PICKLE_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    AttributeError,
    OverflowError,
    RecursionError,
    MemoryError,
)


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose `find_class` admits builtin containers and scalars only."""

    def __init__(self, file: io.BufferedIOBase, source: str):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        if module == "__builtin__":  # protocol 0-2 pickles name Python 2's module
            module = "builtins"
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise InputError(
            f"{self.source}: refused to load {module}.{name}: only builtin containers and scalars are "
            "allowed in a query file (pickle would run code)"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise InputError(f"{self.source}: refused a persistent id in a query file")


def safe_load_pickle(path: str | Path) -> Any:
    """Unpickle `path` admitting only builtin containers and scalars (see the module doc)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"{p}: cannot read the file: {e.strerror or e}") from None
    try:
        return _RestrictedUnpickler(io.BytesIO(data), str(p)).load()  # type: ignore[arg-type]
    except InputError:
        raise
    except _PICKLE_ERRORS as e:  # truncated or corrupt
        raise InputError(f"{p}: not a readable pickle ({type(e).__name__}: {e})") from None


# ------------------------------------------------------------------ reading
def _flatten(shape: Any, q: Any, ents: list[int], rels: list[int]) -> None:
    if isinstance(shape, str):
        if shape in (_E, _R):
            if not isinstance(q, int) or isinstance(q, bool) or q < 0:
                raise ValueError(f"expected an id for {shape!r}, got {q!r}")
            (ents if shape == _E else rels).append(q)
        elif q != (-2 if shape == _N else -1):
            raise ValueError(f"expected {-2 if shape == _N else -1} for {shape!r}, got {q!r}")
        return
    if not isinstance(q, tuple) or len(q) != len(shape):
        raise ValueError(f"expected a tuple of {len(shape)} for {shape!r}, got {q!r}")
    for s, x in zip(shape, q):
        _flatten(s, x, ents, rels)


def _id_map(obj: Any, source: Path) -> dict[int, str]:
    if not isinstance(obj, dict) or not all(
        isinstance(k, int) and isinstance(v, str) for k, v in obj.items()
    ):
        raise InputError(f"{source}: expected a dict of id -> name")
    return obj


def read_betae(
    folder: str | Path,
    split: str = "test",
    relation_mode: Literal["auto", "flip", "keep"] = "auto",
) -> list[SampledQuery]:
    """Read a split's BetaE query files as `SampledQuery` values (answers by entity name).

    Args:
        folder: the dataset folder with the ``.pkl`` files.
        split: ``train``, ``valid`` or ``test``.
        relation_mode: ``flip`` strips BetaE's ``+``/``-`` and writes a ``-r`` atom backwards;
            ``keep`` uses relation names as they are; ``auto`` flips when every name is signed.
    """
    root = Path(folder)
    id2ent = _id_map(safe_load_pickle(root / "id2ent.pkl"), root / "id2ent.pkl")
    id2rel = _id_map(safe_load_pickle(root / "id2rel.pkl"), root / "id2rel.pkl")
    if relation_mode == "auto":
        signed = bool(id2rel) and all(n[:1] in "+-" and len(n) > 1 for n in id2rel.values())
        relation_mode = "flip" if signed else "keep"
    qpath = root / f"{split}-queries.pkl"
    queries = safe_load_pickle(qpath)
    if split == "train":
        easy_map: dict[Any, Any] = {}
        hard_path = root / "train-answers.pkl"
    else:
        easy_path = root / f"{split}-easy-answers.pkl"
        easy_map = safe_load_pickle(easy_path)
        hard_path = root / f"{split}-hard-answers.pkl"
    hard_map = safe_load_pickle(hard_path)
    if not isinstance(queries, dict) or not isinstance(easy_map, dict) or not isinstance(hard_map, dict):
        raise InputError(f"{root}: the queries and answers files must each hold a dict")

    def ent(i: int, where: Path) -> str:
        try:
            return id2ent[i]
        except KeyError:
            raise InputError(f"{where}: entity id {i} is not in id2ent.pkl") from None

    def rel(j: int) -> tuple[str, bool]:
        try:
            name = id2rel[j]
        except KeyError:
            raise InputError(f"{qpath}: relation id {j} is not in id2rel.pkl") from None
        if relation_mode == "flip" and name[:1] in "+-":
            return name[1:], name[0] == "-"
        return name, False

    out: list[SampledQuery] = []
    for shape, group in queries.items():
        name = _SHAPE_NAMES.get(shape)
        if name is None:
            raise InputError(f"{qpath}: unknown query structure {shape!r}")
        for q in sorted(group, key=repr):
            ents: list[int] = []
            rels: list[int] = []
            try:
                _flatten(shape, q, ents, rels)
            except ValueError as e:
                raise InputError(f"{qpath}: a {name} query does not fit its structure: {e}") from None
            named = [rel(j) for j in rels]
            formula = instantiate(
                name, [ent(i, qpath) for i in ents], [n for n, _ in named], [f for _, f in named]
            )
            easy = frozenset(ent(i, hard_path) for i in easy_map.get(q, ()))
            hard = frozenset(ent(i, hard_path) for i in hard_map.get(q, ())) - easy
            out.append(SampledQuery(name, formula, easy, hard))
    return out


# ------------------------------------------------------------------ writing
def _fill(shape: Any, ents: Iterable[int], rels: Iterable[int]) -> Any:
    ei, ri = iter(ents), iter(rels)

    def go(s: Any) -> Any:
        if isinstance(s, str):
            return {_E: lambda: next(ei), _R: lambda: next(ri), _N: lambda: -2, _U: lambda: -1}[s]()
        return tuple(go(x) for x in s)

    return go(shape)


def _dump(obj: Any, path: Path) -> None:
    try:
        with path.open("wb") as fh:
            pickle.dump(obj, fh, protocol=4)
    except OSError as e:
        raise InputError(f"{path}: cannot write: {e.strerror or e}") from None


def write_betae(
    folder: str | Path,
    queries: Sequence[SampledQuery],
    split: str = "test",
    vocab: Vocabulary | None = None,
    reciprocal: bool = True,
) -> Path:
    """Write `queries` as a BetaE split (queries, answers, id maps and ``stats.txt``).

    Args:
        folder: created if missing; existing files of this split and the id maps are replaced.
        queries: each must instantiate one of the 14 BetaE structures.
        split: ``train`` writes ``train-answers.pkl`` (easy and hard together).
        vocab: the id order (default: the sorted names the queries use).
        reciprocal: relation ids as BetaE makes them, ``+r`` = ``2k`` and ``-r`` = ``2k + 1``,
            with backwards atoms written as ``-r``; without it relation ids are the
            vocabulary's and every atom must be forwards.
    """
    root = Path(folder)
    if vocab is None:
        names = {a for q in queries for a in (*q.formula.constants(), *q.easy, *q.hard)}
        vocab = Vocabulary.from_names(names, {r for q in queries for r in q.formula.relations()})
    if reciprocal:
        id2rel = {
            i: f"{sign}{r}"
            for k, r in enumerate(vocab.relations)
            for i, sign in ((2 * k, "+"), (2 * k + 1, "-"))
        }
    else:
        id2rel = dict(enumerate(vocab.relations))
    rel2id = {n: i for i, n in id2rel.items()}
    e2i = vocab.entity_to_id
    by_shape: dict[tuple[Any, ...], set[Any]] = {}
    easy_out: dict[Any, set[int]] = {}
    hard_out: dict[Any, set[int]] = {}
    for k, q in enumerate(queries):
        names = [q.structure] if q.structure else list(BETAE_SHAPES)
        if q.structure is not None and q.structure not in BETAE_SHAPES:
            raise InputError(f"query {k}: structure {get_structure(q.structure).name} has no BetaE form")
        m = match_structure(q.formula, names=names, allow_inverse=reciprocal)
        if m is None:
            raise InputError(f"query {k}: {q.formula} is not an instance of a BetaE structure")
        try:
            ents = [e2i[a] for a in m.anchors]
            if reciprocal:
                rels = [rel2id[("-" if inv else "+") + r] for r, inv in zip(m.relations, m.inverse)]
            else:
                rels = [rel2id[r] for r in m.relations]
            easy = {e2i[a] for a in q.easy}
            hard = {e2i[a] for a in q.hard}
        except KeyError as e:
            raise InputError(f"query {k}: {e.args[0]!r} is not in the vocabulary") from None
        shape = BETAE_SHAPES[m.name]
        tup = _fill(shape, ents, rels)
        group = by_shape.setdefault(shape, set())
        if tup in group:
            raise InputError(f"query {k}: the same {m.name} query appears twice")
        group.add(tup)
        easy_out[tup], hard_out[tup] = easy, hard
    root.mkdir(parents=True, exist_ok=True)
    id2ent = dict(enumerate(vocab.entities))
    _dump(id2ent, root / "id2ent.pkl")
    _dump({n: i for i, n in id2ent.items()}, root / "ent2id.pkl")
    _dump(id2rel, root / "id2rel.pkl")
    _dump(rel2id, root / "rel2id.pkl")
    _dump(by_shape, root / f"{split}-queries.pkl")
    if split == "train":
        _dump({t: easy_out[t] | hard_out[t] for t in hard_out}, root / "train-answers.pkl")
    else:
        _dump(easy_out, root / f"{split}-easy-answers.pkl")
        _dump(hard_out, root / f"{split}-hard-answers.pkl")
    (root / "stats.txt").write_text(
        f"numentity: {len(id2ent)}\nnumrelations: {len(id2rel)}\n", encoding="utf-8"
    )
    return root
