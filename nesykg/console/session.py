"""`ConsoleSession`: the console's state and what each input does, without a terminal.

One input is either a ``:command`` (one line) or a query in the current mode:

* ``sparql`` (default): a read-only SPARQL query, bounded (`timeout`, `max_rows`); the prefix
  ``ds:`` names the store's dataset namespace when the query does not declare it;
* ``cypher``: read-only Cypher (Neo4j stores only), `run_readonly_cypher`;
* ``fol``: an EFO-1 formula answered by `nesykg.reasoners.logic.answer` with the checkpoint's
  predictor over the store's observed graph (``domain``);
* ``ask``: a question for the agent (symbolic policy); what it would write back is shown
  and written only when confirmed.

Every write (``:undo``, the agent's write-back) asks `confirm` first; nothing else writes.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from nesykg.errors import InputError, NesykgError, UnknownNameError, printable

__all__ = ["COMMANDS", "MODES", "ConsoleSession", "one_line"]

MODES: dict[str, str] = {
    "sparql": "read-only SPARQL (default); prefixes ds: (the dataset), nk:, graph:",
    "cypher": "read-only Cypher (Neo4j stores only)",
    "fol": "EFO-1 formulas, e.g. ?y : exists x . neighbor(?y, x) & locatedin(x, europe)",
    "ask": "questions for the agent, e.g. what is the locatedin of [belgium] ?",
}
COMMANDS: dict[str, str] = {
    ":help": "this help",
    ":mode": ":mode NAME switches mode (sparql, cypher, fol, ask); :mode alone shows it",
    ":graphs": "the store's graphs and their sizes",
    ":runs": "the runs that wrote to 'inferred'",
    ":why": ":why S P O  provenance of a triple (local names or IRIs)",
    ":undo": ":undo RUN  remove what a run wrote (asks first)",
    ":explain": "groundings of the last fol answer, or the agent trace of the last ask",
    ":quit": "leave (also Ctrl-D)",
}
NAME_SCAN_LIMIT = 500_000
"""Triples read for the completion vocabulary (a huge store completes the names seen first)."""


def one_line(text: object) -> str:
    """`text` on one line, control characters escaped."""
    return printable(re.sub(r"\s*[\r\n]+\s*", " ", str(text)).strip())


def _yes_no(prompt: str) -> bool:
    return input(prompt).strip().lower() in ("y", "yes")


class ConsoleSession:
    """The console's state over one open store.

    Args:
        store: an open `GraphStore` (the caller closes it).
        checkpoint: predictor checkpoint folder for the ``fol`` mode (and the agent's tools).
        out: a rich ``Console`` to print to (default: a new one on stdout).
        confirm: asks a y/N question; ``True`` means yes (default: ``input``).
        timeout: seconds a query may run.
        max_rows: rows a query keeps.
        display_rows: rows a result table shows (a count says how many more there are).
    """

    def __init__(
        self,
        store: Any,
        checkpoint: Path | None = None,
        out: Any = None,
        confirm: Callable[[str], bool] | None = None,
        timeout: float = 60.0,
        max_rows: int = 1000,
        display_rows: int = 20,
    ) -> None:
        if out is None:
            from rich.console import Console

            out = Console()
        self.store = store
        self.checkpoint = checkpoint
        self.out = out
        self.confirm = confirm or _yes_no
        self.timeout = timeout
        self.max_rows = max_rows
        self.display_rows = display_rows
        self.mode = "sparql"
        self.last: tuple[str, Any] | None = None
        self._names: list[str] | None = None
        self._namespace: str | None = None
        self._predictor: Any = None
        self._observed: Any = None
        self._workspace: Any = None

    # ------------------------------------------------------------------ names
    def _scan_names(self) -> None:
        from nesykg.kg.terms import DATASET_NS, local_name

        names: set[str] = set()
        spaces: set[str] = set()
        for triple in islice(self.store.triples(), NAME_SCAN_LIMIT):
            for i, term in enumerate(triple):
                if not isinstance(term, str) or (i == 2 and not _looks_like_iri(term)):
                    continue
                if term.startswith(DATASET_NS):
                    head, sep, _ = term[len(DATASET_NS):].partition(":")
                    if sep:
                        spaces.add(f"{DATASET_NS}{head}:")
                names.add(local_name(term))
        self._namespace = next(iter(spaces)) if len(spaces) == 1 else None
        self._names = sorted(names)

    def names(self) -> list[str]:
        """Entity and relation names of the store (local names in its dataset namespace), sorted."""
        if self._names is None:
            self._scan_names()
        assert self._names is not None
        return self._names

    @property
    def namespace(self) -> str | None:
        """The store's one dataset namespace (``urn:nesykg:ds:NAME:``), else ``None``."""
        if self._names is None:
            self._scan_names()
        return self._namespace

    def iri(self, name: str) -> str:
        """The IRI of a local name or an IRI (``<...>`` or one with a scheme) as given."""
        from nesykg.kg.terms import mint

        name = name.strip()
        if name.startswith("<") and name.endswith(">"):
            return name[1:-1]
        if _looks_like_iri(name) or self.namespace is None:
            return name
        return mint(self.namespace, name)

    def _invalidate(self) -> None:
        """The store changed: names, the observed graph and the workspace are read again."""
        self._names = None
        self._observed = None
        self._workspace = None

    # ------------------------------------------------------------------ entry
    def execute(self, text: str) -> bool:
        """Run one input; print its result, or its error as one line. ``False``: leave.

        KeyboardInterrupt (Ctrl-C) is not caught: the caller returns to its prompt.
        """
        try:
            return self.handle(text)
        except (NesykgError, KeyError, ValueError, TypeError, OSError) as e:
            msg = e.args[0] if isinstance(e, KeyError) and e.args else e
            self.error(msg)
        except Exception as e:  # noqa: BLE001 - the console keeps running whatever a query does
            self.error(f"{type(e).__name__}: {e}")
        return True

    def error(self, message: object) -> None:
        """Print ``error: MESSAGE`` as one line."""
        self.out.print(f"error: {one_line(message)}", markup=False, highlight=False, soft_wrap=True,
                       style="bold red")

    def say(self, text: str) -> None:
        self.out.print(text, markup=False, highlight=False, soft_wrap=True)

    def handle(self, text: str) -> bool:
        """Run one input, raising its errors. ``False``: leave."""
        text = text.strip()
        if not text:
            return True
        if text.startswith(":"):
            return self._command(text)
        query = text[:-1].rstrip() if text.endswith(";") else text
        if not query:
            return True
        getattr(self, f"_run_{self.mode}")(query)
        return True

    # ------------------------------------------------------------------ commands
    def _command(self, text: str) -> bool:
        try:
            parts = shlex.split(text)
        except ValueError as e:
            raise InputError(f"{text.split()[0]}: {e}") from None
        name, args = parts[0], parts[1:]
        if name in (":quit", ":q", ":exit"):
            return False
        handler = {
            ":help": self._help, ":mode": self._mode, ":graphs": self._graphs, ":runs": self._runs,
            ":why": self._why, ":undo": self._undo, ":explain": self._explain,
        }.get(name)
        if handler is None:
            raise UnknownNameError("command", name, COMMANDS)
        handler(args)
        return True

    def _help(self, args: Sequence[str]) -> None:
        from rich.table import Table

        t = Table(title=f"mode: {self.mode}", show_header=False)
        for k, v in COMMANDS.items():
            t.add_row(k, v)
        for k, v in MODES.items():
            t.add_row(f"mode {k}", v)
        self.out.print(t)
        self.say("A query ends with ';' or an empty line; Tab completes names and :commands; "
                 "Ctrl-C cancels a running query, Ctrl-D leaves.")

    def _mode(self, args: Sequence[str]) -> None:
        if not args:
            self.say(f"mode {self.mode} ({', '.join(MODES)})")
            return
        mode = args[0].lower()
        if mode not in MODES:
            raise UnknownNameError("mode", mode, MODES)
        if mode == "cypher" and not _supports_cypher(self.store):
            raise InputError(f"cypher needs a Neo4j store; this one is {self.store.name} (use sparql)")
        if mode == "fol" and self.checkpoint is None:
            raise InputError("fol needs a predictor: start the console with --checkpoint DIR")
        self.mode = mode
        self.say(f"mode {mode}: {MODES[mode]}")

    def _graphs(self, args: Sequence[str]) -> None:
        self._table(["graph", "triples"], [[g, str(self.store.count(graphs=g))] for g in self.store.graphs()])

    def _runs(self, args: Sequence[str]) -> None:
        runs = self.store.runs()
        if not runs:
            self.say("no runs: nothing was written to 'inferred'")
            return
        self._table(["run", "method", "triples", "started"],
                    [[r.run_id, r.method, str(r.triples), r.started.isoformat()] for r in runs])

    def _why(self, args: Sequence[str]) -> None:
        if len(args) != 3:
            raise InputError(":why takes a subject, a predicate and an object, e.g. :why belgium locatedin europe")
        triple = tuple(self.iri(a) for a in args)
        shown = " ".join(self.local(x) for x in triple)
        graphs = [g for g in self.store.graphs() if self.store.count(triple, graphs=g)]
        records = self.store.provenance(triple)
        if not graphs and not records:
            self.say(f"{shown}: not in the store")
            return
        self.say(f"{shown}: in {', '.join(graphs) or 'no graph'}"
                 + ("" if records else " (observed: no provenance)"))
        if records:
            self._table(["confidence", "method", "run", "time", "evidence"],
                        [[f"{p.confidence:.3f}", p.method, p.run_id, p.time.isoformat(), p.evidence] for p in records])

    def _undo(self, args: Sequence[str]) -> None:
        if len(args) != 1:
            raise InputError(":undo takes one run id (see :runs)")
        run = args[0]
        info = next((r for r in self.store.runs() if r.run_id == run), None)
        if info is None:
            raise UnknownNameError("run", run, [r.run_id for r in self.store.runs()])
        if not self.confirm(f"undo run {run} ({info.method}): remove {info.triples} triple(s) from 'inferred'? [y/N] "):
            self.say("not undone")
            return
        removed = self.store.undo(run)
        self._invalidate()
        self.say(f"undid run {run}: removed {removed} triple(s)")

    def _explain(self, args: Sequence[str]) -> None:
        if self.last is None:
            raise InputError(":explain explains the last fol or ask answer; there is none yet")
        kind, res = self.last
        if kind == "fol":
            for a in res.answers:
                if a.explanation is None:
                    continue
                binding = ", ".join(f"{v} = {e}" for v, e in a.explanation.assignment.items())
                self.say(f"{a.rank:>3}. {a.entity}  {a.truth:.4f}  because {binding}:")
                for text, t in a.explanation.literals:
                    self.say(f"         {t:.3f}  {text}")
            return
        for s in res.trace:
            self.say(f"{s['step']}. {s['thought']}")
            self.say(f"   {s['action']}({s['arguments']})")
            self.say(f"   -> {'' if s['ok'] else 'error: '}{one_line(s['observation'])[:400]}")
        for p in res.proposals:
            verdict = "accepted" if p["accepted"] else "refused: " + "; ".join(p["refused"])
            self.say(f"  proposed {tuple(p['triple'])} confidence {p['confidence']:.3f} ({p['method']}): {verdict}")

    # ------------------------------------------------------------------ modes
    def _run_sparql(self, query: str) -> None:
        ns = self.namespace
        if ns and re.search(r"\bds:", query) and not re.search(r"(?i)\bprefix\s+ds:", query):
            query = f"PREFIX ds: <{ns}> {query}"  # on the first line: error lines stay right
        result = self.store.sparql(query, timeout=self.timeout, max_rows=self.max_rows)
        truncated = bool(getattr(result, "truncated", False))
        if isinstance(result, bool):
            self.say("yes" if result else "no")
            return
        rows = list(result)
        if rows and isinstance(rows[0], dict):
            cols = list(dict.fromkeys(k for row in rows for k in row))
            body = [[self.local(row[c]) if c in row else "" for c in cols] for row in rows]
        else:
            cols = ["subject", "predicate", "object"]
            body = [[self.local(x) for x in t] for t in rows]
        self._table(cols, body, cut=f"more than {self.max_rows} rows match; kept {self.max_rows}" if truncated else "")

    def _run_cypher(self, query: str) -> None:
        from nesykg.kg.backends.neo4j.cypher import run_readonly_cypher

        res = run_readonly_cypher(self.store, query, limit=self.max_rows, timeout_s=self.timeout)
        self._table(res.columns, [[str(r.get(c, "")) for c in res.columns] for r in res.rows],
                    cut=f"more than {self.max_rows} rows match" if res.truncated else "")

    def _run_fol(self, query: str) -> None:
        from nesykg.reasoners.logic import parse_formula
        from nesykg.reasoners.logic.answer import answer

        formula = parse_formula(query)
        predictor, kg = self._fol_inputs()
        t = kg.triples("train").tolist()
        ents = {kg.vocab.entities[i] for h, _, o in t for i in (h, o)}
        rels = {kg.vocab.relations[r] for _, r, _ in t}
        for c in formula.constants():
            if c not in ents:
                raise UnknownNameError("entity (in the store)", c, sorted(ents))
        for r in formula.relations():
            if r not in rels:
                raise UnknownNameError("relation (in the store)", r, sorted(rels))
        res = answer(formula, predictor, kg.triples("train"), top_k=self.display_rows, explain=True)
        self.last = ("fol", res)
        self.say(f"{res.formula}   [{res.reasoner}, {res.seconds * 1000:.0f} ms]")
        if not res.answers:
            self.say("no answer with a truth value above 0")
            return
        self._table(["rank", "entity", "truth"], [[str(a.rank), a.entity, f"{a.truth:.4f}"] for a in res.answers])
        self.say("groundings: :explain")

    def _fol_inputs(self) -> tuple[Any, Any]:
        if self.checkpoint is None:
            raise InputError("fol needs a predictor: start the console with --checkpoint DIR")
        if self._predictor is None:
            from nesykg.reasoners.checkpoint import load_predictor

            self._predictor = load_predictor(self.checkpoint)
        if self._observed is None:
            from nesykg.errors import VocabularyMismatchError
            from nesykg.kg.tensor import TensorKG

            try:
                self._observed = TensorKG.from_store(self.store, graphs="domain", vocab=self._predictor.vocab)
            except InputError as e:
                raise VocabularyMismatchError(
                    f"the store does not match the vocabulary of checkpoint {self.checkpoint}: {one_line(e)}"
                ) from None
        return self._predictor, self._observed

    def _run_ask(self, question: str) -> None:
        from nesykg.agents import AgentConfig, Executor, Planner, Workspace
        from nesykg.agents.writeback import commit

        if self._workspace is None:
            self._workspace = Workspace.open(self.store, checkpoint=self.checkpoint)
        ws = self._workspace
        agent = Executor(ws, Planner(ws), "symbolic", AgentConfig(dry_run=True))
        res = agent.ask(question)
        self.last = ("ask", res)
        self.say(f"answers: {', '.join(res.answers[:5]) or '(none)'}   ({res.steps} steps, {res.seconds:.2f} s; "
                 "trace: :explain)")
        accepted = [p for p in agent.ep.proposals if p.accepted]
        if not accepted:
            return
        self._table(["subject", "relation", "object", "confidence", "method"],
                    [[*p.triple, f"{p.support.confidence:.3f}", p.support.method] for p in accepted])
        if not self.confirm(f"write these {len(accepted)} triple(s) to 'inferred' with provenance? [y/N] "):
            self.say("nothing written")
            return
        from nesykg.kg.provenance import new_run_id

        run = new_run_id("agent")
        written = commit(ws, agent.ep.proposals, run, question, agent.policy.name)
        self._invalidate()
        self.say(f"run {run}: {len(written)} triple(s) written (undo: :undo {run})")

    # ------------------------------------------------------------------ output
    def local(self, term: object) -> str:
        """A term as shown: local names for IRIs, quoted literal values."""
        from nesykg.kg.terms import Literal, local_name

        if isinstance(term, Literal):
            return repr(term.value) + (f"@{term.language}" if term.language else "")
        if isinstance(term, tuple):
            return "<< " + " ".join(self.local(x) for x in term) + " >>"
        return local_name(str(term))

    def _table(self, cols: Sequence[str], rows: Sequence[Sequence[str]], cut: str = "") -> None:
        """Rows as a rich table, at most `display_rows` of them, with a count."""
        from rich.table import Table

        t = Table()
        for c in cols:
            t.add_column(c, overflow="fold")  # run ids and IRIs are copied from here: never cut them
        for row in rows[: self.display_rows]:
            t.add_row(*(printable(str(x)) for x in row))
        self.out.print(t)
        shown = min(len(rows), self.display_rows)
        note = f"{len(rows)} row(s)" if shown == len(rows) else f"{shown} of {len(rows)} row(s) shown"
        self.say(note + (f"; {cut}" if cut else ""))


def _looks_like_iri(text: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]", text)) and ("://" in text or text.startswith("urn:"))


def _supports_cypher(store: Any) -> bool:
    from nesykg.kg.store import Capability

    return bool(store.supports(Capability.CYPHER))
