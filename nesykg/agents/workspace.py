"""`Workspace`: everything the agent's tools read: store, snapshot, predictors, rules, documents.

>>> ws = Workspace.open(store="kg.db", checkpoint="runs/complex", rules="rules.txt", documents="docs/")
>>> ws.graph.step("belgium", "neighbor")                 # names, as the tools speak them
>>> ws.iri("belgium")                                    # 'urn:nesykg:ds:countries_s1:belgium'

The snapshot is the union of the ``domain`` and ``inferred`` graphs, minus schema triples
(``rdf:type``, ``rdfs:*``, labels) and literal-valued ones, named by local names when every
edge lies in one dataset namespace. Rules are mined from it (unless ``mine=False``), read
from rules files and from the ``expert`` graph; the rule predictor over them is always
one of the workspace's predictors (``"rules"``), beside any checkpoint given. The snapshot
stays as opened: `refresh` re-reads the store (e.g. after a write-back).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nesykg.agents.documents import Documents, Passage
from nesykg.agents.kgview import KGView
from nesykg.agents.schema import DESCRIPTIONS, LABELS, SCHEMA_PREDICATES, Schema
from nesykg.kg.terms import DATASET_NS, Literal, dataset_namespace, local_name, mint

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.agents.calibration import Calibration
    from nesykg.kg.store import GraphStore
    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.base import LinkPredictor
    from nesykg.reasoners.rules.miner import MinerConfig
    from nesykg.reasoners.rules.syntax import Rule

__all__ = ["Workspace", "DEFAULT_MINER"]

DEFAULT_MINER: dict[str, Any] = {"max_length": 2, "min_confidence": 0.1, "min_support": 2, "seed": 0}
"""Settings of the rule mining a workspace runs on its snapshot (`MinerConfig` fields)."""


@dataclass
class Workspace:
    """The agent's world. Build it with `open` or `from_triples`.

    Attributes:
        store: the graph store (any backend); the write-back writes into its ``inferred`` graph.
        graph: the snapshot's edges by names (`KGView`).
        kg: the same snapshot as a `TensorKG` (ids for the predictors).
        namespace: the dataset namespace names are minted in, or ``None`` (names are IRIs).
        predictors: link predictors by name: ``"rules"``, and each checkpoint by its folder's
            name, made unique with ``-2``, ``-3``... (`_predictor_key`).
        rules: mined, file and expert rules.
        documents: searchable passages (files and entity descriptions).
        schema: the expert graph's schema (`Schema`).
        labels: entity name -> labels and aliases read from the store.
        calibration: predictor name -> its map from truth values to confidences (a model trained
            at open time, `nesykg.agents.calibration`).
    """

    store: GraphStore
    graph: KGView
    kg: TensorKG
    namespace: str | None
    predictors: dict[str, LinkPredictor] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    documents: Documents = field(default_factory=lambda: Documents([]))
    schema: Schema = field(default_factory=Schema)
    labels: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict, repr=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    calibration: dict[str, Calibration] = field(default_factory=dict)

    # ------------------------------------------------------------------ building
    @classmethod
    def open(
        cls,
        store: str | Path | GraphStore | None = None,
        checkpoint: str | Path | Sequence[str | Path] | None = None,
        rules: str | Path | Sequence[str | Path] | None = None,
        documents: str | Path | Documents | None = None,
        mine: bool | MinerConfig = True,
        graphs: Sequence[str] = ("domain", "inferred"),
        prior: bool = True,
        train: str | None = None,
    ) -> Workspace:
        """Open a workspace over a store.

        Args:
            store: a `GraphStore`, or where one lives (path, ``memory:``, ``neo4j://...``,
                ``http(s)://...``); ``None`` is an empty in-memory store.
            checkpoint: one or more predictor checkpoint folders (`load_predictor`).
            rules: one or more rules files (AnyBURL syntax).
            documents: a folder of ``.txt`` / ``.md`` files, or a built `Documents`.
            mine: mine rules from the snapshot (``True``: `DEFAULT_MINER`; or a `MinerConfig`).
            graphs: the graphs whose union is the snapshot.
            prior: add the relation-range prior (`nesykg.agents.prior.RangePrior`) as predictor
                ``"prior"``, the last fallback (its confidences stay below the write threshold).
            train: a model name (``complex``, ``transe``...): train that link predictor on the
                snapshot now as predictor ``"NAME-fit"``: seeded and bounded, on all but a held-out
                5% of the edges, on which its confidences are calibrated
                (`nesykg.agents.calibration.train_calibrated`).

        Raises:
            InputError: an unreadable checkpoint, rules file or document folder.
            UnknownNameError: a rule naming a relation the snapshot lacks.
        """
        from nesykg.kg import open_store

        st = store if store is not None and not isinstance(store, (str, Path)) else open_store(store)
        options = {"checkpoint": checkpoint, "rules": rules, "documents": documents, "mine": mine, "graphs": tuple(graphs),
                   "prior": prior, "train": train}
        ws = cls._build(st, options)
        return ws

    @classmethod
    def from_triples(
        cls, triples: Iterable[tuple[str, str, str]], name: str = "kb", store: str | None = None, **options: Any
    ) -> Workspace:
        """A workspace over name triples, minted into the namespace of dataset `name` and
        written into a new store (in memory unless `store` names one); `options` go to `open`."""
        from nesykg.kg import open_store

        ns = dataset_namespace(name)
        st = open_store(store)
        st.add_many([(mint(ns, h), mint(ns, r), mint(ns, t)) for h, r, t in triples])
        return cls.open(st, **options)

    @classmethod
    def _build(cls, st: GraphStore, options: dict[str, Any]) -> Workspace:
        from nesykg.kg.tensor import TensorKG

        graphs = options["graphs"]
        edges, literals = [], []
        for s, p, o in st.triples(graphs=list(graphs)):
            if p in SCHEMA_PREDICATES:
                continue
            if isinstance(o, Literal):
                literals.append((s, p, o))
            else:
                edges.append((s, p, o))
        from nesykg.kg.tensor import common_dataset_namespace

        ns = common_dataset_namespace(x for t in edges for x in t)
        name = (lambda iri: local_name(iri, ns)) if ns else (lambda iri: iri)
        named = sorted({(name(s), name(p), name(o)) for s, p, o in edges})
        label = ns[len(DATASET_NS):-1] if ns else st.name
        kg = TensorKG.from_triples({"train": named}, label, ns)
        labels: dict[str, list[str]] = defaultdict(list)
        passages = []
        for s, p, o in st.triples(graphs=["domain", "expert"]):
            if isinstance(o, Literal) and p in LABELS:
                labels[name(s)].append(o.value)
            elif isinstance(o, Literal) and p in DESCRIPTIONS:
                passages.append(Passage(f"entity:{name(s)}", o.value[:2000]))
        docs = options["documents"]
        if isinstance(docs, Documents):
            documents = docs
        else:
            documents = Documents.from_folder(docs) if docs is not None else Documents([])
        documents.extend(passages)
        ws = cls(st, KGView(named), kg, ns, documents=documents, labels=dict(labels), options=options)
        ws.schema = Schema.from_store(st, name)
        ws.rules = ws._load_rules()
        ws._load_predictors()
        return ws

    def _load_rules(self) -> list[Rule]:
        from nesykg.reasoners.rules.chaining import load_expert_rules
        from nesykg.reasoners.rules.syntax import read_rules

        out: list[Rule] = []
        mine = self.options["mine"]
        if mine and len(self.graph):
            from nesykg.reasoners.rules.miner import MinerConfig, mine_rules

            cfg = mine if isinstance(mine, MinerConfig) else MinerConfig(**DEFAULT_MINER)
            out.extend(mine_rules(self.kg, cfg).rules)
        paths = self.options["rules"]
        for p in [paths] if isinstance(paths, (str, Path)) else (paths or ()):
            out.extend(read_rules(p))
        out.extend(load_expert_rules(self.store))
        known = set(self.graph.relations)
        # a rule about relations the snapshot lacks cannot fire here
        return [r for r in out if r.relations() <= known]

    def _load_predictors(self) -> None:
        self.predictors = {}
        if self.rules and len(self.graph):
            from nesykg.reasoners.rules.predictor import RuleLinkPredictor

            self.predictors["rules"] = RuleLinkPredictor(self.kg, self.rules, aggregation="max+noisy-or")
        if self.options.get("prior", True) and len(self.graph):
            from nesykg.agents.prior import RangePrior

            self.predictors["prior"] = RangePrior(self.kg)
        model = self.options.get("train")
        if model and len(self.graph):
            from nesykg.agents.calibration import train_calibrated

            trained, calibration = train_calibrated(self.kg, str(model))
            key = self._predictor_key(Path(f"{model}-fit"), str(model))
            self.predictors[key] = trained
            self.calibration[key] = calibration
        cps = self.options["checkpoint"]
        for p in [cps] if isinstance(cps, (str, Path)) else (cps or ()):
            from nesykg.reasoners.checkpoint import load_predictor

            model = load_predictor(p)
            self.predictors[self._predictor_key(Path(p), type(model).name)] = model

    def _predictor_key(self, path: Path, model: str | None) -> str:
        """A checkpoint's predictor name: its folder's name (``runs/complex-d64`` -> ``complex-d64``),
        then ``-2``, ``-3``... when taken (two checkpoints of one model both stay)."""
        base = path.name or path.resolve().name or model or "model"
        key, n = base, 1
        while key in self.predictors:
            n += 1
            key = f"{base}-{n}"
        return key

    def refresh(self) -> Workspace:
        """A new workspace over the store as it is now (same options)."""
        return type(self)._build(self.store, self.options)

    # ------------------------------------------------------------------ names
    def iri(self, name: str) -> str:
        """The IRI of an entity or relation name."""
        return mint(self.namespace, name) if self.namespace else name

    def name(self, iri: str) -> str:
        """The name of an IRI (inverse of `iri`)."""
        return local_name(iri, self.namespace) if self.namespace else iri

    def rules_for(self, relation: str) -> list[Rule]:
        """Rules concluding `relation`, most confident first."""
        return sorted((r for r in self.rules if r.head.relation == relation), key=lambda r: (-r.confidence, r.text))

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __repr__(self) -> str:
        return (
            f"Workspace({self.store!r}, edges={len(self.graph)}, rules={len(self.rules)}, "
            f"predictors={sorted(self.predictors)}, passages={len(self.documents)})"
        )
