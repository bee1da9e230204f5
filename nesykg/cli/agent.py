"""``nesykg agent``: ask questions over a store, evaluate on a question set.

Thin: every command calls `nesykg.agents` and prints; LangChain loads only with ``--policy llm``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from nesykg.cli.common import DEFAULT_STORE, JsonOpt, StoreOpt, console, print_json
from nesykg.cli.rundir import RunDirOpt

app = typer.Typer(help="The agent: answer questions with plans, tools and fallbacks; write back what it finds.",
                  no_args_is_help=True)

PolicyOpt = Annotated[str, typer.Option("--policy", help="symbolic (default, no LLM) or llm.")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", help="Chat model of the llm policy, provider:name (e.g. openai:gpt-4o-mini).")]
BaseUrlOpt = Annotated[Optional[str], typer.Option("--base-url", help="Server of the chat model (an OpenAI-compatible local one).")]
StepsOpt = Annotated[int, typer.Option("--max-steps", help="Tool calls per question.")]
ConfOpt = Annotated[float, typer.Option("--min-confidence", help="Least confidence of a triple written back.")]
MemoryOpt = Annotated[Optional[Path], typer.Option(
    "--memory", help="Agent memory (SQLite file, created when missing): its learned state is used, questions are recorded.")]
FormatOpt = Annotated[Optional[str], typer.Option("--format", help="pathquestion or metaqa (default: guessed).")]


def _open_memory(path: Path | None) -> Any:
    if path is None:
        return None
    from nesykg.agents.memory import Memory

    return Memory(path)


def _policy_options(policy: str, model: str | None, base_url: str | None) -> dict[str, Any]:
    return {"model": model, "base_url": base_url} if policy == "llm" else {}


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question (a [bracketed] name marks the topic entity).")],
    store: StoreOpt = DEFAULT_STORE,
    policy: PolicyOpt = "symbolic",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    checkpoint: Annotated[Optional[list[Path]], typer.Option("--checkpoint", help="Link predictor checkpoint (repeatable).")] = None,
    rules: Annotated[Optional[list[Path]], typer.Option("--rules", help="Rules file (repeatable), besides mined and expert rules.")] = None,
    documents: Annotated[Optional[Path], typer.Option("--documents", help="Folder of .txt/.md documents to search.")] = None,
    exemplars: Annotated[Optional[Path], typer.Option("--exemplars", help="Solved questions for the planner (PathQuestion or MetaQA file).")] = None,
    trace: Annotated[bool, typer.Option("--trace", help="Print every step: thought, action, observation.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate proposed triples but write nothing.")] = False,
    max_steps: StepsOpt = 10,
    min_confidence: ConfOpt = 0.8,
    memory: MemoryOpt = None,
    gold: Annotated[Optional[list[str]], typer.Option("--gold", help="A right answer (repeatable), recorded in --memory.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer one question over a store; triples found on the way are validated and written to
    'inferred' with provenance (undo with: nesykg kg undo RUN_ID)."""
    from nesykg.agents import AgentConfig, Executor, Planner, Workspace
    from nesykg.agents.questions import load_questions
    from nesykg.cli.common import open_cli_store

    st = open_cli_store(store)
    mem = _open_memory(memory)
    with st:
        ws = Workspace.open(st, checkpoint=checkpoint or None, rules=rules or None, documents=documents)
        planner = Planner(ws, load_questions(exemplars) if exemplars else ())
        if mem is not None:
            from nesykg.agents.learning import load_learned

            load_learned(mem, planner)
        agent = Executor(ws, planner, policy, AgentConfig(max_steps, min_confidence, dry_run), memory=mem,
                         **_policy_options(policy, model, base_url))
        try:
            res = agent.ask(question, gold=gold or None)
        finally:
            if mem is not None:
                mem.close()
    if as_json:
        print_json(res.as_dict() if trace else {k: v for k, v in res.as_dict().items() if k != "trace"})
        return
    out = console()
    if trace:
        for s in res.trace:
            out.print(f"[bold]{s['step']}.[/bold] {s['thought']}", highlight=False, soft_wrap=True)
            out.print(f"   {s['action']}({s['arguments']})", highlight=False, soft_wrap=True)
            out.print(f"   -> {'' if s['ok'] else 'error: '}{str(s['observation'])[:400]}", highlight=False, soft_wrap=True)
    out.print(f"answers: {', '.join(res.answers[:5]) or '(none)'}", highlight=False, soft_wrap=True)
    for p in res.proposals:
        verdict = "written" if p["accepted"] and not dry_run else ("would write" if p["accepted"] else "refused: " + "; ".join(p["refused"]))
        out.print(f"  {tuple(p['triple'])} confidence {p['confidence']:.3f} ({p['method']}): {verdict}", highlight=False, soft_wrap=True)
    if res.written:
        out.print(f"run {res.run_id}: {len(res.written)} triple(s) written; undo: nesykg kg undo {res.run_id}", highlight=False, soft_wrap=True)
    out.print(f"{res.steps} steps, {res.seconds:.3f} s", highlight=False, soft_wrap=True)


