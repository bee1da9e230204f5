"""Side-by-side benchmark: nesykg's ComplEx against PyKEEN's ComplEx, in one run.

Both systems get the same data split and id mapping, embedding size, epochs, batch size,
optimiser (Adagrad), learning rate, initialisation ``N(0, 1e-3)``, cross-entropy loss over all
entities with reciprocal relations, and N3 (``0.01 * mean |x|^3`` sums, PyKEEN's
``powersum`` regulariser with ``p=3, normalize=False``). Runs:

* ``pykeen``   -- PyKEEN LCWA training loop (one example per distinct (head, relation)).
* ``grouped``  -- nesykg ``mode="kvsall"``: the same grouping, so the same work per epoch.
* ``triple``   -- nesykg ``mode="1vsall"``: one example per triple (Lacroix et al. 2018),
  ~5x more optimiser steps per epoch, usually a higher MRR.

Every model is evaluated by the same function (`nesykg.reasoners.evaluation.evaluate`:
filtered, both directions, mean-tie ranks; PyKEEN's evaluator agrees on the same weights,
see /work/shared/BENCHMARKS.md), with the weights of the last epoch (no model selection).
Times are training only, per epoch, measured in this process with the same torch threads.

    .venv/bin/python scripts/bench_linkpred.py --data /work/shared/datasets \
        --datasets umls kinship nations codex-s --seeds 0 1 2 --triple-seeds 1 --check-evaluator

Measured so (2 shared cores, 1 torch thread, 3 seeds): at equal work (grouped) nesykg's MRR
is within 0.003 of PyKEEN's on all four datasets (UMLS -.0003, Kinship +.0015, Nations
+.0015, CoDEx-S -.0027) at 0.03-0.43x its time per epoch (CoDEx-S 1.11 vs 2.56 s); per-triple
1-vs-all reaches CoDEx-S MRR .4653. PyKEEN's evaluator agreed to 6 decimals on every model.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from nesykg.datasets import load_dataset
from nesykg.kg.tensor import TensorKG
from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.config import TrainingConfig
from nesykg.reasoners.embeddings import EmbeddingConfig
from nesykg.reasoners.evaluation import evaluate
from nesykg.reasoners.training import train


class PykeenPredictor(LinkPredictor):
    """A trained PyKEEN model behind nesykg's `LinkPredictor` interface.

    Relation ids ``>= R`` are reciprocals: their tails are PyKEEN's head predictions
    (``predict_h``, which maps to its inverse relations; ``predict_t`` maps relation ids too).
    """

    def __init__(self, model: Any, vocab: Vocabulary):
        super().__init__(vocab)
        self.model = model

    @torch.no_grad()
    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        R = self.num_relations
        out = torch.empty(len(heads), self.num_entities)
        fwd = relations < R
        if fwd.any():
            out[fwd] = self.model.predict_t(torch.stack([heads[fwd], relations[fwd]], 1)).cpu()
        if (~fwd).any():
            out[~fwd] = self.model.predict_h(torch.stack([relations[~fwd] - R, heads[~fwd]], 1)).cpu()
        return out


def run_pykeen(kg: TensorKG, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    from pykeen.models import ComplEx
    from pykeen.training import LCWATrainingLoop
    from pykeen.triples import TriplesFactory
    from pykeen.utils import set_random_seed

    e2i = {e: i for i, e in enumerate(kg.vocab.entities)}
    r2i = {r: i for i, r in enumerate(kg.vocab.relations)}
    tf = TriplesFactory(kg.triples("train"), entity_to_id=e2i, relation_to_id=r2i, create_inverse_triples=True)
    set_random_seed(seed)
    init = functools.partial(torch.nn.init.normal_, std=args.init_std)
    model = ComplEx(
        triples_factory=tf,
        embedding_dim=args.dim,
        loss="crossentropy",
        entity_initializer=init,
        relation_initializer=init,
        regularizer="powersum",
        regularizer_kwargs=dict(weight=args.n3, p=3.0, normalize=False),
        random_seed=seed,
    )
    optimizer = torch.optim.Adagrad(model.parameters(), lr=args.lr)
    loop = LCWATrainingLoop(model=model, triples_factory=tf, optimizer=optimizer)
    t0 = time.perf_counter()
    losses = loop.train(triples_factory=tf, num_epochs=args.epochs, batch_size=args.batch_size, use_tqdm=False)
    seconds = time.perf_counter() - t0
    model.eval()
    pred = PykeenPredictor(model, kg.vocab)
    metrics = evaluate(pred, kg.triples("test"), [kg.triples("train"), kg.triples("valid")])
    row = {"run": "PyKEEN LCWA", "epochs": args.epochs, "s_per_epoch": seconds / args.epochs, "final_loss": losses[-1], **metrics}
    if args.check_evaluator:  # PyKEEN's own evaluator on the same weights, as a cross-check
        from pykeen.evaluation import RankBasedEvaluator

        res = RankBasedEvaluator(filtered=True).evaluate(
            model, kg.triples("test"), additional_filter_triples=[kg.triples("train"), kg.triples("valid")],
            batch_size=256, use_tqdm=False,
        )
        row["pykeen_evaluator_mrr"] = float(res.get_metric("both.realistic.inverse_harmonic_mean_rank"))
    return row


def run_nesykg(kg: TensorKG, args: argparse.Namespace, mode: str, epochs: int, seed: int) -> dict[str, Any]:
    config = TrainingConfig(
        model="complex", model_config=EmbeddingConfig(dim=args.dim, n3_weight=args.n3, init_std=args.init_std),
        epochs=epochs, batch_size=args.batch_size, learning_rate=args.lr, optimizer="adagrad", mode=mode, seed=seed,
        eval_every=0,
    )
    model, result = train(kg, config)
    metrics = evaluate(model, kg.triples("test"), [kg.triples("train"), kg.triples("valid")])
    label = "nesykg grouped (h,r)" if mode == "kvsall" else "nesykg 1-vs-all/triple"
    return {
        "run": label, "epochs": epochs, "s_per_epoch": result.timings["seconds_per_epoch"],
        "final_loss": result.history[-1]["loss"], **metrics,
    }


def _warm_up() -> None:
    """Pay torch's one-time optimiser import (torch._dynamo, seconds) outside any timing."""
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.Adagrad([p], lr=0.1)
    p.sum().backward()
    opt.step()


