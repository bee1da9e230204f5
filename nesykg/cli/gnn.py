"""``nesykg gnn train | eval | explain``: the GNN reasoners from the command line.

* ``train --model nbfnet --dataset NAME|DIR``: a built-in dataset or a split folder
  (transductive), or a GraIL inductive folder (trained on ``train_graph``);
  ``--model epignn --dataset DIR``: a CLUTRR folder.
* ``eval --checkpoint DIR [--dataset DIR] [--protocol full|grail50]``: an inductive folder
  moves the model onto its inference graph; a CLUTRR folder gives accuracy per k.
* ``explain``: the most important paths of an NBFNet prediction (edge gradients).

The checkpoint is an ordinary predictor folder: ``nesykg eval`` and ``nesykg predict``
read it too. torch and torch-geometric load inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from nesykg.cli.common import JsonOpt, check_device, console, print_json
from nesykg.cli.rundir import CheckpointRunDirOpt, RunDirOpt, check_early
from nesykg.errors import InputError

__all__ = ["app"]

app = typer.Typer(help="GNN reasoners: NBFNet (path GNN, inductive) and EpiGNN (relation prediction).", no_args_is_help=True)

MODELS = ("nbfnet", "epignn")


def _metrics_table(title: str, rows: dict[str, dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title=title)
    cols = [c for c in ("mrr", "hits@1", "hits@3", "hits@10", "count") if any(c in m for m in rows.values())]
    table.add_column("")
    for c in cols:
        table.add_column(c, justify="right")
    for name, m in rows.items():
        table.add_row(name, *(f"{m[c]:.4f}" if c != "count" else str(m[c]) for c in cols))
    return table


@app.command("train")
def train(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Built-in name, split folder, GraIL inductive folder or CLUTRR folder.")],
    model: Annotated[str, typer.Option("--model", "-m", help="nbfnet or epignn.")] = "nbfnet",
    epochs: Annotated[int, typer.Option(min=1, help="Epochs.")] = 10,
    dim: Annotated[Optional[int], typer.Option(help="NBFNet width (default 32); EpiGNN primitive relations per facet (default 32).")] = None,
    facets: Annotated[Optional[int], typer.Option(help="EpiGNN facets per node state (default 8).")] = None,
    layers: Annotated[Optional[int], typer.Option(help="NBFNet layers (default 6).")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Queries (nbfnet) or graphs (epignn) per step.")] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Learning rate (default 5e-3 nbfnet, 1e-2 epignn).")] = None,
    weight_decay: Annotated[Optional[float], typer.Option("--weight-decay", min=0.0, help="AdamW weight decay (default 0 nbfnet, 1e-2 epignn).")] = None,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", min=1, help="Optimiser steps per epoch at most.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Checkpoint folder (default runs/DATASET-MODEL).")] = None,
    device: Annotated[str, typer.Option(help="torch device: cpu, cuda...")] = "cpu",
    run_dir: CheckpointRunDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Train a GNN reasoner and write a checkpoint folder (model.pt, facts.pt, vocab.json, config.json).

    The run (per-epoch loss and validation score, metrics, timings) goes to --run-dir (default: CHECKPOINT/run)."""
    import torch

    from nesykg.cli.progress import stage_progress
    from nesykg.reasoners.checkpoint import atomic_write_text, save_predictor
    from nesykg.reasoners.gnn.training import GNNTrainingConfig

    if model not in MODELS:
        raise InputError(f"unknown --model {model!r}; choose one of {', '.join(MODELS)}")
    check_device(device)
    check_early(run_dir)
    gen = torch.Generator().manual_seed(seed)
    kw: dict[str, Any] = {"epochs": epochs, "seed": seed, "device": device, "max_steps": max_steps}
    if model == "epignn":
        from nesykg.datasets.clutrr import load_clutrr
        from nesykg.kg.vocab import Vocabulary
        from nesykg.reasoners.gnn.epignn import EpiGNN, EpiGNNConfig
        from nesykg.reasoners.gnn.training import train_epignn

        sp = load_clutrr(dataset)
        cfg = GNNTrainingConfig(batch_size=batch_size or 128, learning_rate=lr or 1e-2,
                                weight_decay=1e-2 if weight_decay is None else weight_decay, **kw)
        ecfg = EpiGNNConfig(**{k: v for k, v in (("dim", dim), ("facets", facets)) if v is not None})
        net = EpiGNN(Vocabulary.from_names([], sp.relations), ecfg, generator=gen)
        valid = sp.test_by_k()
        order = torch.randperm(len(sp.train), generator=torch.Generator().manual_seed(seed)).tolist()
        cut = max(1, int(0.8 * len(order)))  # the best epoch by accuracy on 20% held-out training graphs, never test graphs
        with stage_progress(transient=False) as bar:
            result = train_epignn(net, [sp.train[i] for i in order[:cut]], [sp.train[i] for i in order[cut:]], cfg, progress=bar)
        metrics: dict[str, Any] = {f"k={k}": {"accuracy": net.accuracy(q)} for k, q in valid.items()}
        name, ref = sp.path.resolve().name, str(sp.path.resolve())
    else:
        from nesykg.datasets import load_dataset
        from nesykg.datasets.inductive import is_inductive_folder, load_inductive
        from nesykg.kg.tensor import TensorKG
        from nesykg.reasoners.checkpoint import dataset_reference
        from nesykg.reasoners.evaluation import evaluate
        from nesykg.reasoners.gnn.nbfnet import NBFNet, NBFNetConfig
        from nesykg.reasoners.gnn.training import train_nbfnet

        if is_inductive_folder(dataset):
            kg = load_inductive(dataset).train
            name, ref = kg.name, str(Path(dataset).resolve())
        else:
            ds = load_dataset(dataset)
            kg = TensorKG.from_dataset(ds)
            name, ref = ds.name, dataset_reference(dataset, ds.name, ds.path)
        ncfg = NBFNetConfig(dim=dim or 32, num_layers=layers or 6)
        cfg = GNNTrainingConfig(batch_size=batch_size or 32, learning_rate=lr or 5e-3, weight_decay=weight_decay or 0.0, **kw)
        net = NBFNet(kg.vocab, ncfg, kg.triples("train"), generator=gen)
        valid = kg.splits.get("valid")
        with stage_progress(transient=False) as bar:
            result = train_nbfnet(net, kg.triples("train"), valid, cfg, progress=bar)
        metrics = {}
        if "test" in kg.splits and len(kg.triples("test")):
            filt = [kg.triples(s) for s in ("train", "valid", "test") if s in kg.splits]
            with stage_progress() as bar:
                bar.begin("evaluating on test")  # elapsed time: evaluate() reports no progress
                metrics["test"] = evaluate(net, kg.triples("test"), filt)
    folder = out or Path("runs") / f"{name}-{model}"
    save_predictor(net, folder, dataset=ref)
    import json

    atomic_write_text(folder / "metrics.json", json.dumps({"training": result.to_dict(), "metrics": metrics}, indent=2, default=str))
    from nesykg.cli.rundir import cli_run, record_gnn_training

    with cli_run(run_dir, "gnn train", {"dataset": ref, "model": model, "out": folder, **result.to_dict()["config"]},
                 checkpoint=folder) as run:
        record_gnn_training(run, result, metrics)
    if json_out:
        print_json({"checkpoint": str(folder), "run_dir": str(run.path), "training": result.to_dict(), "metrics": metrics})
        return
    out_console = console()
    if model == "epignn":
        out_console.print(_metrics_table(f"epignn on {name}", {k: {"mrr": v["accuracy"]} for k, v in metrics.items()}))
        out_console.print("(column mrr: accuracy per chain length)")
    elif metrics:
        out_console.print(_metrics_table(f"nbfnet on {name}", metrics))
    out_console.print(f"{len(result.history)} epochs, {result.to_dict()['seconds_per_epoch']:.1f} s/epoch; checkpoint in {folder}; "
                      f"run recorded in {run.path}")