@app.command("eval")
def evaluate(
    questions: Annotated[Path, typer.Option("--questions", help="Question file (PathQuestion or MetaQA format).")],
    kb: Annotated[Path, typer.Option("--kb", help="KB file: tab-separated head, relation, tail (PathQuestion) or head|relation|tail (MetaQA).")],
    format: FormatOpt = None,
    exemplars: Annotated[Optional[Path], typer.Option("--exemplars", help="Solved questions for the planner (default: a seeded 80/20 split).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Score a seeded sample of N questions.")] = None,
    drop: Annotated[float, typer.Option("--drop-path-triples", help="Share of the gold-path triples removed first (seeded).")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the split, sample and removal.")] = 0,
    policy: PolicyOpt = "symbolic",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    max_steps: StepsOpt = 10,
    min_confidence: ConfOpt = 0.8,
    train: Annotated[Optional[str], typer.Option("--train", help="Train this link predictor (complex, transe...) on the KB first, a fallback after the rules, its confidences calibrated on held-out edges (two short trainings).")] = None,
    rules: Annotated[Optional[list[Path]], typer.Option("--rules", help="Expert rules file (repeatable), besides the rules mined from the KB.")] = None,
    memory: MemoryOpt = None,
    ceiling: Annotated[Optional[str], typer.Option("--ceiling", metavar="MODELS", help="Also measure the evidence ceiling: the most Hits@1 any choice among the workspace's predictors and plans could reach, with these extra link predictors trained for it (comma-separated: distmult,rotate,transe,nbfnet; 'own': none). Needs gold paths (PathQuestion).")] = None,
    run_dir: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hits@1, F1, write-back precision, steps per question and latency on a question set.

    The run, with a record per question, goes to --run-dir (default: runs/<UTC time>-agent-eval).
    With --ceiling, also the evidence ceiling (see docs/agent.md): questions whose gold path
    holds, or whose missing hops some predictor ranks first, or that a plan or the agent answers."""
    from nesykg.agents import AgentConfig
    from nesykg.agents.evaluation import run_agent_eval
    from nesykg.agents.questions import load_kb, load_questions
    from nesykg.cli.progress import stage_progress

    extra = None if ceiling is None else [m.strip() for m in ceiling.split(",") if m.strip() and m.strip() != "own"]
    if extra is not None and memory is not None:
        from nesykg.errors import InputError

        raise InputError("--ceiling and --memory do not go together: measure the ceiling without a memory")
    qs = load_questions(questions, format)  # type: ignore[arg-type]
    ex = load_questions(exemplars, format) if exemplars else None  # type: ignore[arg-type]
    cfg = AgentConfig(max_steps, min_confidence)
    mem = _open_memory(memory)
    from nesykg.cli.rundir import cli_run, record_agent_report

    conf = {"questions": questions, "kb": kb, "format": format, "exemplars": exemplars, "limit": limit, "drop": drop,
            "seed": seed, "policy": policy, "model": model, "max_steps": max_steps, "min_confidence": min_confidence,
            "train": train, "rules": rules, "ceiling": ceiling}
    options = {"train": train, "rules": rules or None}
    with cli_run(run_dir, "agent eval", conf) as run, stage_progress() as bar:
        bar.begin("building the workspace (KB, mined rules)")
        if mem is None:
            rep = run_agent_eval(qs, load_kb(kb), ex, limit, drop, seed, policy, cfg, options,
                                 progress=bar, ceiling=extra, **_policy_options(policy, model, base_url))
        else:
            from nesykg.agents.learning import evaluate_with_memory

            with mem:
                rep = evaluate_with_memory(qs, load_kb(kb), mem, ex, limit, drop, seed, policy, cfg,
                                           progress=bar, workspace_options=options,
                                           **_policy_options(policy, model, base_url))
        record_agent_report(run, rep)
    if as_json:
        print_json(rep.as_dict())
        return
    prec = "n/a (nothing written)" if rep.writeback_precision is None else f"{rep.writeback_precision:.3f} ({rep.written_true}/{rep.written})"
    out = console()
    out.print(f"scored {rep.questions} questions of {questions} ({rep.exemplars} exemplars, seed {seed}, "
              f"{rep.dropped} gold-path triples removed)", highlight=False, soft_wrap=True)
    out.print(f"Hits@1 {rep.hits_at_1:.3f}   F1 {rep.f1:.3f}   write-back precision {prec}", highlight=False, soft_wrap=True)
    if rep.writeback_truth is not None:
        out.print(f"written triples that are true: {rep.writeback_truth:.3f} ({rep.written_true} removed facts + "
                  f"{rep.written_entailed} that the expert rules conclude from the whole KB)", highlight=False, soft_wrap=True)
    if rep.ceiling:
        c = rep.ceiling
        out.print(f"evidence ceiling: Hits@1 {c['ceiling']:.3f} at most with first choices, {c['ceiling_top3']:.3f} with "
                  f"top 3 ({c['intact']} gold paths intact, {c['topic_lost']} topics lost; predictors: "
                  f"{', '.join(c['predictors'])}); their rank fusion, told the gold relations, reaches "
                  f"{c['ensemble']:.3f}", highlight=False, soft_wrap=True)
    out.print(f"steps/question {rep.mean_steps:.2f}   latency p50 {rep.p50_seconds:.4f} s, p95 {rep.p95_seconds:.4f} s", highlight=False, soft_wrap=True)
    out.print(f"run recorded in {run.path}", highlight=False, soft_wrap=True, markup=False)


@app.command()
def learn(
    memory: Annotated[Path, typer.Option("--memory", help="Agent memory (SQLite file, created when missing).")],
    questions: Annotated[Optional[Path], typer.Option("--questions", help="Training questions with gold answers.")] = None,
    kb: Annotated[Optional[Path], typer.Option("--kb", help="KB file to answer over (default: the store).")] = None,
    valid: Annotated[Optional[Path], typer.Option("--valid", help="Validation questions (default: a seeded 20% of --questions).")] = None,
    exemplars: Annotated[Optional[Path], typer.Option("--exemplars", help="Solved questions the planner starts with.")] = None,
    seed_share: Annotated[float, typer.Option("--seed-share", help="Share of the training questions given as exemplars.")] = 0.0,
    passes: Annotated[int, typer.Option("--passes", min=1, help="Passes over the training questions.")] = 1,
    format: FormatOpt = None,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Score a seeded sample of N validation questions.")] = None,
    drop: Annotated[float, typer.Option("--drop-path-triples", help="Share of the validation gold-path triples removed (seeded).")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the splits, sample and removal.")] = 0,
    store: StoreOpt = DEFAULT_STORE,
    policy: PolicyOpt = "symbolic",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    max_steps: StepsOpt = 10,
    run_dir: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Update the planner from outcomes: answer the training questions (dry runs, recorded in the
    memory with their gold answers), learn plan and rule weights and exemplars, and print validation
    Hits@1 before and after. Without --questions, re-learn from what the memory holds."""
    from nesykg.agents import AgentConfig
    from nesykg.agents.learning import learn as learn_state
    from nesykg.agents.learning import run_learning_eval
    from nesykg.agents.memory import Memory
    from nesykg.agents.questions import load_kb, load_questions
    from nesykg.cli.progress import stage_progress

    out = console()
    with Memory(memory) as mem:
        if questions is None:
            from nesykg.agents import Planner, Workspace
            from nesykg.cli.common import open_cli_store

            from nesykg.cli.rundir import cli_run

            with cli_run(run_dir, "agent learn", {"memory": memory, "store": store}) as run:
                with open_cli_store(store) as st:
                    state = learn_state(mem, Planner(Workspace.open(st)))
                info = {"memory": str(memory), **mem.stats(), "learned_from": state["trajectories"],
                        "exemplars": len(state["exemplars"]), "weights": state["weights"]}
                run.metrics = {k: v for k, v in info.items() if k != "weights"}
            if as_json:
                print_json({**info, "run_dir": str(run.path)})
            else:
                out.print(f"learned from {state['trajectories']} of {info['trajectories']} trajectories in {memory}: "
                          f"{len(state['exemplars'])} exemplars, {len(state['weights'])} plan weights",
                          highlight=False, soft_wrap=True, markup=False)
            return
        qs = load_questions(questions, format)  # type: ignore[arg-type]
        val = load_questions(valid, format) if valid else None  # type: ignore[arg-type]
        ex = load_questions(exemplars, format) if exemplars else ()  # type: ignore[arg-type]
        kb_triples = load_kb(kb) if kb else None
        from nesykg.cli.rundir import cli_run, record_learning

        conf = {"questions": questions, "kb": kb, "valid": valid, "exemplars": exemplars, "seed_share": seed_share,
                "passes": passes, "limit": limit, "drop": drop, "seed": seed, "policy": policy, "max_steps": max_steps}
        with cli_run(run_dir, "agent learn", conf) as run, stage_progress() as bar:
            bar.begin("building the workspace (KB, mined rules)")
            if kb_triples is None:
                from nesykg.agents import Workspace
                from nesykg.cli.common import open_cli_store

                with open_cli_store(store) as st:
                    rep = run_learning_eval(qs, None, mem, val, ex, seed_share, limit, drop, seed, passes,
                                            ws=Workspace.open(st), progress=bar, policy=policy,
                                            config=AgentConfig(max_steps), **_policy_options(policy, model, base_url))
            else:
                rep = run_learning_eval(qs, kb_triples, mem, val, ex, seed_share, limit, drop, seed, passes,
                                        progress=bar, policy=policy, config=AgentConfig(max_steps),
                                        **_policy_options(policy, model, base_url))
            record_learning(run, rep)
    if as_json:
        print_json(rep.as_dict())
        return
    out.print(f"trained on {rep.training} questions ({passes} pass(es), {rep.seed_exemplars} given as exemplars); "
              f"memory {memory}: {rep.trajectories} trajectories, {rep.exemplars_learned} learned exemplars, "
              f"{rep.weights} plan weights", highlight=False, soft_wrap=True, markup=False)
    for p in rep.passes:
        out.print(f"pass {p['pass']}: training Hits@1 {p['train_hits_at_1']:.3f}", highlight=False, markup=False)
    out.print(f"validation ({rep.before.questions} questions): Hits@1 before {rep.before.hits_at_1:.3f}, "
              f"after {rep.after.hits_at_1:.3f}", highlight=False, soft_wrap=True, markup=False)
    out.print(f"run recorded in {run.path}", highlight=False, soft_wrap=True, markup=False)


def demo_step(ctx: Any) -> None:
    """The agent answers Countries questions whose facts the store lacks, writes back what it found,
    shows a triple's provenance and undoes one run."""
    from nesykg.agents import AgentConfig, Executor, Planner, Question, Workspace

    out, ds, st = ctx.console, ctx.dataset, ctx.store
    out.rule("[bold]Agent: questions over Countries with facts missing")
    rules_run = getattr(ctx, "extras", {}).get("rules_run_id")
    if rules_run:  # the rules step materialised conclusions: take them back, the agent must find its own
        out.print(f"undo {rules_run} (the rules step's conclusions): removed {st.undo(rules_run)} triple(s)",
                  highlight=False, markup=False)
    tests = [(h, r, t) for h, r, t in ds.splits["test"] if r == "locatedin"][:4]
    # the facts removed: where the test countries lie (their subregion), so that the agent must infer it
    gone = [(ds.iri(h), ds.iri("locatedin"), o) for h, _, _ in tests for _, _, o in st.triples((ds.iri(h), ds.iri("locatedin"), None))]
    st.remove_many(gone)
    out.print(f"removed {len(gone)} locatedin facts of {', '.join(h for h, _, _ in tests)}", highlight=False, markup=False)
    ws = Workspace.open(st)
    exemplars = [Question(f"what is the locatedin of [{h}] ?", (t,), h) for h, r, t in ds.splits["valid"][:20]]
    agent = Executor(ws, Planner(ws, exemplars), config=AgentConfig(min_confidence=0.6))
    runs = []
    for h, r, t in tests:
        res = agent.ask(f"what is the locatedin of [{h}] ?")
        mark = "right" if res.answers[:1] == [t] else f"gold {t}"
        out.print(f"{res.question}  ->  {', '.join(res.answers[:2]) or '(none)'} ({mark}; {res.steps} steps, "
                  f"{len(res.written)} written)", highlight=False, soft_wrap=True, markup=False)
        if res.written:
            runs.append(res)
    if runs:
        first = runs[0]
        triple = tuple(ws.iri(x) for x in first.written[0])
        [prov] = st.provenance(triple)
        out.print(f"provenance of {first.written[0]}: confidence {prov.confidence:.3f}, method {prov.method}, "
                  f"run {prov.run_id}", highlight=False, soft_wrap=True, markup=False)
        out.print(f"evidence: {prov.evidence}", highlight=False, soft_wrap=True, markup=False)
        out.print(f"undo {first.run_id}: removed {st.undo(first.run_id)} triple(s)", highlight=False, soft_wrap=True, markup=False)
