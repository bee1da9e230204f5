#!/usr/bin/env python
"""Load one graph into Neo4j, a SPARQL endpoint (Oxigraph server) and the embedded store;
print load throughput and 1-hop / 2-hop latency for each.

    python scripts/bench_backends.py --data bench-data/codex-m-synth

`--data DIR` is a folder of TSV triple files (``head<TAB>relation<TAB>tail``; every
``*.tsv``/``*.txt`` in it is loaded). When it has none, a CoDEx-M-sized graph (17,050
entities, 51 relations, 185,584 triples, skewed degrees) is generated into
``DIR/train.tsv`` with ``--seed``.

Servers: the ones named by ``NESYKG_NEO4J_URI`` / ``NESYKG_SPARQL_QUERY`` (as ``make test``
or ``servers/start.sh`` export them), else the script starts both with ``servers/start.sh``
in a temporary folder and stops them at the end. nesykg's data on a server given in the
environment is only cleared with ``--clear``; otherwise it must hold none. A Neo4j it starts
is sized for a bulk load, unlike the light test server: 3g heap, 1g page cache and the
throughput (parallel) garbage collector, unless ``NESYKG_NEO4J_HEAP`` /
``NESYKG_NEO4J_PAGECACHE`` / ``NESYKG_NEO4J_JAVA_OPTS`` say otherwise (servers/README.md).

Each backend loads the graph ``--loads`` times (5), emptied in between: the first load is
cold (for Neo4j a freshly started JVM that compiles its code paths as it goes); the later
ones are warm, as in a long-running server: their median and best are printed.
Latencies are measured after the last load.

Each load is ``store.add_many`` over change sets of ``--batch`` triples (50,000), each one
transaction (Neo4j: one managed write transaction of batched UNWIND statements;
SPARQL: one update request; embedded: one bulk ``extend``), as a load larger than a
server's transaction memory must be (the test Neo4j's 768 MB heap holds about 200k triples).
1-hop: ``store.triples((e, None, None), graphs="domain")`` for sampled entities through the
store API, and the same naming no graph ("1-hop all", the default for callers); 20
untimed lookups of each kind come first. 2-hop: each backend's native query for the
distinct entities two hops out (Cypher on Neo4j, SPARQL elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CODEX_M = {"entities": 17_050, "relations": 51, "triples": 185_584}


def generate(path: Path, seed: int) -> None:
    """A CoDEx-M-sized random graph with a skewed (Zipf-like) degree distribution."""
    rng = random.Random(seed)
    n_e, n_r, n_t = CODEX_M["entities"], CODEX_M["relations"], CODEX_M["triples"]
    ent_w = [1.0 / (i + 1) ** 0.8 for i in range(n_e)]
    rel_w = [1.0 / (i + 1) for i in range(n_r)]
    out: set[tuple[int, int, int]] = set()
    while len(out) < n_t:
        k = n_t - len(out)
        hs = rng.choices(range(n_e), ent_w, k=k)
        ts = rng.choices(range(n_e), ent_w, k=k)
        rs = rng.choices(range(n_r), rel_w, k=k)
        out.update((h, r, t) for h, r, t in zip(hs, rs, ts) if h != t)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(out)[:n_t]
    path.write_text("".join(f"Q{h}\tP{r}\tQ{t}\n" for h, r, t in rows), encoding="utf-8")


def read_triples(folder: Path, seed: int) -> tuple[list[tuple[str, str, str]], str]:
    from nesykg.kg.terms import dataset_namespace, mint

    files = sorted(p for p in folder.glob("*") if p.suffix in (".tsv", ".txt") and p.is_file()) if folder.is_dir() else []
    if not files:
        print(f"[bench] no TSV files in {folder}: generating a CoDEx-M-sized graph (seed {seed})", file=sys.stderr)
        generate(folder / "train.tsv", seed)
        files = [folder / "train.tsv"]
    ns = dataset_namespace(folder.name)
    seen: dict[tuple[str, str, str], None] = {}
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) == 3:
                seen[(mint(ns, parts[0]), mint(ns, parts[1]), mint(ns, parts[2]))] = None
    return list(seen), ", ".join(str(f) for f in files)


BENCH_NEO4J = {
    "NESYKG_NEO4J_HEAP": "3g",
    "NESYKG_NEO4J_PAGECACHE": "1g",
    "NESYKG_NEO4J_JAVA_OPTS": "-XX:-UseG1GC -XX:+UseParallelGC",
}


def start_servers() -> tuple[dict[str, str], Path]:
    state = Path(tempfile.mkdtemp(prefix="nesykg-bench-servers-"))
    env = dict(os.environ)
    env.setdefault("OXIGRAPH_BIN", str(ROOT / ".venv" / "bin" / "oxigraph"))
    for k, v in BENCH_NEO4J.items():
        env.setdefault(k, v)
    sizing = ", ".join(f"{k.removeprefix('NESYKG_NEO4J_').lower()}={env[k]}" for k in BENCH_NEO4J)
    print(f"[bench] Neo4j sizing: {sizing}", file=sys.stderr)
    values: dict[str, str] = {"sizing": sizing}
    print(f"[bench] starting servers in {state}", file=sys.stderr)
    subprocess.run(["bash", str(ROOT / "servers" / "start.sh"), str(state)], check=True, env=env)
    for line in (state / "env").read_text().splitlines():
        k, sep, v = line.partition("=")
        if sep:
            values[k] = v
    os.environ.update({k: v for k, v in values.items() if k != "sizing"})
    return values, state


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def load(store, triples, batch: int) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(triples), batch):
        store.add_many(triples[i : i + batch])
    return time.perf_counter() - t0


# The peer for Neo4j writes: the batched write people hand-write (and LangChain-style
# loaders generate): one dict per row, UNWIND, MERGE both nodes and the relationship.
# Same server, same data, same change sets, same property-graph mapping as nesykg's.
PEER_MERGE = (
    "UNWIND $rows AS row "
    "MERGE (s:Resource {iri: row.s}) MERGE (o:Resource {iri: row.o}) "
    "MERGE (s)-[:REL {predicate: row.p, graph: 'domain'}]->(o)"
)


def peer_load(driver, triples, batch: int) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(triples), batch):
        rows = [{"s": s, "p": p, "o": o} for s, p, o in triples[i : i + batch]]
        with driver.session() as session:
            session.execute_write(lambda tx, rows=rows: tx.run(PEER_MERGE, rows=rows).consume())
    return time.perf_counter() - t0


def bench_peer(store, triples, batch: int, loads: int) -> list[float]:
    """Load times of `PEER_MERGE` into the (emptied) Neo4j store's database."""
    times = []
    for k in range(max(1, loads)):
        store.clear()
        print(f"[bench] neo4j peer (UNWIND/MERGE rows): load {k + 1} ...", file=sys.stderr)
        times.append(peer_load(store.driver, triples, batch))
        print(f"[bench] neo4j peer: load {k + 1}: {len(triples) / times[-1]:,.0f} triples/s", file=sys.stderr)
        with store.driver.session() as session:
            n = session.run("MATCH ()-[r:REL]->() RETURN count(r) AS n").single()["n"]
        if n != len(triples):
            raise SystemExit(f"neo4j peer: {n} relationships after loading {len(triples)}")
    store.clear()
    return times


