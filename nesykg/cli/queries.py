"""``nesykg queries | query | cqa``: complex (EFO-1) queries from the command line.

* ``queries sample``: ground query structures on a dataset, with easy and hard answers (JSONL);
* ``queries import-betae``: convert the BetaE/KGReasoning pickle files to JSONL;
* ``query``: answer one formula with a checkpoint (FIT by default), optionally explained;
* ``cqa eval``: filtered MRR / Hits@k of a reasoner on a JSONL file, per query type.

Thin: names in, `nesykg.datasets` and `nesykg.reasoners.logic` do the work; torch loads
inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from nesykg.cli.common import JsonOpt, console, print_json, print_warning
from nesykg.cli.rundir import RunDirOpt, cli_run
from nesykg.errors import InputError, VocabularyMismatchError

__all__ = ["app", "cqa_app", "query", "demo_step"]

app = typer.Typer(
    rich_markup_mode="markdown", help="Sample and convert complex (EFO-1) query sets.", no_args_is_help=True
)
cqa_app = typer.Typer(
    rich_markup_mode="markdown", help="Evaluate complex query answering (FIT, CQD-beam, exact).",
    no_args_is_help=True,
)

CheckpointOpt = Annotated[Path, typer.Option("--checkpoint", "-c", help="Checkpoint folder ('nesykg train').")]
ReasonerOpt = Annotated[str, typer.Option("--reasoner", "-r", help="fit (default), cqd (trees only) or exact.")]
GROUPS = {"all": "ALL_STRUCTURES", "betae": "BETAE_STRUCTURES", "fit": "FIT_STRUCTURES"}


def _structures(types: str) -> list[str]:
    from nesykg.reasoners import logic
    from nesykg.reasoners.logic import get_structure

    out: list[str] = []
    for t in (x.strip() for x in types.split(",")):
        if not t:
            continue
        out.extend(getattr(logic, GROUPS[t]) if t in GROUPS else [get_structure(t).name])
    if not out:
        raise InputError("--types names no structure (e.g. 1p,2p,2in,3c, or all, betae, fit)")
    return list(dict.fromkeys(out))


@app.command("sample")
def sample_cmd(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Built-in dataset name or a folder with train/valid/test files.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write.")],
    types: Annotated[str, typer.Option("--types", "-t", help="Comma-separated structures (1p,2p,...,3cm) or all, betae, fit.")] = "all",
    num: Annotated[int, typer.Option("--num", "-n", min=0, help="Queries per structure.")] = 1000,
    split: Annotated[str, typer.Option("--split", help="test (easy answers on train+valid), valid or train.")] = "test",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    max_answers: Annotated[int, typer.Option("--max-answers", min=1, help="Reject groundings with more answers.")] = 100,
    allow_fewer: Annotated[bool, typer.Option("--allow-fewer", help="Write fewer queries when a structure runs out of groundings.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Sample queries with easy and hard answers (BetaE's protocol) and write them as JSONL."""
    from collections import Counter

    from nesykg.cli.progress import stage_progress
    from nesykg.datasets import load_dataset
    from nesykg.datasets.queries import sample_queries, write_queries_jsonl

    if split not in ("train", "valid", "test"):
        raise InputError(f"--split must be train, valid or test, got {split!r}")
    names = _structures(types)
    ds = load_dataset(dataset)
    with stage_progress() as bar:
        qs = sample_queries(
            ds, names, num, split=split, seed=seed, max_answers=max_answers,  # type: ignore[arg-type]
            allow_fewer=allow_fewer, progress=bar,
        )
    write_queries_jsonl(qs, out)
    counts = Counter(q.structure for q in qs)
    if json_out:
        print_json({"out": str(out), "dataset": ds.name, "split": split, "counts": dict(counts)})
        return
    console().print(f"wrote {len(qs)} queries ({', '.join(f'{k} {v}' for k, v in counts.items())}) to {out}")


@app.command("import-betae")
def import_betae_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder with the BetaE .pkl files (test-queries.pkl, id2ent.pkl...).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write.")],
    split: Annotated[str, typer.Option("--split", help="train, valid or test.")] = "test",
    json_out: JsonOpt = False,
) -> None:
    """Convert BetaE/KGReasoning query files to JSONL (pickles read through a restricted unpickler)."""
    from collections import Counter

    from nesykg.datasets.betae import read_betae
    from nesykg.datasets.queries import write_queries_jsonl

    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder (expected the BetaE .pkl files)")
    qs = read_betae(folder, split)
    write_queries_jsonl(qs, out)
    counts = Counter(q.structure or "adhoc" for q in qs)
    if json_out:
        print_json({"out": str(out), "counts": dict(counts)})
        return
    console().print(f"wrote {len(qs)} queries ({', '.join(f'{k} {v}' for k, v in counts.items())}) to {out}")


