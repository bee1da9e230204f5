"""Benchmark the rule miner and the rule-based link predictor.

Usage::

    .venv/bin/python scripts/bench_rules.py --data /work/shared/datasets

Prints a table: mining time, number of rules, filtered MRR / Hits@1 / Hits@10 (both
directions, mean-tie ranks) on UMLS, Kinship and CoDEx-S, and AUC-PR of
``locatedin(country, region)`` on Countries S1-S3: every test country's 5 regions
(``regions.list``) are ranked by rule score and average precision is computed over all
(country, region) pairs, as in Bouchard et al. (2015) and later Countries papers.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from nesykg.datasets import load_dataset
from nesykg.kg.tensor import TensorKG
from nesykg.reasoners.evaluation import evaluate
from nesykg.reasoners.rules.miner import MinerConfig, mine_rules
from nesykg.reasoners.rules.predictor import RuleLinkPredictor

LINK_PREDICTION = {"umls": "umls", "kinship": "kinship", "codex-s": "codex-s"}
COUNTRIES = {"countries_s1": "countries_S1", "countries_s2": "countries_S2", "countries_s3": "countries_S3"}


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the precision-recall curve as average precision (scikit-learn's
    definition: tied scores form one threshold)."""
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order].astype(float)
    distinct = np.flatnonzero(np.diff(s)) if len(s) > 1 else np.zeros(0, dtype=int)
    ends = np.concatenate([distinct, [len(s) - 1]])
    tp = np.cumsum(y)[ends]
    fp = (ends + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / max(y.sum(), 1)
    prev = np.concatenate([[0.0], recall[:-1]])
    return float(np.sum((recall - prev) * precision))


def countries_auc_pr(predictor: RuleLinkPredictor, kg: TensorKG, regions: list[str], split: str = "test") -> float:
    v = kg.vocab
    test = kg.triples(split)
    rel = v.relation_id("locatedin")
    reg = torch.tensor([v.entity_id(r) for r in regions])
    countries = sorted({int(h) for h, r, _ in test.tolist() if r == rel})
    truth = {(int(h), int(t)) for h, r, t in test.tolist() if r == rel}
    scores = predictor.score_tails(torch.tensor(countries), torch.full((len(countries),), rel))[:, reg].numpy()
    labels = np.array([[(c, int(r)) in truth for r in reg] for c in countries])
    return average_precision(scores.ravel(), labels.ravel())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="folder with umls/, kinship/, codex-s/, countries_S1/...")
    ap.add_argument("--max-length", type=int, default=3)
    ap.add_argument("--min-conf", type=float, default=0.1)
    ap.add_argument("--time-budget", type=float, default=60.0, help="mining budget per dataset, seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*", help="dataset keys to run")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = ap.parse_args()
    base = MinerConfig(max_length=args.max_length, min_confidence=args.min_conf, time_budget=args.time_budget, seed=args.seed)
    # Link prediction: path and constant rules, AnyBURL-style application (max, ties broken
    # by all groundings; pessimistic confidence support / (body + 5)).
    # Countries: closed path rules only, as rule learners are usually run on it (NeuralLP,
    # DRUM, NTP), applied with their PCA confidence: the test countries have no region at
    # all, which PCA confidence does not count against a rule.
    setups = {
        "lp": (base, dict(aggregation="max+noisy-or", smoothing=5.0, confidence="rule")),
        "countries": (replace(base, constants=False), dict(aggregation="max+noisy-or", smoothing=0.0, confidence="pca")),
    }
    print(f"nesykg rules benchmark; torch threads {torch.get_num_threads()}; seed {args.seed}")
    for name, (cfg, app) in setups.items():
        print(f"  {name:<9}: max length {cfg.max_length}, min support {cfg.min_support}, min conf {cfg.min_confidence}, "
              f"constants {cfg.constants}, time budget {cfg.time_budget} s; "
              f"aggregation {app['aggregation']}, confidence {app['confidence']}, smoothing {app['smoothing']}")
    header = f"{'dataset':<14} {'train':>7} {'rules':>7} {'mine s':>7} {'eval s':>7} {'MRR':>6} {'H@1':>6} {'H@10':>6} {'AUC-PR':>7}"
    print(header)
    print("-" * len(header))
    rows = []
    for key, folder in {**LINK_PREDICTION, **COUNTRIES}.items():
        if args.only and key not in args.only:
            continue
        path = args.data / folder
        if not path.is_dir():
            print(f"{key:<14} (missing: {path})")
            continue
        ds = load_dataset(path, name=key)
        kg = TensorKG.from_dataset(ds)
        setup = "countries" if key in COUNTRIES else "lp"
        if key in COUNTRIES:
            # choose the setup on the validation split (same task: 24 countries' regions)
            regions = (path / "regions.list").read_text().split()
            valid_auc = {}
            for name, (c, a) in setups.items():
                valid_auc[name] = countries_auc_pr(RuleLinkPredictor(kg, mine_rules(kg, c).rules, **a), kg, regions, "valid")
            setup = max(valid_auc, key=lambda n: (valid_auc[n], n == "countries"))
        cfg, app = setups[setup]
        res = mine_rules(kg, cfg)
        t0 = time.perf_counter()
        pred = RuleLinkPredictor(kg, res.rules, **app)
        row = {"dataset": key, "setup": setup, "train": len(ds.train), "rules": len(res.rules), "mine_s": res.seconds,
               "truncated": res.truncated}
        if key in COUNTRIES:
            row["valid_auc_pr"] = {n: round(v, 4) for n, v in valid_auc.items()}
            row["auc_pr"] = countries_auc_pr(pred, kg, regions)
        else:
            m = evaluate(pred, kg.triples("test"), [kg.triples("train"), kg.triples("valid")])
            row.update(mrr=m["mrr"], hits1=m["hits@1"], hits10=m["hits@10"])
        row["eval_s"] = time.perf_counter() - t0
        rows.append(row)

        def f(k: str) -> str:
            return f"{row[k]:.3f}" if k in row else "-"

        trunc = "*" if res.truncated else " "
        print(
            f"{key:<14} {row['train']:>7} {row['rules']:>7} {row['mine_s']:>6.1f}{trunc} {row['eval_s']:>7.1f} "
            f"{f('mrr'):>6} {f('hits1'):>6} {f('hits10'):>6} {f('auc_pr'):>7}"
            + (f"   setup {setup} (valid AUC-PR: " + ", ".join(f"{n} {v:.3f}" for n, v in row["valid_auc_pr"].items()) + ")"
               if "valid_auc_pr" in row else ""),
            flush=True,
        )
    print("Countries: the setup is chosen by AUC-PR on the validation split, then AUC-PR is reported on test.")
    print("MRR/Hits: filtered (train+valid+test), both directions, mean-tie ranks, test split. "
          "mine s: wall time of mining (* = stopped by the time budget); eval s: building the predictor + scoring.")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