def _mean_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean over seeds of one (dataset, run); ``mrr_std`` is the spread over seeds."""
    out = dict(rows[0])
    for key in ("s_per_epoch", "mrr", "hits@1", "hits@10", "final_loss"):
        out[key] = sum(r[key] for r in rows) / len(rows)
    mrrs = torch.tensor([r["mrr"] for r in rows], dtype=torch.double)
    out["mrr_std"] = float(mrrs.std()) if len(rows) > 1 else 0.0
    out["seeds"] = [r["seed"] for r in rows]
    out["per_seed"] = [{k: r[k] for k in ("seed", "s_per_epoch", "mrr", "hits@1", "hits@10")} for r in rows]
    return out


def format_table(rows: list[dict[str, Any]]) -> str:
    head = (f"| {'dataset':<8} | {'run':<24} | {'ep':>3} | {'seeds':>5} | {'s/epoch':>8} | {'MRR (std)':>15} | {'H@1':>6} | "
            f"{'H@10':>6} | {'time/PyKEEN':>11} | {'MRR-PyKEEN':>10} |")
    lines = [head, "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"]
    by_ds: dict[str, dict[str, Any]] = {r["dataset"]: r for r in rows if r["run"] == "PyKEEN LCWA"}
    for r in rows:
        ref = by_ds.get(r["dataset"])
        ratio = f"{r['s_per_epoch'] / ref['s_per_epoch']:.3f}x" if ref and r is not ref else "1"
        dmrr = f"{r['mrr'] - ref['mrr']:+.4f}" if ref and r is not ref else "0"
        lines.append(
            f"| {r['dataset']:<8} | {r['run']:<24} | {r['epochs']:>3} | {len(r['seeds']):>5} | {r['s_per_epoch']:>8.4f} | "
            f"{r['mrr']:>6.4f} ({r['mrr_std']:.4f}) | "
            f"{r['hits@1']:>6.4f} | {r['hits@10']:>6.4f} | {ratio:>11} | {dmrr:>10} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("/work/shared/datasets"), help="folder holding the dataset folders")
    ap.add_argument("--datasets", nargs="+", default=["umls", "kinship", "nations", "codex-s"])
    ap.add_argument("--runs", nargs="+", default=["pykeen", "grouped", "triple"], choices=["pykeen", "grouped", "triple"])
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--triple-epochs", type=int, nargs="*", default=[],
                    help="DATASET=N: fewer epochs for the per-triple run on DATASET (said so in the table)")
    ap.add_argument("--dim", type=int, default=200, help="ComplEx rank (complex numbers)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--n3", type=float, default=0.01)
    ap.add_argument("--init-std", type=float, default=1e-3)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds; the table shows means (and MRR std)")
    ap.add_argument("--triple-seeds", type=int, default=None,
                    help="run the (slow) per-triple mode only with the first N seeds")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for both systems (a shared machine is faster with 1)")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    ap.add_argument("--check-evaluator", action="store_true", help="also evaluate PyKEEN's model with PyKEEN's evaluator")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    triple_epochs = dict((kv.split("=")[0], int(kv.split("=")[1])) for kv in args.triple_epochs)
    _warm_up()
    rows: list[dict[str, Any]] = []
    for name in args.datasets:
        folder = args.data / name
        ds = load_dataset(folder if folder.exists() else name)
        kg = TensorKG.from_dataset(ds)
        print(f"# {name}: {kg}", file=sys.stderr, flush=True)
        for run in args.runs:
            seeds = args.seeds[: args.triple_seeds] if run == "triple" and args.triple_seeds else args.seeds
            per_seed = []
            for seed in seeds:
                gc.collect()
                if run == "pykeen":
                    row = run_pykeen(kg, args, seed)
                elif run == "grouped":
                    row = run_nesykg(kg, args, "kvsall", args.epochs, seed)
                else:
                    row = run_nesykg(kg, args, "1vsall", triple_epochs.get(name, args.epochs), seed)
                row.update(dataset=name, seed=seed)
                per_seed.append(row)
                extra = f" (PyKEEN's evaluator: {row['pykeen_evaluator_mrr']:.6f})" if "pykeen_evaluator_mrr" in row else ""
                print(f"#   {row['run']} seed {seed}: {row['s_per_epoch']:.4f} s/epoch, MRR {row['mrr']:.6f}{extra}",
                      file=sys.stderr, flush=True)
            rows.append(_mean_row(per_seed))
    import nesykg

    try:
        import pykeen

        pykeen_version = pykeen.get_version()
    except ImportError:  # the nesykg runs alone (--runs grouped triple) need no PyKEEN
        pykeen_version = "not installed"
    print(
        f"ComplEx rank {args.dim}, batch {args.batch_size}, Adagrad lr {args.lr}, N3 {args.n3}, init N(0,{args.init_std}), "
        f"seeds {args.seeds}, torch {torch.__version__} x{args.threads} threads, PyKEEN {pykeen_version}, "
        f"nesykg {nesykg.__version__}; filtered test metrics (both directions, last epoch), means over seeds"
    )
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
