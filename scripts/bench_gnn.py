"""Benchmark the GNN reasoners against their peers, on the shared benchmark data.

    python scripts/bench_gnn.py --data /work/shared/datasets [--quick] [--only umls,kinship,...]

Tables printed:

1. NBFNet vs ComplEx on UMLS, Kinship, CoDEx-S: filtered MRR and Hits@10 on test (both
   directions), training seconds.
2. NBFNet vs the rule predictor on inductive-nell_v1/v2: trained on ``train_graph``,
   evaluated on ``inference_graph/test.txt`` over ``inference_graph/train.txt``: Hits@10
   against 50 sampled negatives (GraIL) and full filtered MRR.
3. EpiGNN on clutrr-089907f8: accuracy per chain length k = 2..10, training seconds.

``--quick`` caps NBFNet's optimiser steps per epoch and the CoDEx-S test queries, and
trains EpiGNN for fewer epochs (what fits on two shared CPU cores); the caps are printed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from nesykg.datasets import load_dataset
from nesykg.datasets.clutrr import load_clutrr
from nesykg.datasets.inductive import load_inductive
from nesykg.kg.tensor import TensorKG
from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.defaults import default_config
from nesykg.reasoners.evaluation import evaluate
from nesykg.reasoners.gnn.epignn import EpiGNN, EpiGNNConfig
from nesykg.reasoners.gnn.evaluation import inductive_metrics
from nesykg.reasoners.gnn.nbfnet import NBFNet, NBFNetConfig
from nesykg.reasoners.gnn.training import GNNTrainingConfig, train_epignn, train_nbfnet
from nesykg.reasoners.rules.miner import MinerConfig, mine_rules
from nesykg.reasoners.rules.predictor import RuleLinkPredictor
from nesykg.reasoners.training import train as train_embedding


def _row(*cells: object) -> str:
    return "| " + " | ".join(f"{c:.3f}" if isinstance(c, float) else str(c) for c in cells) + " |"


def _nbfnet(kg: TensorKG, args: argparse.Namespace, epochs: int, steps: int | None) -> tuple[NBFNet, float]:
    gen = torch.Generator().manual_seed(0)
    model = NBFNet(kg.vocab, NBFNetConfig(dim=args.dim, num_layers=args.layers), kg.triples("train"), generator=gen)
    cfg = GNNTrainingConfig(epochs=epochs, batch_size=args.batch_size, learning_rate=5e-3, max_steps=steps,
                            eval_queries=200, device=args.device)
    valid = kg.splits.get("valid")
    res = train_nbfnet(model, kg.triples("train"), valid, cfg, filter_triples=[kg.triples("test")])
    return model, res.train_seconds


def transductive(args: argparse.Namespace, names: list[str]) -> None:
    print("\n## NBFNet vs ComplEx (filtered, both directions, test split)\n")
    print(_row("dataset", "model", "MRR", "Hits@10", "train s", "settings"))
    print(_row(*["---"] * 6))
    for name in names:
        folder = {"umls": "umls", "kinship": "kinship", "codex-s": "codex-s"}[name]
        kg = TensorKG.from_dataset(load_dataset(Path(args.data) / folder, name=name.replace("-", "_")))
        test = kg.triples("test")
        filt = [kg.triples(s) for s in ("train", "valid", "test")]
        big = kg.num_entities > 1000
        if args.quick and big:
            test = test[torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[: args.test_cap]]
        cfg = default_config(kg.name, "complex", epochs=args.complex_epochs, patience=0, eval_every=5)
        t0 = time.perf_counter()
        cx, _ = train_embedding(kg, cfg)
        cx_s = time.perf_counter() - t0
        m = evaluate(cx, test, filt)
        print(_row(name, "complex", m["mrr"], m["hits@10"], f"{cx_s:.0f}", f"dim {cfg.model_config.dim}, {cfg.epochs} ep"))
        steps = args.steps if args.quick else None
        epochs = args.epochs_big if big else args.epochs
        model, secs = _nbfnet(kg, args, epochs, steps)
        m = evaluate(model, test, filt)
        where = f"{len(test)} test triples" if len(test) < len(kg.triples('test')) else "all test"
        print(_row(name, "nbfnet", m["mrr"], m["hits@10"], f"{secs:.0f}",
                   f"dim {args.dim}, {args.layers} layers, {epochs} ep x {steps or 'all'} steps, {where}"), flush=True)


def inductive(args: argparse.Namespace, names: list[str]) -> None:
    print("\n## NBFNet vs rules, inductive (inference graph's test; both directions)\n")
    print(_row("split", "model", "Hits@10 (50 neg)", "MRR (50 neg)", "full MRR", "full Hits@10", "train s"))
    print(_row(*["---"] * 7))
    for name in names:
        sp = load_inductive(Path(args.data) / f"inductive-{name}")
        inf = sp.inference
        test, filt = inf.triples("test"), [inf.triples("train"), inf.triples("valid")]
        t0 = time.perf_counter()
        rules = mine_rules(sp.train, MinerConfig(max_length=3, constants=False, time_budget=120)).rules
        rp = RuleLinkPredictor(inf, rules, aggregation="max+noisy-or")
        r_s = time.perf_counter() - t0
        for label, pred, secs in (("rules", rp, r_s),):
            g = inductive_metrics(pred, test, filt, "grail50")
            f = inductive_metrics(pred, test, filt, "full")
            print(_row(name, label, g["hits@10"], g["mrr"], f["mrr"], f["hits@10"], f"{secs:.0f}"), flush=True)
        model, secs = _nbfnet(sp.train, args, args.epochs_ind, args.steps if args.quick else None)
        ind = model.on_graph(inf.vocab, inf.triples("train"))
        g = inductive_metrics(ind, test, filt, "grail50")
        f = inductive_metrics(ind, test, filt, "full")
        print(_row(name, "nbfnet", g["hits@10"], g["mrr"], f["mrr"], f["hits@10"], f"{secs:.0f}"), flush=True)


def clutrr(args: argparse.Namespace) -> None:
    sp = load_clutrr(Path(args.data) / "clutrr-089907f8")
    vocab = Vocabulary.from_names([], sp.relations)
    model = EpiGNN(vocab, EpiGNNConfig(), generator=torch.Generator().manual_seed(0))
    by_k = sp.test_by_k()
    epochs = args.epi_epochs
    cfg = GNNTrainingConfig(epochs=epochs, batch_size=128, learning_rate=1e-2, device=args.device)
    res = train_epignn(model, sp.train, by_k.get(4, ())[:100], cfg)
    print(f"\n## EpiGNN on clutrr-089907f8 (train 1.2,1.3; {epochs} epochs, {res.train_seconds:.0f} s)\n")
    print(_row("k", *by_k))
    print(_row(*["---"] * (len(by_k) + 1)))
    print(_row("accuracy", *(model.accuracy(q) for q in by_k.values())), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder holding umls/, kinship/, codex-s/, inductive-*/, clutrr-*/")
    ap.add_argument("--only", default="umls,kinship,codex-s,nell_v1,nell_v2,clutrr")
    ap.add_argument("--quick", action="store_true", help="cap steps per epoch and CoDEx-S test queries")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--epochs-big", type=int, default=2)
    ap.add_argument("--epochs-ind", type=int, default=6)
    ap.add_argument("--steps", type=int, default=100, help="optimiser steps per epoch with --quick")
    ap.add_argument("--test-cap", type=int, default=300, help="CoDEx-S test triples with --quick")
    ap.add_argument("--complex-epochs", type=int, default=50)
    ap.add_argument("--epi-epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    only = args.only.split(",")
    print(f"# bench_gnn ({'quick' if args.quick else 'full'}; {vars(args)})")
    trans = [n for n in ("umls", "kinship", "codex-s") if n in only]
    if trans:
        transductive(args, trans)
    ind = [n for n in ("nell_v1", "nell_v2") if n in only]
    if ind:
        inductive(args, ind)
    if "clutrr" in only:
        clutrr(args)


if __name__ == "__main__":
    main()
