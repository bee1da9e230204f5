"""``nesykg train | eval | predict``: link predictors from the command line.

``train`` trains an embedding model; ``eval`` and ``predict`` take any checkpoint folder
(an embedding model, a rule predictor from ``nesykg rules mine --out DIR``). The commands
are thin: names in, `nesykg.reasoners.predict` does the work. torch and the models are
imported inside the commands, so ``nesykg --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from nesykg.cli.common import JsonOpt, check_device, console, print_json
from nesykg.cli.rundir import CheckpointRunDirOpt, RunDirOpt, cli_run
from nesykg.errors import InputError

__all__ = ["train", "evaluate", "predict", "demo_step"]

CheckpointOpt = Annotated[
    Path,
    typer.Option("--checkpoint", "-c", help="Checkpoint folder ('nesykg train', 'nesykg rules mine --out DIR')."),
]


def _metrics_table(title: str, metrics: dict[str, dict[str, float]]) -> Any:
    from rich.table import Table

    table = Table(title=title)
    cols = ("mrr", "hits@1", "hits@3", "hits@10", "mr", "count")
    table.add_column("split")
    for c in cols:
        table.add_column(c, justify="right")
    for split, m in metrics.items():
        table.add_row(split, *(f"{m[c]:.4f}" if c not in ("count", "mr") else f"{m[c]:g}" for c in cols))
    return table


def train(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Built-in dataset name or a folder with train/valid/test files.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model name: complex, distmult, rotate, transe.")] = "complex",
    dim: Annotated[Optional[int], typer.Option(help="Embedding size (complex numbers for ComplEx/RotatE).")] = None,
    epochs: Annotated[Optional[int], typer.Option(help="Maximum epochs.")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="Examples per step.")] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Learning rate.")] = None,
    optimizer: Annotated[Optional[str], typer.Option(help="adagrad or adam.")] = None,
    n3_weight: Annotated[Optional[float], typer.Option("--n3-weight", help="N3 regulariser weight (ComplEx, DistMult).")] = None,
    mode: Annotated[Optional[str], typer.Option(help="1vsall (per triple) or kvsall (per (head, relation), like PyKEEN's LCWA).")] = None,
    patience: Annotated[Optional[int], typer.Option(help="Stop after this many validations without a better MRR (0: never).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Checkpoint folder (default: runs/DATASET-MODEL).")] = None,
    device: Annotated[str, typer.Option(help="torch device: cpu, cuda, cuda:1...")] = "cpu",
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Continue an interrupted run found in --out (--no-resume starts afresh, overwriting its files).")] = True,
    run_dir: CheckpointRunDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Train a link predictor; write a checkpoint folder with model.pt, vocab.json, config.json, metrics.json.

    Flags not given take the shipped defaults for the model and dataset. The run (config,
    metrics, per-epoch loss and validation MRR, timings, versions) is recorded in --run-dir,
    by default the checkpoint's run/ subfolder.
    """
    from nesykg.cli.progress import stage_progress
    from nesykg.datasets import load_dataset
    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.checkpoint import dataset_reference
    from nesykg.reasoners.defaults import default_config
    from nesykg.reasoners.training import train as run_training

    ds = load_dataset(dataset)
    config = default_config(
        ds.name, model, dim=dim, epochs=epochs, batch_size=batch_size, learning_rate=lr, optimizer=optimizer,
        n3_weight=n3_weight, mode=mode, patience=patience, seed=seed, device=device,
    )
    check_device(device)
    folder = out or Path("runs") / f"{ds.name}-{config.model}"
    kg = TensorKG.from_dataset(ds)
    dataset_ref = dataset_reference(dataset, ds.name, ds.path)
    run_config = {"dataset": dataset_ref, "out": folder, **config.to_dict()}
    with cli_run(run_dir, "train", run_config, checkpoint=folder) as run:
        if json_out:  # the bars go to stderr, only on a terminal: never into the JSON
            with stage_progress() as bar:
                _, result = run_training(kg, config, folder, resume=resume, dataset=dataset_ref, progress=bar)
            _record_training(run, result)
            print_json({"checkpoint": str(folder), "run_dir": str(run.path), **result.to_dict()})
            return
        out_console = console()
        what = f"{config.model} (dim {config.model_config.dim}, {config.mode})"
        out_console.print(f"training {what} on {ds!r} -> {folder}")
        with stage_progress(transient=False) as bar:

            def on_epoch(rep: Any) -> None:
                mrr = "-" if rep.valid_mrr is None else f"{rep.valid_mrr:.4f}"
                best = "-" if rep.best_mrr is None else f"{rep.best_mrr:.4f}@{rep.best_epoch}"
                bar.status(f"loss {rep.loss:.4f}  valid MRR {mrr}  best {best}")

            _, result = run_training(
                kg, config, folder, on_epoch=on_epoch, resume=resume, dataset=dataset_ref, progress=bar
            )
        _record_training(run, result)
    out_console.print(_metrics_table(f"{config.model} on {ds.name} (best epoch {result.best_epoch})", result.metrics))
    t = result.timings
    out_console.print(
        f"{result.epochs_completed} epochs, {t['seconds_per_epoch']:.3f} s/epoch"
        + (", stopped early" if result.stopped_early else "")
        + f"; checkpoint and metrics.json in {folder}"
    )
    out_console.print(f"run recorded in {run.path}", markup=False, highlight=False)


