"""GraIL's inductive link-prediction splits (Teru, Denis, Hamilton, "Inductive Relation
Prediction by Subgraph Reasoning", ICML 2020, https://arxiv.org/abs/1911.06962).

Layout of a split folder (e.g. ``nell_v1`` + ``nell_v1_ind`` side by side)::

    train_graph/{train,valid,test}.txt       the graph a model is trained on
    inference_graph/{train,valid,test}.txt   new entities, same relations: predict
                                             ``test`` on the graph ``train``

`load_inductive` returns both as `TensorKG`s whose vocabularies share the training
graph's relations (same names, same ids), so a model tied to relations, not entities,
moves from one to the other (`nesykg.reasoners.gnn.GraphReasoner.on_graph`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nesykg.datasets.loader import _read_split
from nesykg.errors import InputError
from nesykg.kg.tensor import TensorKG
from nesykg.kg.terms import dataset_namespace
from nesykg.kg.vocab import Vocabulary

__all__ = ["InductiveSplit", "load_inductive", "is_inductive_folder"]

_PARTS = ("train_graph", "inference_graph")
_SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class InductiveSplit:
    """An inductive split.

    Attributes:
        name: the folder's name (``inductive-nell_v1``).
        path: the folder.
        train: the training graph (splits ``train``, ``valid``, ``test``).
        inference: the inference graph (``train`` is the graph to reason on, ``test`` the
            queries); its vocabulary's relations are ``train``'s.
    """

    name: str
    path: Path
    train: TensorKG
    inference: TensorKG


def is_inductive_folder(folder: str | Path) -> bool:
    """Whether `folder` has GraIL's layout (``train_graph/train.txt`` and ``inference_graph/train.txt``)."""
    p = Path(folder)
    return all((p / part / "train.txt").is_file() for part in _PARTS)


def _read_part(folder: Path) -> dict[str, tuple[tuple[str, str, str], ...]]:
    out = {}
    for split in _SPLITS:
        f = folder / f"{split}.txt"
        out[split] = _read_split(f) if f.is_file() else ()
    if not out["train"]:
        raise InputError(f"{folder / 'train.txt'}: missing or empty (the graph itself)")
    return out


def load_inductive(folder: str | Path, name: str | None = None) -> InductiveSplit:
    """Read a GraIL-layout folder.

    Raises:
        InputError: not that layout, an empty graph, or an inference relation the
            training graph lacks (naming the file).
        ParseError: a malformed line (file and line).
    """
    p = Path(folder)
    if not is_inductive_folder(p):
        raise InputError(f"{p}: not an inductive split (expected train_graph/train.txt and inference_graph/train.txt)")
    label = name or p.resolve().name.lower()
    ns = dataset_namespace(label)
    tr = _read_part(p / "train_graph")
    train = TensorKG.from_triples(tr, label, ns)
    inf = _read_part(p / "inference_graph")
    known = set(train.vocab.relations)
    for split, triples in inf.items():
        for h, r, t in triples:
            if r not in known:
                raise InputError(f"{p / 'inference_graph' / (split + '.txt')}: relation {r!r} is not in the training graph")
    ents = sorted({x for triples in inf.values() for h, _, t in triples for x in (h, t)})
    vocab = Vocabulary(tuple(ents), train.vocab.relations, ns)
    inference = TensorKG.from_triples(inf, f"{label}-inference", vocab=vocab)
    return InductiveSplit(label, p, train, inference)
