"""Benchmark the agent on a KGQA question set: full KG, and with gold-path triples removed.

    python scripts/bench_agent.py --questions ../shared/datasets/pathquestion-2h/PQ-2H.txt \\
        --kb ../shared/datasets/pathquestion-2h/2H-kb.txt

Protocol (`nesykg.agents.evaluation.run_agent_eval`): a seeded 80/20 split into exemplars and
scored questions (paraphrases of one gold path on one side) unless --exemplars is given; for
each --drop fraction, that share of the distinct triples on the scored questions' gold paths
is removed (seeded) before the workspace is built, rules are mined from what is left, and
every scored question is asked. Reports Hits@1, F1, write-back precision (share of written
triples that are removed facts; with --rules also the share that are removed facts or that
the certain expert rules conclude from the whole KB, true facts it never held), mean steps
and p50/p95 latency per question. --train MODEL
(default complex; ``none`` for no model) trains that link predictor on the workspace's graph
when it is opened (`Workspace.open(train=)`), a fallback after the rules. --calibration
also prints, per setting, the distinct proposed triples by confidence and how many are removed
facts (with a low --min-confidence and --dry-run: what a lower threshold would have written).

--ceiling [MODEL ...] also measures, per setting with triples removed, the evidence ceiling
(`nesykg.agents.ceiling`): the share of scored questions whose gold path holds, or whose missing
hops some link predictor ranks first (the workspace's own plus MODELs trained on the same graph,
default distmult rotate transe nbfnet), or that a planner plan or the agent answers: no agent
choosing among these sources can score above it; and, for comparison, what the reciprocal-rank
fusion of all those predictors reaches when told each question's gold relation path. With --rules it also prints how many facts the
certain expert rules add to the graph the agent sees and what share of them are removed facts
(the removed-facts precision of a writer that writes all of them, every one true).

With --learn (`nesykg.agents.learning.run_learning_eval`): the 80% side is the training set;
--seed-share of it (grouped, seeded) is given to the planner as exemplars, the rest is asked
once (--passes times), recorded in a fresh memory with its gold answers and learned from;
validation Hits@1 on the scored 20% is reported before and after learning, per --drop.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from nesykg.agents.evaluation import run_agent_eval
from nesykg.agents.executor import AgentConfig
from nesykg.agents.questions import load_kb, load_questions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--questions", required=True)
    ap.add_argument("--kb", required=True)
    ap.add_argument("--format", choices=["pathquestion", "metaqa"], default=None)
    ap.add_argument("--exemplars", default=None, help="solved questions for the planner (default: 80/20 split)")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--drop", type=float, nargs="+", default=[0.0, 0.3], help="fractions of gold-path triples removed")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-confidence", type=float, default=0.8)
    ap.add_argument("--rules", action="append", default=None,
                    help="expert rules file (repeatable), besides the rules mined from the KB")
    ap.add_argument("--train", default="complex", help="link predictor trained at open time ('none': no model)")
    ap.add_argument("--dry-run", action="store_true", help="propose and validate, write nothing")
    ap.add_argument("--calibration", action="store_true", help="print proposed triples by confidence")
    ap.add_argument("--failures", action="store_true", help="print the first 20 missed questions per setting")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--ceiling", nargs="*", default=None, metavar="MODEL",
                    help="measure the evidence ceiling with these extra predictors (default: distmult rotate transe nbfnet)")
    ap.add_argument("--learn", action="store_true", help="measure validation Hits@1 before and after learning")
    ap.add_argument("--seed-share", type=float, default=0.1, help="with --learn: training share given as exemplars")
    ap.add_argument("--passes", type=int, default=1, help="with --learn: passes over the training questions")
    args = ap.parse_args(argv)
    if args.learn:
        return _learn(args)
    qs = load_questions(args.questions, args.format)
    kb = load_kb(args.kb)
    ex = load_questions(args.exemplars, args.format) if args.exemplars else None
    rows = []
    extra = None if args.ceiling is None else (args.ceiling or ["distmult", "rotate", "transe", "nbfnet"])
    for drop in args.drop:
        t0 = time.perf_counter()
        cfg = AgentConfig(min_confidence=args.min_confidence, dry_run=args.dry_run)
        train = None if args.train.lower() == "none" else args.train
        rep = run_agent_eval(qs, kb, ex, args.limit, drop, args.seed, config=cfg,
                             workspace_options={"train": train, "rules": args.rules},
                             ceiling=extra if drop else None)
        rows.append({"drop": drop, **rep.as_dict(), "wall_seconds": time.perf_counter() - t0})
    if args.json:
        json.dump([{k: v for k, v in r.items() if k != "scored_ids"} for r in rows], sys.stdout, indent=2)
        print()
        return 0
    print(f"expert rules: {', '.join(args.rules) if args.rules else 'none'}")
    print(f"link predictor trained at open time: {args.train}; write threshold {args.min_confidence}"
          f"{' (dry run)' if args.dry_run else ''}")
    print(f"questions: {args.questions} ({rows[0]['questions']} scored, {rows[0]['exemplars']} exemplars, seed {args.seed})")
    print("| KG | dropped triples | Hits@1 | F1 | written | write-back precision | true facts | mean steps | p50 s | p95 s | setup s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        prec = "n/a" if r["writeback_precision"] is None else f"{r['writeback_precision']:.3f} ({r['written_true']}/{r['written']})"
        truth = "n/a" if r["writeback_truth"] is None else (
            f"{r['writeback_truth']:.3f} ({r['written_true']} removed + {r['written_entailed']} entailed)")
        kg = "full" if not r["drop"] else f"{r['drop']:.0%} of gold-path triples removed"
        print(f"| {kg} | {r['dropped']} | {r['hits_at_1']:.3f} | {r['f1']:.3f} | {r['written']} | {prec} | {truth} | "
              f"{r['mean_steps']:.2f} | {r['p50_seconds']:.4f} | {r['p95_seconds']:.4f} | {r['setup_seconds']:.1f} |")
    if any(r["certain_heldout_share"] is not None for r in rows):
        print("\n| KG | facts the certain expert rules add | of them removed facts | share |")
        print("|---|---|---|---|")
        for r in rows:
            if r["certain_heldout_share"] is not None:
                kg = "full" if not r["drop"] else f"{r['drop']:.0%} removed"
                n = r["certain_added"]
                print(f"| {kg} | {n} | {round(n * r['certain_heldout_share'])} | {r['certain_heldout_share']:.3f} |")
    if any(r["ceiling"] for r in rows):
        _ceiling(rows)
    if args.calibration:
        _calibration(rows)
    if args.failures:
        for r in rows:
            kg = "full" if not r["drop"] else f"{r['drop']:.0%} removed"
            print(f"\nmissed ({kg}, first 20):")
            for f in r["failures"]:
                print(f"  {f['id']}: {f['question']}  gold {'/'.join(f['gold'])}  answered {', '.join(f['answers']) or '-'}")
    return 0


def _ceiling(rows: list[dict]) -> None:
    """The evidence ceiling per setting (`nesykg.agents.ceiling`)."""
    print("\n| KG | agent Hits@1 | ceiling (first choice) | ceiling (top 3) | rank-fusion ensemble, told the path | "
          "gold path holds | topic lost | only via predictors | via plans | predictors | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        c = r["ceiling"]
        if not c:
            continue
        n = c["questions"]
        print(f"| {r['drop']:.0%} removed | {r['hits_at_1']:.3f} | **{c['ceiling']:.3f}** | {c['ceiling_top3']:.3f} | "
              f"{c['ensemble']:.3f} | "
              f"{c['intact']}/{n} | {c['topic_lost']} | {c['by_predictors']} | {c['by_plans']} | "
              f"{', '.join(c['predictors'])} | {c['seconds']:.0f} |")


def _calibration(rows: list[dict]) -> None:
    """Distinct proposed triples at each confidence threshold, and how many are removed facts."""
    print("\n| KG | confidence >= | proposed | removed facts | precision | by method |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        kg = "full" if not r["drop"] else f"{r['drop']:.0%} removed"
        best: dict[tuple, dict] = {}
        for w in r["writes"]:
            t = tuple(w["triple"])
            if t not in best or best[t]["confidence"] < w["confidence"]:
                best[t] = w
        for th in (0.9, 0.8, 0.6, 0.5, 0.3, 0.1):
            sel = [w for w in best.values() if w["confidence"] >= th]
            ok = sum(w["correct"] for w in sel)
            methods: dict[str, list[int]] = {}
            for w in sel:
                methods.setdefault(w["method"], [0, 0])
                methods[w["method"]][0] += 1
                methods[w["method"]][1] += w["correct"]
            by = ", ".join(f"{m} {c}/{n}" for m, (n, c) in sorted(methods.items()))
            print(f"| {kg} | {th} | {len(sel)} | {ok} | {ok / len(sel):.3f} | {by} |" if sel else f"| {kg} | {th} | 0 | 0 | n/a | |")


def _learn(args: argparse.Namespace) -> int:
    from nesykg.agents.learning import run_learning_eval
    from nesykg.agents.memory import Memory

    qs = load_questions(args.questions, args.format)
    kb = load_kb(args.kb)
    rows = []
    for drop in args.drop:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as d, Memory(Path(d) / "agent.db") as mem:
            rep = run_learning_eval(qs, kb, mem, seed_share=args.seed_share, limit=args.limit, drop=drop, seed=args.seed,
                                    passes=args.passes, config=AgentConfig(min_confidence=args.min_confidence))
        rows.append({"drop": drop, **rep.as_dict(), "wall_seconds": time.perf_counter() - t0})
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    r0 = rows[0]
    print(f"questions: {args.questions} ({r0['before']['questions']} validation, seed share {args.seed_share}, "
          f"{args.passes} pass(es), seed {args.seed})")
    print("| KG | dropped | seed exemplars | training questions | train Hits@1 (last pass) | learned exemplars | "
          "plan weights | Hits@1 before | Hits@1 after | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        kg = "full" if not r["drop"] else f"{r['drop']:.0%} of gold-path triples removed"
        last = r["passes"][-1]
        print(f"| {kg} | {r['dropped']} | {r['seed_exemplars']} | {r['training']} | {last['train_hits_at_1']:.3f} | "
              f"{r['exemplars_learned']} | {r['weights']} | {r['before']['hits_at_1']:.3f} | {r['after']['hits_at_1']:.3f} | "
              f"{r['wall_seconds']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