def _checkpoint_graph(checkpoint: Path, vocab: Any, splits: tuple[str, ...]) -> Any:
    """The observed edges of the checkpoint's own dataset (`splits`), or None when it cannot be found."""
    from nesykg.reasoners.checkpoint import read_meta

    ref = read_meta(checkpoint).get("dataset")
    if not ref:
        return None
    from nesykg.pipeline import load_dataset_kg

    try:
        kg = load_dataset_kg(ref)
    except (InputError, KeyError):
        print_warning(f"dataset {ref!r} of {checkpoint} not found: answering from the predictor alone")
        return None
    vocab.check_same(kg.vocab, what=f"checkpoint {checkpoint}")
    import torch

    return torch.cat([kg.triples(s) for s in splits if s in kg.splits])


def _store_graph(store: str, predictor: Any, checkpoint: Path) -> Any:
    """The store's edges mapped through the checkpoint's vocabulary (every name must be in it)."""
    from nesykg.cli.common import open_cli_store
    from nesykg.kg.tensor import TensorKG

    with open_cli_store(store) as st:
        try:
            kg = TensorKG.from_store(st, vocab=predictor.vocab)
        except InputError as e:
            raise VocabularyMismatchError(
                f"the store {store} does not match the vocabulary of checkpoint {checkpoint} "
                f"({len(predictor.vocab.entities)} entities, {len(predictor.vocab.relations)} relations): {e}"
            ) from None
    return kg


def _store_names(kg: Any) -> tuple[set[str], set[str]]:
    t = kg.triples("train").tolist()
    ents = {kg.vocab.entities[i] for h, _, o in t for i in (h, o)}
    rels = {kg.vocab.relations[r] for _, r, _ in t}
    return ents, rels


def _check_in_store(formula: Any, kg: Any, store: str) -> None:
    from nesykg.errors import UnknownNameError

    ents, rels = _store_names(kg)
    for c in formula.constants():
        if c not in ents:
            raise UnknownNameError(f"entity (in store {store})", c, sorted(ents))
    for r in formula.relations():
        if r not in rels:
            raise UnknownNameError(f"relation (in store {store})", r, sorted(rels))


