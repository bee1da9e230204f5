"""``nesykg rules mine | eval | apply | explain | import``: symbolic Horn rules.

Rules files use AnyBURL's syntax, one rule per line (see
`nesykg.reasoners.rules.syntax`). ``mine --out DIR`` writes a rule-predictor checkpoint
that ``nesykg eval`` and ``nesykg predict`` take like any other. numpy, scipy and torch are
imported inside the commands, so ``nesykg --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from nesykg.cli.common import DEFAULT_STORE, JsonOpt, StoreOpt, console, open_cli_store, print_json
from nesykg.cli.rundir import CheckpointRunDirOpt, RunDirOpt, cli_run
from nesykg.errors import InputError

__all__ = ["app", "mine", "evaluate", "apply", "explain", "import_rules", "demo_step"]

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Horn rules: mine them, evaluate them as a link predictor, explain predictions, "
    "materialise conclusions into the 'inferred' graph.",
    no_args_is_help=True,
)

DatasetOpt = Annotated[str, typer.Option("--dataset", "-d", help="Built-in dataset name or a folder with train/valid/test files.")]
RulesOpt = Annotated[Path, typer.Option("--rules", "-r", help="Rules file (AnyBURL syntax, one rule per line).")]
AggOpt = Annotated[str, typer.Option("--aggregation", "-a", help="max, noisy-or or max+noisy-or (max, ties broken by all groundings).")]
SmoothOpt = Annotated[float, typer.Option("--smoothing", help="k of the pessimistic confidence support / (body + k); 0 uses the file's confidence.")]
ConfKindOpt = Annotated[str, typer.Option("--confidence", help="Which mined confidence to apply: rule (standard) or pca.")]


def _load(dataset: str) -> tuple[Any, Any]:
    from nesykg.datasets import load_dataset
    from nesykg.kg.tensor import TensorKG

    ds = load_dataset(dataset)
    return ds, TensorKG.from_dataset(ds)


def _rule_predictor(kg: Any, rules: Any, aggregation: str, smoothing: float, confidence: str) -> Any:
    from nesykg.reasoners.rules.predictor import RuleLinkPredictor

    return RuleLinkPredictor(kg, rules, aggregation=aggregation, smoothing=smoothing, confidence=confidence)  # type: ignore[arg-type]


def _predictor(kg: Any, rules_path: Path, aggregation: str, smoothing: float, confidence: str) -> Any:
    from nesykg.reasoners.rules.syntax import read_rules

    return _rule_predictor(kg, read_rules(rules_path), aggregation, smoothing, confidence)


def mine(
    dataset: DatasetOpt,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="FILE.txt: a rules file; a folder (no .txt suffix): a rule-predictor checkpoint."),
    ],
    max_length: Annotated[int, typer.Option("--max-length", help="Longest body of a path rule (1-3).")] = 3,
    min_conf: Annotated[float, typer.Option("--min-conf", help="Least standard confidence.")] = 0.1,
    min_support: Annotated[int, typer.Option("--min-support", help="Least support (true predictions).")] = 2,
    constants: Annotated[bool, typer.Option("--constants/--no-constants", help="Also mine rules with constants.")] = True,
    time_budget: Annotated[Optional[float], typer.Option("--time-budget", help="Seconds at most (default: no limit).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the path sampling.")] = 0,
    aggregation: AggOpt = "max+noisy-or",
    smoothing: SmoothOpt = 5.0,
    confidence: ConfKindOpt = "rule",
    run_dir: CheckpointRunDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Mine Horn rules from a dataset's training split.

    With --out FILE.txt, write them to a rules file. With --out DIR (a path without a .txt
    suffix, or an existing folder), write a rule-predictor checkpoint: the rules, the facts
    they apply to, vocab.json and config.json (with --aggregation, --smoothing,
    --confidence); then 'nesykg eval --checkpoint DIR' and 'nesykg predict --checkpoint DIR'.
    The run is recorded in --run-dir (default: DIR/run, or runs/<UTC time>-rules-mine for a file).
    """
    from nesykg.cli.progress import stage_progress
    from nesykg.reasoners.rules.miner import MinerConfig, mine_rules
    from nesykg.reasoners.rules.syntax import write_rules

    cfg = MinerConfig(
        max_length=max_length, min_confidence=min_conf, min_support=min_support, constants=constants, time_budget=time_budget, seed=seed
    )
    as_folder = out.is_dir() or out.suffix.lower() != ".txt"
    if as_folder and out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder (a rules file needs the .txt suffix)")
    ds, kg = _load(dataset)
    if as_folder:  # check the application flags before mining
        from nesykg.reasoners.rules.predictor import RuleConfig

        RuleConfig(aggregation, smoothing, 0.0, confidence)
    from dataclasses import asdict

    run_config = {"dataset": ds.name, "out": out, **asdict(cfg)}
    if as_folder:
        run_config.update(aggregation=aggregation, smoothing=smoothing, confidence=confidence)
    with cli_run(run_dir, "rules mine", run_config, checkpoint=out if as_folder else None) as run:
        with stage_progress() as progress:
            res = mine_rules(kg, cfg, progress=progress)
        if as_folder:
            from nesykg.reasoners.checkpoint import dataset_reference, save_predictor

            pred = _rule_predictor(kg, res.rules, aggregation, smoothing, confidence)
            save_predictor(pred, out, dataset=dataset_reference(dataset, ds.name, ds.path), miner=asdict(cfg))
        else:
            write_rules(res.rules, out)
        kinds: dict[str, int] = {}
        for r in res.rules:
            key = f"path-{r.length}" if r.kind == "path" else "constant"
            kinds[key] = kinds.get(key, 0) + 1
        confidences = sorted((round(r.confidence, 4) for r in res.rules), reverse=True)
        run.metrics = {"rules": len(res.rules), "by_kind": kinds, "truncated": res.truncated,
                       "confidences": confidences}
        run.timings["mining_seconds"] = round(res.seconds, 4)
    info = {
        "dataset": ds.name,
        "rules": len(res.rules),
        "by_kind": kinds,
        "seconds": round(res.seconds, 3),
        "truncated": res.truncated,
        "out": str(out),
        "checkpoint": as_folder,
        "run_dir": str(run.path),
    }
    if json_out:
        print_json(info)
        return
    c = console()
    c.print(
        f"mined {len(res.rules)} rules from {ds.name} in {res.seconds:.1f} s"
        + (" (stopped by the time budget)" if res.truncated else "")
        + f" -> {out}",
        highlight=False,
    )
    c.print("by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())), highlight=False)
    for r in [r for r in res.rules if r.kind == "path"][:5]:
        c.print(f"  {r.confidence:.3f}  {r}", markup=False, highlight=False)
    c.print(f"run recorded in {run.path}", markup=False, highlight=False)


def evaluate(
    dataset: DatasetOpt,
    rules: RulesOpt,
    split: Annotated[str, typer.Option(help="Split to evaluate: test or valid.")] = "test",
    aggregation: AggOpt = "max+noisy-or",
    smoothing: SmoothOpt = 5.0,
    confidence: ConfKindOpt = "rule",
    run_dir: RunDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Filtered MRR and Hits@k of the rules as a link predictor (both directions).

    The run is recorded in --run-dir (default: a new runs/<UTC time>-rules-eval folder)."""
    from nesykg.cli.progress import stage_progress
    from nesykg.reasoners.evaluation import evaluate_split

    ds, kg = _load(dataset)
    if split not in ("test", "valid"):
        raise InputError(f"--split must be test or valid, got {split!r}")
    pred = _predictor(kg, rules, aggregation, smoothing, confidence)
    config = {"dataset": ds.name, "rules": rules, "split": split, "model": "rules", "aggregation": aggregation,
              "smoothing": smoothing, "confidence": confidence}
    with cli_run(run_dir, "rules eval", config) as run:
        with stage_progress() as progress:
            m = evaluate_split(pred, kg, split, progress=progress)
        run.metrics = {split: m}
    if json_out:
        print_json({"dataset": ds.name, "split": split, "rules": len(pred.rules), "aggregation": aggregation, **m,
                    "run_dir": str(run.path)})
        return
    from rich.table import Table

    table = Table(title=f"{len(pred.rules)} rules on {ds.name} ({split}, filtered, both directions)")
    cols = ("mrr", "hits@1", "hits@3", "hits@10", "mr", "count")
    for col in cols:
        table.add_column(col, justify="right")
    table.add_row(*(f"{m[col]:.4f}" if col not in ("mr", "count") else f"{m[col]:g}" for col in cols))
    console().print(table)
    console().print(f"run recorded in {run.path}", markup=False, highlight=False)


def apply(
    store: StoreOpt = DEFAULT_STORE,
    rules: Annotated[Optional[Path], typer.Option("--rules", "-r", help="Rules file (besides the store's expert rules).")] = None,
    min_conf: Annotated[float, typer.Option("--min-conf", help="Write conclusions at least this confident.")] = 0.8,
    aggregation: Annotated[str, typer.Option("--aggregation", "-a", help="max or noisy-or.")] = "max",
    expert: Annotated[bool, typer.Option("--expert/--no-expert", help="Also apply the rules kept in the 'expert' graph.")] = True,
    max_rounds: Annotated[int, typer.Option("--max-rounds", help="Chaining rounds at most.")] = 10,
    json_out: JsonOpt = False,
) -> None:
    """Forward-chain rules over the store; write new triples to 'inferred' with provenance.

    Undo with: nesykg kg undo RUN_ID
    """
    from nesykg.reasoners.rules.chaining import apply_rules
    from nesykg.reasoners.rules.syntax import read_rules

    from nesykg.cli.progress import stage_progress

    given = read_rules(rules) if rules is not None else []
    with open_cli_store(store) as st, stage_progress() as bar:
        res = apply_rules(st, given, min_confidence=min_conf, aggregation=aggregation, expert=expert,  # type: ignore[arg-type]
                          max_rounds=max_rounds, progress=bar)
    if json_out:
        print_json(
            {
                "run_id": res.run_id,
                "added": res.added,
                "rules": res.rules,
                "triples": [
                    {"triple": list(c.triple), "confidence": c.confidence, "evidence": c.evidence, "round": c.round}
                    for c in res.conclusions
                ],
            }
        )
        return
    c = console()
    if res.run_id is None:
        c.print(f"applied {res.rules} rules: nothing new at confidence >= {min_conf} (the store already holds every conclusion)")
        return
    c.print(f"applied {res.rules} rules: added {res.added} triple(s) to 'inferred' in run {res.run_id}", highlight=False)
    for con in res.conclusions[:5]:
        c.print(f"  {con.confidence:.3f}  {' '.join(con.triple)}  <- {con.evidence}", markup=False, highlight=False)
    if res.added > 5:
        c.print(f"  ... and {res.added - 5} more")
    c.print(f"undo with: nesykg kg undo {res.run_id}", highlight=False)


def explain(
    dataset: DatasetOpt,
    rules: RulesOpt,
    head: Annotated[str, typer.Option("--head", help="The query's head entity.")],
    relation: Annotated[str, typer.Option("--relation", help="The query's relation; inv:NAME asks for heads instead.")],
    tail: Annotated[Optional[list[str]], typer.Option("--tail", help="Explain this candidate (repeatable) instead of the best ones.")] = None,
    top: Annotated[int, typer.Option(help="How many of the best candidates.")] = 5,
    groundings: Annotated[int, typer.Option(help="Groundings shown per rule.")] = 3,
    aggregation: AggOpt = "max+noisy-or",
    smoothing: SmoothOpt = 5.0,
    confidence: ConfKindOpt = "rule",
    json_out: JsonOpt = False,
) -> None:
    """Best answers of (HEAD, RELATION, ?) with the rules and groundings behind each."""
    _, kg = _load(dataset)
    pred = _predictor(kg, rules, aggregation, smoothing, confidence)
    exps = pred.explain(head, relation, candidates=tail or None, top=top, max_groundings=groundings)
    if json_out:
        print_json({"head": head, "relation": relation, "answers": [e.as_dict() for e in exps]})
        return
    c = console()
    if not exps:
        c.print(f"no rule predicts anything for ({head}, {relation}, ?)", markup=False)
        return
    for e in exps:
        c.print(f"[bold]{e.candidate}[/]  score {e.score:.4f}  ({e.head}, {e.relation}, {e.candidate})", highlight=False)
        if not e.rules:
            c.print("    no rule concludes it")
        for ev in e.rules[:5]:
            c.print(f"    {ev.confidence:.3f}  {ev.rule}   [{ev.num_groundings} grounding(s)]", markup=False, highlight=False)
            for g in ev.groundings:
                c.print(f"           because {g}", markup=False, highlight=False)
        if len(e.rules) > 5:
            c.print(f"    ... and {len(e.rules) - 5} more rules")


def import_rules(
    rules: RulesOpt,
    store: StoreOpt = DEFAULT_STORE,
    json_out: JsonOpt = False,
) -> None:
    """Keep the rules of a file, with their confidences, in the store's 'expert' graph."""
    from nesykg.reasoners.rules.chaining import save_expert_rules
    from nesykg.reasoners.rules.syntax import read_rules

    parsed = read_rules(rules)
    with open_cli_store(store, create=True) as st:
        n = save_expert_rules(st, parsed)
    if json_out:
        print_json({"stored": n, "graph": "expert"})
    else:
        console().print(f"stored {n} expert rule(s) in graph 'expert' of {store}", highlight=False)


app.command("mine")(mine)
app.command("eval")(evaluate)
app.command("apply")(apply)
app.command("explain")(explain)
app.command("import")(import_rules)


def demo_step(ctx: Any) -> None:
    """Mine rules on the store's Countries S1 facts, materialise the confident ones and
    explain one materialised triple."""
    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.rules.chaining import apply_rules
    from nesykg.reasoners.rules.miner import MinerConfig, mine_rules
    from nesykg.reasoners.rules.predictor import RuleLinkPredictor

    out, st, ds = ctx.console, ctx.store, ctx.dataset
    out.rule("[bold]Rules: mine Horn rules, materialise and explain")
    kg = TensorKG.from_store(st, graphs="domain")
    res = mine_rules(kg, MinerConfig(max_length=3, min_confidence=0.5, constants=False))
    out.print(f"mined {len(res.rules)} path rules (confidence >= 0.5) in {res.seconds:.2f} s; the best:")
    for r in res.rules[:4]:
        out.print(f"  {r.confidence:.3f}  {r}   (support {r.stats.support})", markup=False, highlight=False)
    applied = apply_rules(st, res.rules, min_confidence=0.8, expert=False)
    out.print(f"materialised {applied.added} triple(s) with confidence >= 0.8 into 'inferred' (run {applied.run_id})", markup=False)
    if not applied.conclusions:
        return
    held_out = set(ds.test)
    pick = next((c for c in applied.conclusions if c.triple in held_out), applied.conclusions[0])
    h, r, t = pick.triple
    (prov,) = st.provenance(tuple(ds.iri(x) for x in pick.triple))
    note = " (a held-out test fact)" if pick.triple in held_out else ""
    out.print(f"({h}, {r}, {t}){note}: confidence {prov.confidence:.3f}, evidence {prov.evidence}", markup=False, highlight=False)
    pred = RuleLinkPredictor(kg, res.rules, aggregation="max")
    (exp,) = pred.explain(h, r, candidates=[t], max_groundings=2)
    for ev in exp.rules[:2]:
        out.print(f"  {ev.confidence:.3f}  {ev.rule}", markup=False, highlight=False)
        for g in ev.groundings:
            out.print(f"         because {g}", markup=False, highlight=False)
    out.print(f"'nesykg kg undo {applied.run_id}' removes exactly this run's {applied.added} triple(s)", markup=False, highlight=False)
    ctx.extras["rules_run_id"] = applied.run_id