@app.command("eval")
def evaluate_cmd(
    checkpoint: Annotated[Path, typer.Option("--checkpoint", "-c", help="Checkpoint folder ('nesykg gnn train').")],
    dataset: Annotated[Optional[str], typer.Option("--dataset", "-d", help="Dataset (default: the training one); an inductive folder evaluates on its inference graph.")] = None,
    protocol: Annotated[str, typer.Option(help="full (filtered ranking over all entities) or grail50 (50 sampled negatives).")] = "full",
    device: Annotated[str, typer.Option(help="torch device.")] = "cpu",
    run_dir: RunDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Evaluate a GNN checkpoint: filtered ranking or GraIL's protocol; CLUTRR accuracy per k.

    The run is recorded in --run-dir (default: a new runs/<UTC time>-gnn-eval folder)."""
    from nesykg.reasoners.checkpoint import load_checkpoint
    from nesykg.reasoners.gnn.evaluation import PROTOCOLS, inductive_metrics

    if protocol not in PROTOCOLS:
        raise InputError(f"unknown --protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    check_device(device)
    check_early(run_dir)
    cp = load_checkpoint(checkpoint, device=device)
    where = dataset or cp.dataset
    if not where:
        raise InputError(f"{checkpoint}: the checkpoint names no dataset; pass --dataset")
    rows: dict[str, dict[str, Any]]
    if cp.name == "epignn":
        from nesykg.datasets.clutrr import load_clutrr

        sp = load_clutrr(where)
        rows = {f"k={k}": {"mrr": cp.model.accuracy(q), "count": len(q)} for k, q in sp.test_by_k().items()}  # type: ignore[attr-defined]
        title = f"epignn accuracy on {sp.path.name} (column mrr: accuracy)"
    else:
        from nesykg.datasets.inductive import is_inductive_folder, load_inductive

        if is_inductive_folder(where):
            inf = load_inductive(where).inference
            model = cp.model.on_graph(inf.vocab, inf.triples("train"))  # type: ignore[attr-defined]
            kg, filt = inf, [inf.triples("train"), inf.triples("valid")]
        else:
            from nesykg.pipeline import load_dataset_kg

            kg = load_dataset_kg(where)
            kg.vocab.check_same(cp.vocab, what="checkpoint")
            model, filt = cp.model, [kg.triples(s) for s in ("train", "valid") if s in kg.splits]
        from nesykg.cli.progress import stage_progress

        with stage_progress() as bar:
            bar.begin(f"evaluating ({protocol})")  # elapsed time: inductive_metrics reports no progress
            rows = {"test": inductive_metrics(model, kg.triples("test"), filt, protocol)}
        title = f"{cp.name} on {kg.name} ({protocol})"
    from nesykg.cli.rundir import cli_run

    with cli_run(run_dir, "gnn eval", {"checkpoint": checkpoint, "dataset": str(where), "model": cp.name,
                                       "protocol": protocol, "device": device}) as run:
        run.metrics = rows
    if json_out:
        print_json({"checkpoint": str(checkpoint), "dataset": str(where), "protocol": protocol, "metrics": rows,
                    "run_dir": str(run.path)})
    else:
        console().print(_metrics_table(title, rows))
        console().print(f"run recorded in {run.path}")


@app.command("explain")
def explain(
    checkpoint: Annotated[Path, typer.Option("--checkpoint", "-c", help="An NBFNet checkpoint folder.")],
    head: Annotated[str, typer.Option("--head", help="Head entity.")],
    relation: Annotated[str, typer.Option("--relation", "-r", help="Relation (inv:NAME for the reciprocal).")],
    tail: Annotated[str, typer.Option("--tail", help="Tail entity.")],
    top: Annotated[int, typer.Option("--top", min=1, help="Paths to show.")] = 5,
    json_out: JsonOpt = False,
) -> None:
    """The most important paths behind the score of (head, relation, tail), by edge gradients."""
    from nesykg.reasoners.checkpoint import load_predictor
    from nesykg.reasoners.gnn.explain import explain_paths
    from nesykg.reasoners.gnn.nbfnet import NBFNet

    model = load_predictor(checkpoint)
    if not isinstance(model, NBFNet):
        raise InputError(f"{checkpoint}: path explanations need an nbfnet checkpoint, not {type(model).name}")
    paths = explain_paths(model, head, relation, tail, top=top)
    if json_out:
        print_json({"head": head, "relation": relation, "tail": tail, "paths": [p.as_dict() for p in paths]})
        return
    out = console()
    out.print(f"({head}, {relation}, {tail}): {len(paths)} paths", markup=False)
    for p in paths:
        out.print(f"  {p.importance:+.4f}  {p}", markup=False)