def query(
    formula: Annotated[str, typer.Argument(help="The formula, e.g. '?y : exists x . locatedin(x, europe) & neighbor(x, ?y)'.")],
    checkpoint: CheckpointOpt,
    store: Annotated[Optional[str], typer.Option("--store", "-s", help="Resolve constants against this store and take the observed edges from it (default: the checkpoint's training data).")] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="How many answers.")] = 10,
    reasoner: ReasonerOpt = "fit",
    explain: Annotated[bool, typer.Option("--explain", help="Print each answer's best grounding and the truth of every atom.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Answer one EFO-1 formula with a checkpoint: ranked entities with truth values."""
    from nesykg.reasoners.checkpoint import load_predictor
    from nesykg.reasoners.logic import parse_formula
    from nesykg.reasoners.logic.answer import REASONERS, answer

    f = parse_formula(formula)
    REASONERS.path(reasoner)  # an unknown reasoner fails before the checkpoint loads
    predictor = load_predictor(checkpoint)
    if store is not None:
        kg = _store_graph(store, predictor, checkpoint)
        _check_in_store(f, kg, store)
        graph = kg.triples("train")
    else:
        graph = _checkpoint_graph(checkpoint, predictor.vocab, ("train",))
    res = answer(f, predictor, graph, top_k=top_k, reasoner=reasoner, explain=explain)
    if json_out:
        print_json(res.as_dict())
        return
    out = console()
    out.print(f"{res.formula}   [{res.reasoner}, {res.seconds * 1000:.0f} ms]", markup=False, highlight=False)
    if not res.answers:
        out.print("no answer with a truth value above 0")
    for a in res.answers:
        out.print(f"{a.rank:>3}. {a.entity}  {a.truth:.4f}", markup=False, highlight=False)
        if a.explanation is not None:
            binding = ", ".join(f"{v} = {e}" for v, e in a.explanation.assignment.items())
            out.print(f"       because {binding}:", markup=False, highlight=False)
            for text, t in a.explanation.literals:
                out.print(f"         {t:.3f}  {text}", markup=False, highlight=False)


@cqa_app.command("eval")
def eval_cmd(
    checkpoint: CheckpointOpt,
    queries: Annotated[Path, typer.Option("--queries", "-q", help="JSONL file from 'nesykg queries sample' or 'import-betae'.")],
    reasoner: ReasonerOpt = "fit",
    dataset: Annotated[Optional[str], typer.Option("--dataset", "-d", help="Dataset whose train+valid edges are observed (default: the checkpoint's).")] = None,
    run_dir: RunDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Filtered MRR and Hits@1/3/10 on hard answers, per query type (test-split queries: train+valid observed).

    The run is recorded in --run-dir (default: a new runs/<UTC time>-cqa-eval folder)."""
    import torch

    from nesykg.cli.progress import stage_progress
    from nesykg.datasets.queries import read_queries_jsonl
    from nesykg.reasoners.checkpoint import load_predictor
    from nesykg.reasoners.logic.answer import REASONERS, make_reasoner
    from nesykg.reasoners.logic.cqa_eval import evaluate_queries

    REASONERS.path(reasoner)
    qs = read_queries_jsonl(queries)
    if not qs:
        raise InputError(f"{queries}: no queries")
    predictor = load_predictor(checkpoint)
    if dataset is not None:
        from nesykg.pipeline import load_dataset_kg

        kg = load_dataset_kg(dataset)
        predictor.vocab.check_same(kg.vocab, what=f"checkpoint {checkpoint}")  # type: ignore[union-attr]
        graph = torch.cat([kg.triples(s) for s in ("train", "valid") if s in kg.splits])
    else:
        graph = _checkpoint_graph(checkpoint, predictor.vocab, ("train", "valid"))
    r = make_reasoner(reasoner, predictor, graph)
    from nesykg.reasoners.checkpoint import read_meta

    config = {"checkpoint": checkpoint, "queries": queries, "reasoner": r.name, "dataset": dataset,
              "model": read_meta(checkpoint).get("model"), "num_queries": len(qs)}
    with cli_run(run_dir, "cqa eval", config) as run:
        with stage_progress() as bar:
            report = evaluate_queries(r, qs, progress=bar)
        run.metrics = {"reasoner": report.reasoner, "per_type": report.metrics, "latency_ms": report.latency_ms,
                       "refused": report.refused}
        run.timings["evaluation_seconds"] = round(report.seconds, 4)
    if json_out:
        print_json({**report.as_dict(), "run_dir": str(run.path)})
        return
    console().print(f"{r.name} on {len(qs)} queries from {queries} ({report.seconds:.1f} s)", markup=False)
    console().print(report.table(), markup=False, highlight=False)
    console().print(f"run recorded in {run.path}", markup=False, highlight=False)


DEMO_FORMULA = "?y : exists x . neighbor(?y, x) & locatedin(x, western_europe) & locatedin(?y, europe)"


def demo_step(ctx: Any) -> None:
    """A complex query over Countries whose answers need facts the store lacks, answered and explained by FIT."""
    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.checkpoint import load_predictor
    from nesykg.reasoners.logic import GraphIndex, exact_answer_names, parse_formula
    from nesykg.reasoners.logic.answer import answer

    out = ctx.console
    out.rule("[bold]Complex query (FIT): European countries that border a western European one")
    folder = ctx.extras.get("linkpred_checkpoint")
    if folder is None:
        out.print("(skipped: no trained predictor)")
        return
    model = load_predictor(folder)
    kg = TensorKG.from_store(ctx.store, graphs="domain", vocab=model.vocab)  # what the store observes
    f = parse_formula(DEMO_FORMULA)
    out.print(DEMO_FORMULA, markup=False, highlight=False)
    known = exact_answer_names(f, GraphIndex.from_tensor_kg(kg))
    res = answer(f, model, kg, top_k=len(known) + 5, explain=True)
    new = [a for a in res.answers if a.entity not in known]
    out.print(f"the store alone answers {len(known)} countries (exact, closed world); FIT ({res.seconds * 1000:.0f} ms) "
              f"also ranks {', '.join(f'{a.entity} ({a.truth:.2f})' for a in new[:3]) or 'nothing new'}", markup=False)
    if not new:
        return
    a = new[0]
    assert a.explanation is not None
    binding = ", ".join(f"{v} = {e}" for v, e in a.explanation.assignment.items())
    out.print(f"why {a.entity}? best grounding {binding}:", markup=False, highlight=False)
    stored = {(kg.vocab.entities[h], kg.vocab.relations[r], kg.vocab.entities[t]) for h, r, t in kg.triples().tolist()}
    for text, t in a.explanation.literals:
        rel, args = text.split("(", 1)
        s, o = (x.strip() for x in args.rstrip(")").split(","))
        note = "in the store" if (s, rel, o) in stored else "NOT in the store: predicted by ComplEx"
        out.print(f"  {t:.3f}  {text}   ({note})", markup=False, highlight=False)
