"""End-to-end smoke test of the servers started by servers/start.sh.

Usage: python servers/smoke_test.py STATE_DIR   (needs the `neo4j` driver installed)
Checks: Bolt login + write/read, AuthError on a wrong password, SPARQL update/select,
kill -9 of Neo4j + restart via NESYKG_NEO4J_RESTART keeps committed data.
"""
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import neo4j
from neo4j import GraphDatabase


def load_env(state):
    env = {}
    with open(os.path.join(state, "env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k:
                env[k] = v
    return env


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return -1


def sparql(env, update=None, query=None):
    if update is not None:
        req = urllib.request.Request(
            env["NESYKG_SPARQL_UPDATE"], data=update.encode(),
            headers={"Content-Type": "application/sparql-update"}, method="POST")
    else:
        req = urllib.request.Request(
            env["NESYKG_SPARQL_QUERY"] + "?" + urllib.parse.urlencode({"query": query}),
            headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read().decode()


def main(state):
    env = load_env(state)
    uri, user, pw = env["NESYKG_NEO4J_URI"], env["NESYKG_NEO4J_USER"], env["NESYKG_NEO4J_PASSWORD"]

    with GraphDatabase.driver(uri, auth=(user, pw)) as d:
        recs, _, _ = d.execute_query("CREATE (n:X {a:1}) RETURN n")
        assert recs[0]["n"]["a"] == 1
        recs, _, _ = d.execute_query("MATCH (n:X) RETURN n.a AS a")
        assert [r["a"] for r in recs] == [1], recs
    print("neo4j: write/read ok")

    for _ in range(4):  # several attempts: the user must never get locked out
        try:
            with GraphDatabase.driver(uri, auth=(user, pw + "x")) as d:
                d.verify_connectivity()
            raise SystemExit("FAIL: wrong password accepted")
        except neo4j.exceptions.AuthError:
            pass
    with GraphDatabase.driver(uri, auth=(user, pw)) as d:
        d.verify_connectivity()
    print("neo4j: wrong password -> AuthError ok (no lock-out)")

    st, _ = sparql(env, update="INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert st in (200, 204), st
    st, body = sparql(env, query="SELECT ?o WHERE { <urn:a> <urn:b> ?o }")
    assert st == 200 and "urn:c" in body, body
    print("oxigraph: update/select ok")

    pid = int(open(env["NESYKG_NEO4J_PIDFILE"]).read())
    print(f"neo4j JVM RSS: {rss_mb(pid)} MiB (pid {pid})")
    os.kill(pid, signal.SIGKILL)
    t0 = time.time()
    subprocess.run([env["NESYKG_NEO4J_RESTART"]], check=True)
    print(f"neo4j: restarted after kill -9 in {time.time() - t0:.1f}s")
    with GraphDatabase.driver(uri, auth=(user, pw)) as d:
        recs, _, _ = d.execute_query("MATCH (n:X) RETURN n.a AS a")
        assert [r["a"] for r in recs] == [1], recs
    pid = int(open(env["NESYKG_NEO4J_PIDFILE"]).read())
    print(f"neo4j: data persisted across kill -9 ok; RSS now {rss_mb(pid)} MiB")
    print("SMOKE TEST PASSED")


if __name__ == "__main__":
    main(sys.argv[1])