def _record_training(run: Any, result: Any) -> None:
    run.metrics = {
        **result.metrics, "best_epoch": result.best_epoch, "epochs_completed": result.epochs_completed,
        "stopped_early": result.stopped_early,
    }
    run.history = list(result.history)
    run.timings.update(result.timings)


def evaluate(
    checkpoint: CheckpointOpt,
    split: Annotated[str, typer.Option("--split", help="valid or test.")] = "test",
    dataset: Annotated[Optional[str], typer.Option("--dataset", "-d", help="Dataset to evaluate on (default: the training one).")] = None,
    device: Annotated[str, typer.Option(help="torch device.")] = "cpu",
    run_dir: RunDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Filtered MRR and Hits@k of any checkpoint on a split (both directions, mean-tie ranks).

    The run is recorded in --run-dir (default: a new runs/<UTC time>-eval folder)."""
    from nesykg.cli.progress import stage_progress
    from nesykg.pipeline import evaluate_checkpoint

    check_device(device)
    config = {"checkpoint": checkpoint, "split": split, "dataset": dataset, "device": device}
    with cli_run(run_dir, "eval", config) as run:
        with stage_progress() as bar:
            report = evaluate_checkpoint(checkpoint, split, dataset=dataset, device=device, progress=bar)
        run.config.update(model=report.model, dataset=report.dataset)
        run.metrics = {split: report.metrics}
    if json_out:
        print_json({**report.as_dict(), "run_dir": str(run.path)})
    else:
        console().print(_metrics_table(f"{report.model} on {report.dataset}", {split: report.metrics}))
        console().print(f"run recorded in {run.path}", highlight=False, markup=False)


def predict(
    checkpoint: CheckpointOpt,
    relation: Annotated[str, typer.Option("--relation", "-r", help="Relation name.")],
    head: Annotated[Optional[str], typer.Option("--head", help="Head entity: predict tails of (head, relation, ?).")] = None,
    tail: Annotated[Optional[str], typer.Option("--tail", help="Tail entity: predict heads of (?, relation, tail).")] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="How many answers.")] = 10,
    explain: Annotated[bool, typer.Option("--explain", help="Why the top answer: its most important paths (nbfnet) or the rules that fired (rule checkpoint).")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Top-k answers of (head, relation, ?) or (?, relation, tail) from a checkpoint alone."""
    from nesykg.reasoners.checkpoint import load_predictor
    from nesykg.reasoners.predict import predict as run_predict

    if (head is None) == (tail is None):
        raise InputError("give exactly one of --head (predict tails) or --tail (predict heads)")
    model = load_predictor(checkpoint)
    ranking = run_predict(model, head=head, relation=relation, tail=tail, top_k=top_k)
    why: dict[str, Any] | None = None
    if explain and ranking.answers:
        from nesykg.reasoners.gnn.explain import explain_paths
        from nesykg.reasoners.gnn.nbfnet import NBFNet
        from nesykg.reasoners.rules.predictor import RuleLinkPredictor

        top = ranking.answers[0].entity
        h, t = (head, top) if tail is None else (top, tail)
        why = {"triple": [h, relation, t]}
        if isinstance(model, NBFNet):
            why["paths"] = [p.as_dict() for p in explain_paths(model, h, relation, t, top=5)]
        elif isinstance(model, RuleLinkPredictor):
            exps = model.explain(h, relation, candidates=[t], max_groundings=2)
            why["rules"] = exps[0].as_dict()["rules"] if exps else []
        else:
            why["message"] = f"no explanations for {ranking.model} checkpoints (nbfnet: paths; rules: rules that fired)"
    if json_out:
        print_json(ranking.as_dict() if why is None else {**ranking.as_dict(), "explanation": why})
        return
    from rich.table import Table

    table = Table(title=f"{ranking.query} -- {ranking.model}")
    for c in ("rank", "entity", "score"):
        table.add_column(c, justify="right" if c != "entity" else "left")
    for a in ranking.answers:
        table.add_row(str(a.rank), a.entity, f"{a.score:.4f}")
    console().print(table)
    if why is not None:
        out, triple = console(), "(" + ", ".join(why["triple"]) + ")"
        if "message" in why:
            out.print(why["message"], markup=False)
        elif "paths" in why:
            head_line = "most important paths for {} (edge gradients):" if why["paths"] else "no short path reaches {}"
            out.print(head_line.format(triple), markup=False)
            for p in why["paths"]:
                walk = " -> ".join("(" + ", ".join(e) + ")" for e in p["path"])
                out.print(f"  {p['importance']:+.4f}  {walk}", markup=False, highlight=False)
        else:
            out.print(f"rules that fired for {triple}:" if why["rules"] else f"no rule concludes {triple}", markup=False)
            for r in why["rules"][:5]:
                out.print(f"  {r['confidence']:.3f}  {r['rule']}  [{r['groundings']} grounding(s)]", markup=False, highlight=False)
                for g in r["examples"]:
                    out.print(f"         because {g}", markup=False, highlight=False)


def demo_step(ctx: Any) -> None:
    """Train ComplEx on Countries S1 for a few seconds, evaluate it and predict one region."""
    import time

    import torch

    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.checkpoint import load_predictor
    from nesykg.reasoners.defaults import default_config
    from nesykg.reasoners.predict import predict as run_predict
    from nesykg.reasoners.training import train as run_training

    out = ctx.console
    out.rule("[bold]Link prediction: ComplEx on Countries S1")
    kg = TensorKG.from_dataset(ctx.dataset)
    config = default_config(ctx.dataset.name, "complex", dim=32, epochs=20, patience=0, eval_every=5)
    folder = ctx.workdir / "complex-countries_s1"
    t0 = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 32-dim model: thread start-up costs more than it saves
    try:
        _, result = run_training(kg, config, folder)
    finally:
        torch.set_num_threads(threads)
    m = result.metrics.get("test", {})
    out.print(
        f"trained {config.model} (dim {config.model_config.dim}) for {result.epochs_completed} epochs in "
        f"{time.perf_counter() - t0:.1f} s; filtered test MRR {m.get('mrr', 0):.3f}, Hits@1 {m.get('hits@1', 0):.3f}"
    )
    model = load_predictor(folder)  # scores from the checkpoint alone: vocab.json + model.pt
    h, r, t = ctx.dataset.test[0]
    ranking = run_predict(model, head=h, relation=r, top_k=3, graph=kg, exclude_known=True)
    known = sorted(tt for hh, rr, tt in ctx.dataset.train if (hh, rr) == (h, r))
    answers = ", ".join(f"{a.entity} ({a.score:.2f})" for a in ranking.answers)
    out.print(f"new facts for ({h}, {r}, ?): {answers}", markup=False)
    out.print(f"  (already known: {', '.join(known) or 'none'}; held-out test answer: {t})", markup=False)
    ctx.extras["linkpred_checkpoint"] = folder
