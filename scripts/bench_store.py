#!/usr/bin/env python
"""Graph-store benchmark: nesykg's embedded store against a plain ``rdflib.Graph()``.

Generates a graph shaped like FB15k-237 (15k entities, 237 relations, 300k triples,
skewed degrees, seeded), then, each system in its own fresh process so that memory is
measured cleanly:

* load throughput from a TSV file (what users load) and from N-Triples; rdflib loads TSV
  twice: with interned terms (one ``URIRef`` per distinct name, kind to rdflib) and as
  plain code writes it (``rdflib-plain``, a new ``URIRef`` per field), and N-Triples with
  its own parser;
* memory: resident set size added by the loaded graph, right after the load and again
  after the query workload (the on-disk store keeps its data in files: their size is
  printed too, since the OS page cache holds them while they are hot);
* 1-hop lookup ``(s, p, ?)`` and 2-hop relation path ``(s, r1, ?y), (?y, r2, ?z)``
  latency over the API, and the same 2-hop path as a SPARQL query. Query points are
  sampled from the data (a 2-hop path is a real path of the graph).

Prints one table and the ratios; ``--json FILE`` saves the numbers.

    python scripts/bench_store.py [--triples 300000] [--entities 15000] [--relations 237]
"""

from __future__ import annotations

import argparse
import gc
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

NS = "urn:nesykg:ds:fb-like:"


def generate(path: Path, n_triples: int, n_entities: int, n_relations: int, seed: int) -> None:
    """Zipf-like entity and relation frequencies, as in FB15k-237; distinct triples."""
    rng = random.Random(seed)
    ent_w = [1.0 / (i + 1) ** 0.8 for i in range(n_entities)]
    rel_w = [1.0 / (i + 1) ** 1.1 for i in range(n_relations)]
    ents = [f"/m/{i:06x}" for i in range(n_entities)]
    rels = [f"/rel/r{i:03d}" for i in range(n_relations)]
    seen: set[tuple[int, int, int]] = set()
    while len(seen) < n_triples:
        k = n_triples - len(seen)
        hs = rng.choices(range(n_entities), ent_w, k=k)
        rs = rng.choices(range(n_relations), rel_w, k=k)
        ts = rng.choices(range(n_entities), ent_w, k=k)
        seen.update(zip(hs, rs, ts))
    triples = sorted(seen)[:n_triples]
    rng.shuffle(triples)
    with open(path, "w", encoding="utf-8") as f:
        for h, r, t in triples:
            f.write(f"{ents[h]}\t{rels[r]}\t{ents[t]}\n")


def to_ntriples(tsv: Path, nt: Path) -> None:
    from nesykg.kg.terms import mint

    with open(tsv, encoding="utf-8") as src, open(nt, "w", encoding="utf-8") as dst:
        for line in src:
            h, r, t = line.rstrip("\n").split("\t")
            dst.write(f"<{mint(NS, h)}> <{mint(NS, r)}> <{mint(NS, t)}> .\n")


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def rss() -> int:
    import psutil

    gc.collect()
    return psutil.Process().memory_info().rss


def timeit_us(fn, items) -> tuple[float, float]:
    times = []
    for it in items:
        t0 = time.perf_counter_ns()
        fn(it)
        times.append((time.perf_counter_ns() - t0) / 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)]


