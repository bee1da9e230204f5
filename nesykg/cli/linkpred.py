"""``nesykg train | eval | predict``: embedding link predictors from the command line.

torch and the models are imported inside the commands, so ``nesykg --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from nesykg.cli.common import JsonOpt, console, print_json
from nesykg.errors import InputError

__all__ = ["train", "evaluate", "predict", "demo_step"]

CheckpointOpt = Annotated[Path, typer.Option("--checkpoint", "-c", help="Checkpoint folder written by 'nesykg train'.")]


def _progress(total: int, description: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from nesykg.cli.common import err_console

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}  valid MRR {task.fields[mrr]}  best {task.fields[best]}"),
        TimeElapsedColumn(),
        console=err_console(),
    )


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
    json_out: JsonOpt = False,
) -> None:
    """Train a link predictor; write a checkpoint folder with model.pt, vocab.json, config.json, metrics.json.

    Flags not given take the shipped defaults for the model and dataset.
    """
    from nesykg.datasets import load_dataset
    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.defaults import default_config
    from nesykg.reasoners.training import train as run_training

    ds = load_dataset(dataset)
    config = default_config(
        ds.name, model, dim=dim, epochs=epochs, batch_size=batch_size, learning_rate=lr, optimizer=optimizer,
        n3_weight=n3_weight, mode=mode, patience=patience, seed=seed, device=device,
    )
    _check_device(device)
    folder = out or Path("runs") / f"{ds.name}-{config.model}"
    kg = TensorKG.from_dataset(ds)
    dataset_ref = ds.name if str(dataset).lower().replace("-", "_") == ds.name else str(ds.path.resolve())
    if json_out:
        _, result = run_training(kg, config, folder, resume=resume, dataset=dataset_ref)
    else:
        out_console = console()
        out_console.print(f"training {config.model} (dim {config.dim}, {config.mode}) on {ds!r} -> {folder}")
        with _progress(config.epochs, "epochs") as bar:
            task = bar.add_task(f"{config.model}", total=config.epochs, loss="-", mrr="-", best="-")

            def on_epoch(rep: Any) -> None:
                bar.update(
                    task, completed=rep.epoch, loss=f"{rep.loss:.4f}",
                    mrr="-" if rep.valid_mrr is None else f"{rep.valid_mrr:.4f}",
                    best="-" if rep.best_mrr is None else f"{rep.best_mrr:.4f}@{rep.best_epoch}",
                )

            _, result = run_training(kg, config, folder, on_epoch=on_epoch, resume=resume, dataset=dataset_ref)
    if json_out:
        print_json({"checkpoint": str(folder), **result.to_dict()})
        return
    out_console.print(_metrics_table(f"{config.model} on {ds.name} (best epoch {result.best_epoch})", result.metrics))
    t = result.timings
    out_console.print(
        f"{result.epochs_completed} epochs, {t['seconds_per_epoch']:.3f} s/epoch"
        + (", stopped early" if result.stopped_early else "")
        + f"; checkpoint and metrics.json in {folder}"
    )


def _check_device(device: str) -> None:
    import torch

    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise InputError(f"bad --device {device!r}: {e}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"--device {device}: CUDA is not available on this machine")


def evaluate(
    checkpoint: CheckpointOpt,
    split: Annotated[str, typer.Option("--split", help="valid or test.")] = "test",
    dataset: Annotated[Optional[str], typer.Option("--dataset", "-d", help="Dataset to evaluate on (default: the training one).")] = None,
    device: Annotated[str, typer.Option(help="torch device.")] = "cpu",
    json_out: JsonOpt = False,
) -> None:
    """Filtered MRR and Hits@k of a checkpoint on a split (both directions, mean-tie ranks)."""
    from nesykg.datasets import load_dataset
    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.checkpoint import load_checkpoint
    from nesykg.reasoners.evaluation import evaluate as run_eval

    _check_device(device)
    cp = load_checkpoint(checkpoint, device=device)
    name = dataset or cp.dataset
    if name is None:
        raise InputError(f"{checkpoint}: the checkpoint names no dataset; pass --dataset")
    kg = TensorKG.from_dataset(load_dataset(name))
    kg.vocab.check_same(cp.vocab, what=f"checkpoint {checkpoint}")
    triples = kg.triples(split)
    if len(triples) == 0:
        raise InputError(f"dataset {kg.name!r} has no {split!r} triples")
    metrics = run_eval(cp.model, triples, [kg.triples(s) for s in ("train", "valid", "test") if s in kg.splits])
    if json_out:
        print_json({"checkpoint": str(checkpoint), "dataset": kg.name, "split": split, **metrics})
    else:
        console().print(_metrics_table(f"{cp.config.model} on {kg.name}", {split: metrics}))


def predict(
    checkpoint: CheckpointOpt,
    relation: Annotated[str, typer.Option("--relation", "-r", help="Relation name.")],
    head: Annotated[Optional[str], typer.Option("--head", help="Head entity: predict tails of (head, relation, ?).")] = None,
    tail: Annotated[Optional[str], typer.Option("--tail", help="Tail entity: predict heads of (?, relation, tail).")] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="How many answers.")] = 10,
    json_out: JsonOpt = False,
) -> None:
    """Top-k answers of (head, relation, ?) or (?, relation, tail) from a checkpoint alone."""
    import torch

    from nesykg.reasoners.checkpoint import load_checkpoint

    if (head is None) == (tail is None):
        raise InputError("give exactly one of --head (predict tails) or --tail (predict heads)")
    cp = load_checkpoint(checkpoint)
    rel = cp.vocab.relation_id(relation)
    if head is not None:
        anchor, r_id, direction = cp.vocab.entity_id(head), rel, "tails"
    else:
        anchor, r_id, direction = cp.vocab.entity_id(tail), rel + cp.vocab.num_relations, "heads"  # type: ignore[arg-type]
    scores, ids = cp.model.top_tails_chunked(torch.tensor([anchor]), torch.tensor([r_id]), top_k)
    rows = [
        {"rank": i + 1, "entity": cp.vocab.entities[int(e)], "score": float(s)}
        for i, (s, e) in enumerate(zip(scores[0].tolist(), ids[0].tolist()))
    ]
    if json_out:
        print_json({"head": head, "relation": relation, "tail": tail, "predict": direction, "answers": rows})
        return
    from rich.table import Table

    query = f"({head}, {relation}, ?)" if head is not None else f"(?, {relation}, {tail})"
    table = Table(title=f"{query} -- {cp.config.model}")
    for c in ("rank", "entity", "score"):
        table.add_column(c, justify="right" if c != "entity" else "left")
    for row in rows:
        table.add_row(str(row["rank"]), row["entity"], f"{row['score']:.4f}")
    console().print(table)


def demo_step(ctx: Any) -> None:
    """Train ComplEx on Countries S1 for a few seconds, evaluate it and predict one region."""
    import time

    import torch

    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.checkpoint import load_checkpoint
    from nesykg.reasoners.defaults import default_config
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
        f"trained {config.model} (dim {config.dim}) for {result.epochs_completed} epochs in "
        f"{time.perf_counter() - t0:.1f} s; filtered test MRR {m.get('mrr', 0):.3f}, Hits@1 {m.get('hits@1', 0):.3f}"
    )
    cp = load_checkpoint(folder)  # scores from the checkpoint alone: vocab.json + model.pt
    h, r, t = ctx.dataset.test[0]
    known = {tt for hh, rr, tt in ctx.dataset.train if (hh, rr) == (h, r)}
    scores, ids = cp.model.top_tails_chunked(
        torch.tensor([cp.vocab.entity_id(h)]), torch.tensor([cp.vocab.relation_id(r)]), 3 + len(known)
    )
    ranked = [(cp.vocab.entities[int(e)], float(s)) for s, e in zip(scores[0], ids[0])]
    answers = ", ".join(f"{e} ({s:.2f})" for e, s in [x for x in ranked if x[0] not in known][:3])
    out.print(f"new facts for ({h}, {r}, ?): {answers}", markup=False)
    out.print(f"  (already known: {', '.join(sorted(known)) or 'none'}; held-out test answer: {t})", markup=False)
    ctx.extras["linkpred_checkpoint"] = folder