def bench_one(name: str, store, triples, sample1, sample2, two_hop, load_s: list[float]) -> dict:
    n = store.count(graphs="domain")
    if n != len(triples):
        raise SystemExit(f"{name}: {n} triples in the store after loading {len(triples)}")
    for e in sample1[:20]:  # warm-up, not timed: a server's first reads compile their code paths
        list(store.triples((e, None, None), graphs="domain"))
        list(store.triples((e, None, None)))
        two_hop(e)
    one = []
    for e in sample1:
        t = time.perf_counter()
        list(store.triples((e, None, None), graphs="domain"))
        one.append((time.perf_counter() - t) * 1000)
    one_all = []  # naming no graph, as most callers do: the union of every user graph
    for e in sample1:
        t = time.perf_counter()
        list(store.triples((e, None, None)))
        one_all.append((time.perf_counter() - t) * 1000)
    two = []
    sizes = []
    for e in sample2:
        t = time.perf_counter()
        sizes.append(len(two_hop(e)))
        two.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    scanned = sum(1 for _ in store.triples(graphs="domain"))
    scan_s = time.perf_counter() - t
    assert scanned == n
    # the client's memory during a whole-graph read: Python allocations at their peak
    # (tracemalloc; a second, untimed scan, as tracing slows it down)
    import tracemalloc

    tracemalloc.start()
    sum(1 for _ in store.triples(graphs="domain"))
    scan_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {
        "backend": name,
        "triples": n,
        "load_s": load_s[0],
        "triples_per_s": n / load_s[0],
        "warm_load_s": statistics.median(load_s[1:]) if len(load_s) > 1 else None,
        "warm_triples_per_s": n / statistics.median(load_s[1:]) if len(load_s) > 1 else None,
        "best_warm_triples_per_s": n / min(load_s[1:]) if len(load_s) > 1 else None,
        "loads_s": load_s,
        "hop1_p50_ms": statistics.median(one),
        "hop1_p95_ms": pct(one, 0.95),
        "hop1_all_p50_ms": statistics.median(one_all),
        "hop2_p50_ms": statistics.median(two),
        "hop2_p95_ms": pct(two, 0.95),
        "hop2_mean_results": statistics.mean(sizes),
        "scan_s": scan_s,
        "scan_peak_mb": scan_mb,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="folder of TSV triples (generated when empty/missing)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--samples", type=int, default=200, help="entities sampled for 1-hop latency (2-hop: a quarter)")
    ap.add_argument("--backends", default="neo4j,sparql,embedded", help="comma-separated subset")
    ap.add_argument("--batch", type=int, default=50_000, help="triples per change set (= per transaction)")
    ap.add_argument("--loads", type=int, default=5, help="loads per backend: the first cold, the later ones warm")
    ap.add_argument("--clear", action="store_true", help="clear nesykg data on servers given in the environment")
    ap.add_argument("--no-peer", action="store_true", help="skip the hand-written UNWIND/MERGE peer on Neo4j")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results" / "backends.json")
    args = ap.parse_args()

    from nesykg.kg import open_store

    triples, source = read_triples(args.data, args.seed)
    entities = sorted({t[0] for t in triples})
    rng = random.Random(args.seed)
    sample1 = rng.sample(entities, min(args.samples, len(entities)))
    sample2 = sample1[: max(1, len(sample1) // 4)]
    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    print(f"[bench] {len(triples):,} triples, {len(entities):,} subjects from {source}", file=sys.stderr)

    started = None
    sizing = ""
    if ("neo4j" in wanted and not os.environ.get("NESYKG_NEO4J_URI")) or (
        "sparql" in wanted and not os.environ.get("NESYKG_SPARQL_QUERY")
    ):
        values, started = start_servers()
        sizing = values["sizing"]
    results = []
    scratch = Path(tempfile.mkdtemp(prefix="nesykg-bench-stores-"))  # embedded stores, removed at the end
    finished = False
    try:
        for name in wanted:
            if name == "neo4j":
                store = open_store(os.environ["NESYKG_NEO4J_URI"])
                driver = store.driver
                query = (
                    "MATCH (:Resource {iri: $e})-[r1:REL]->(y)-[r2:REL]->(x:Resource) "
                    "WHERE r1.graph = 'domain' AND r2.graph = 'domain' RETURN DISTINCT x.iri AS x"
                )

                def two_hop(e, driver=driver, query=query):
                    with driver.session() as s:
                        return s.execute_read(lambda tx: [r["x"] for r in tx.run(query, e=e)])

            elif name == "sparql":
                store = open_store(os.environ["NESYKG_SPARQL_QUERY"], update_url=os.environ.get("NESYKG_SPARQL_UPDATE"))
            elif name == "embedded":
                store = open_store(Path(tempfile.mkdtemp(dir=scratch)) / "store")
            else:
                raise SystemExit(f"unknown backend {name!r}: use neo4j, sparql, embedded")
            if name != "embedded" and len(store):
                if not (args.clear or started):
                    raise SystemExit(f"the {name} store at {store.location} holds nesykg data; pass --clear to wipe it")
            if name != "embedded" and (args.clear or started):
                store.clear()
            times = []
            for k in range(max(1, args.loads)):
                if k and name == "embedded":  # a new, empty store
                    store.close()
                    store = open_store(Path(tempfile.mkdtemp(dir=scratch)) / "store")
                elif k:
                    store.clear()
                print(f"[bench] {name}: load {k + 1} ...", file=sys.stderr)
                times.append(load(store, triples, args.batch))
                print(f"[bench] {name}: load {k + 1}: {len(triples) / times[-1]:,.0f} triples/s", file=sys.stderr)
            if name in ("sparql", "embedded"):  # on the store the last load went into

                def two_hop(e, store=store):
                    rows = store.sparql(f"SELECT DISTINCT ?x WHERE {{ <{e}> ?p ?y . ?y ?q ?x FILTER(isIRI(?x)) }}", graphs="domain")
                    return [r["x"] for r in rows]

            results.append(bench_one(name, store, triples, sample1, sample2, two_hop, times))
            if name != "embedded" and (args.clear or started):
                store.clear()
            if name == "neo4j" and not args.no_peer and (args.clear or started):
                results[-1]["peer_loads_s"] = bench_peer(store, triples, args.batch, args.loads)
            store.close()
        finished = True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if started is not None:
            subprocess.run(["bash", str(ROOT / "servers" / "stop.sh"), str(started)], check=False)
            if finished:  # the servers' data (1-2 GB); on failure their logs stay for a look
                shutil.rmtree(started, ignore_errors=True)
            else:
                print(f"[bench] server logs kept in {started}", file=sys.stderr)

    header = (
        f"{'backend':<10} {'triples':>8} {'load s':>7} {'triples/s':>10} {'warm s':>7} {'warm t/s':>9} {'best t/s':>9} "
        f"{'1-hop p50':>10} {'1-hop p95':>10} {'1-hop all':>10} {'2-hop p50':>10} {'2-hop p95':>10} {'scan s':>7} {'scan MB':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        warm = (
            f"{r['warm_load_s']:>7.1f} {r['warm_triples_per_s']:>9,.0f} {r['best_warm_triples_per_s']:>9,.0f}"
            if r["warm_load_s"] is not None
            else f"{'-':>7} {'-':>9} {'-':>9}"
        )
        print(
            f"{r['backend']:<10} {r['triples']:>8,} {r['load_s']:>7.1f} {r['triples_per_s']:>10,.0f} {warm} "
            f"{r['hop1_p50_ms']:>8.2f}ms {r['hop1_p95_ms']:>8.2f}ms {r['hop1_all_p50_ms']:>8.2f}ms {r['hop2_p50_ms']:>8.2f}ms {r['hop2_p95_ms']:>8.2f}ms {r['scan_s']:>7.1f} {r['scan_peak_mb']:>8.1f}"
        )
    print(f"(change sets of {args.batch:,} triples; load: the first load (cold); warm: the median of the {max(1, args.loads) - 1} "
          "later one(s) into the emptied store, best: the fastest of them; 1-hop: store.triples((e, None, None), graphs='domain') over "
          f"{len(sample1)} entities (1-hop all: the p50 naming no graph); 2-hop: native query over {len(sample2)}; scan: reading every triple back through the store API; scan MB: the peak of Python allocations during a second scan, tracemalloc)")
    if started is not None:
        print(f"(servers started by the bench; Neo4j {sizing})")
    for r in results:
        if r.get("peer_loads_s"):
            peer = r["peer_loads_s"]
            n = r["triples"]
            warm = statistics.median(peer[1:]) if len(peer) > 1 else peer[0]
            print()
            print("Neo4j writers, same server and data (triples/s)   first load   warm median   best warm")
            print(f"{'nesykg (lock + Expand(Into) check, columnar)':<48} {n / r['load_s']:>11,.0f} "
                  f"{r['warm_triples_per_s'] or float('nan'):>13,.0f} {r['best_warm_triples_per_s'] or float('nan'):>11,.0f}")
            print(f"{'peer: UNWIND $rows MERGE nodes + relationship':<48} {n / peer[0]:>11,.0f} {n / warm:>13,.0f} "
                  f"{n / min(peer[1:] or peer):>11,.0f}")
            if r["warm_triples_per_s"]:
                print(f"nesykg / peer, warm median: {r['warm_triples_per_s'] / (n / warm):.1f}x "
                      "(the peer runs second, on a JVM nesykg's loads already warmed)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"source": source, "neo4j_sizing": sizing or None, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