# ------------------------------------------------------------------ workers
def worker(system: str, tsv: str, nt: str, seed: int, fmt: str, out: str, store_path: str | None = None) -> None:
    from nesykg.kg.terms import mint

    rng = random.Random(seed + 1)
    lines = [ln.split("\t") for ln in Path(tsv).read_text(encoding="utf-8").splitlines()]
    sample = [lines[rng.randrange(len(lines))] for _ in range(2000)]
    sp_pairs = [(mint(NS, h), mint(NS, r)) for h, r, _ in sample]
    by_head: dict[str, list[str]] = {}
    for h, r, _ in lines:
        by_head.setdefault(h, []).append(r)
    paths = []  # (s, r1, r2) such that s -r1-> y -r2-> z exists
    while len(paths) < 300:
        h, r1, y = lines[rng.randrange(len(lines))]
        if y in by_head:
            paths.append((mint(NS, h), mint(NS, r1), mint(NS, rng.choice(by_head[y]))))
    del lines, by_head
    res: dict[str, object] = {"system": system, "format": fmt}

    if system.startswith("nesykg"):
        from nesykg.kg import open_store
        from nesykg.kg.io import import_file

        import pyoxigraph  # noqa: F401  (loaded before the baseline)

        if system == "nesykg-reopened":
            # a store loaded by an earlier process, opened to serve queries
            base = rss()
            store = open_store(Path(store_path))
            res["load_s"] = float("nan")
        else:
            tmp = tempfile.mkdtemp(prefix="bench-store-") if system == "nesykg-disk" else None
            store = open_store(Path(tmp) / "db" if tmp else None)
            res["path"] = str(Path(tmp) / "db") if tmp else None
            base = rss()
            t0 = time.perf_counter()
            import_file(store, tsv if fmt == "tsv" else nt, namespace=NS)
            res["load_s"] = time.perf_counter() - t0
            res["rss_mb"] = (rss() - base) / 2**20
        res["triples"] = len(store)
        res["disk_mb"] = dir_mb(Path(res.get("path") or store_path)) if system != "nesykg" else float("nan")
        one = lambda sp: list(store.triples((sp[0], sp[1], None), graphs="domain"))  # noqa: E731
        one_union = lambda sp: list(store.triples((sp[0], sp[1], None)))  # noqa: E731

        def two(path):
            s, r1, r2 = path
            return [t2 for t in store.triples((s, r1, None), graphs="domain")
                    for t2 in store.triples((t.object, r2, None), graphs="domain")]

        def two_sparql(path):
            s, r1, r2 = path
            return store.sparql(f"SELECT ?z WHERE {{ <{s}> <{r1}> ?y . ?y <{r2}> ?z }}", graphs="domain")
    else:
        import rdflib
        from rdflib import URIRef

        g = rdflib.Graph()
        base = rss()
        t0 = time.perf_counter()
        if fmt == "tsv" and system == "rdflib-plain":
            # what plain rdflib code does: a new URIRef per field
            with open(tsv, encoding="utf-8") as f:
                for line in f:
                    h, r, t = line.rstrip("\n").split("\t")
                    g.add((URIRef(mint(NS, h)), URIRef(mint(NS, r)), URIRef(mint(NS, t))))
        elif fmt == "tsv":
            # interned terms: one URIRef per distinct name (kinder to rdflib than plain code)
            cache: dict[str, URIRef] = {}

            def uri(name: str) -> URIRef:
                u = cache.get(name)
                if u is None:
                    u = cache[name] = URIRef(mint(NS, name))
                return u

            with open(tsv, encoding="utf-8") as f:
                for line in f:
                    h, r, t = line.rstrip("\n").split("\t")
                    g.add((uri(h), uri(r), uri(t)))
            del cache
        else:
            g.parse(nt, format="nt")
        n = len(g)
        res["load_s"] = time.perf_counter() - t0
        res["rss_mb"] = (rss() - base) / 2**20
        res["triples"] = n
        res["disk_mb"] = float("nan")
        one = lambda sp: list(g.triples((URIRef(sp[0]), URIRef(sp[1]), None)))  # noqa: E731
        one_union = one

        def two(path):
            s, r1, r2 = (URIRef(x) for x in path)
            return [t2 for t in g.triples((s, r1, None)) for t2 in g.triples((t[2], r2, None))]

        def two_sparql(path):
            s, r1, r2 = path
            return list(g.query(f"SELECT ?z WHERE {{ <{s}> <{r1}> ?y . ?y <{r2}> ?z }}"))

    res["load_tps"] = res["triples"] / res["load_s"]
    one(sp_pairs[0])  # warm-up
    two(paths[0])
    two_sparql(paths[0])
    res["hop1_us"], res["hop1_p95_us"] = timeit_us(one, sp_pairs)
    res["hop1_union_us"], _ = timeit_us(one_union, sp_pairs[:500])
    res["hop2_us"], res["hop2_p95_us"] = timeit_us(two, paths)
    res["hop2_sparql_us"], _ = timeit_us(two_sparql, paths[:100])
    res["rss_after_queries_mb"] = (rss() - base) / 2**20
    if system == "nesykg-reopened":
        res["rss_mb"] = res["rss_after_queries_mb"]
    if system.startswith("nesykg"):
        store.close()  # on disk: flushed, so a reopening process replays no log
    Path(out).write_text(json.dumps(res))


def run_worker(system: str, tsv: Path, nt: Path, seed: int, fmt: str, store_path: Path | None = None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    extra = ["--store-path", str(store_path)] if store_path else []
    subprocess.run(
        [sys.executable, __file__, "--worker", system, "--tsv", str(tsv), "--nt", str(nt),
         "--seed", str(seed), "--format", fmt, "--out", out, *extra],
        check=True,
    )
    data = json.loads(Path(out).read_text())
    os.unlink(out)
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=int, default=300_000)
    ap.add_argument("--entities", type=int, default=15_000)
    ap.add_argument("--relations", type=int, default=237)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="save the results here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--tsv", help=argparse.SUPPRESS)
    ap.add_argument("--nt", help=argparse.SUPPRESS)
    ap.add_argument("--format", default="tsv", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--store-path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.tsv, args.nt, args.seed, args.format, args.out, args.store_path)
        return

    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        tsv, nt = Path(tmp) / "train.tsv", Path(tmp) / "train.nt"
        t0 = time.perf_counter()
        generate(tsv, args.triples, args.entities, args.relations, args.seed)
        to_ntriples(tsv, nt)
        print(f"generated {args.triples:,} triples, {args.entities:,} entities, {args.relations} relations "
              f"(seed {args.seed}) in {time.perf_counter() - t0:.1f}s", flush=True)
        rows = []
        for fmt in ("tsv", "nt"):
            for system in ("nesykg", "nesykg-disk", "rdflib") + (("rdflib-plain",) if fmt == "tsv" else ()):
                print(f"  running {system} ({fmt}) ...", flush=True)
                rows.append(run_worker(system, tsv, nt, args.seed, fmt))
                if system == "nesykg-disk":
                    path = Path(rows[-1].pop("path"))
                    print(f"  running nesykg-reopened ({fmt}) ...", flush=True)
                    rows.append(run_worker("nesykg-reopened", tsv, nt, args.seed, fmt, path))
                    shutil.rmtree(path.parent, ignore_errors=True)

    hdr = f"{'system':<15} {'input':<5} {'triples':>8} {'load s':>7} {'triples/s':>10} {'RSS MB':>7} " \
          f"{'RSS q MB':>8} {'disk MB':>7} {'1-hop µs':>9} {'p95':>6} {'1-hop∪':>7} {'2-hop µs':>9} " \
          f"{'2-hop SPARQL µs':>16}"
    print()
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(f"{r['system']:<15} {r['format']:<5} {r['triples']:>8,} {r['load_s']:>7.2f} {r['load_tps']:>10,.0f} "
              f"{r['rss_mb']:>7.0f} {r['rss_after_queries_mb']:>8.0f} {r['disk_mb']:>7.0f} {r['hop1_us']:>9.1f} "
              f"{r['hop1_p95_us']:>6.0f} {r['hop1_union_us']:>7.1f} {r['hop2_us']:>9.0f} {r['hop2_sparql_us']:>16.0f}")
    print()
    print("RSS MB: added by the loaded graph; RSS q MB: after the query workload; disk MB: store files.")
    by = {(r["system"], r["format"]): r for r in rows}
    peers = [
        (("rdflib", "nt"), "rdflib, its own N-Triples parser"),
        (("rdflib-plain", "tsv"), "rdflib, TSV as plain code loads it"),
        (("rdflib", "tsv"), "rdflib, TSV with interned URIRefs"),
    ]
    print()
    print(f"{'nesykg store':<22} {'vs':<36} {'load':>8} {'memory':>8} {'memory q':>9} {'2-hop SPARQL':>13}")
    for mine in ("nesykg", "nesykg-disk"):
        for key, label in peers:
            a, b = by[(mine, key[1])], by[key]
            where = ("in memory" if mine == "nesykg" else "on disk") + f" ({key[1]})"
            print(f"{where:<22} {label:<36} {b['load_s'] / a['load_s']:>7.1f}x "
                  f"{b['rss_mb'] / max(a['rss_mb'], 1.0):>7.1f}x "
                  f"{b['rss_after_queries_mb'] / max(a['rss_after_queries_mb'], 1.0):>8.1f}x "
                  f"{b['hop2_sparql_us'] / a['hop2_sparql_us']:>12.0f}x")
    print("targets: load >= 4x faster, memory >= 3x lower; ratios are rdflib / nesykg (memory floored at 1 MB)")
    for mine in ("nesykg", "nesykg-disk"):
        print(f"1-hop lookup ({mine}, tsv): median {by[(mine, 'tsv')]['hop1_us']:.1f} µs (target < 50 µs)")
    a = by[("nesykg-reopened", "tsv")]
    print(f"on-disk store reopened by a new process to serve queries: {a['rss_mb']:.0f} MB resident after the "
          f"query workload")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
