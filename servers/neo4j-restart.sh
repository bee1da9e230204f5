#!/usr/bin/env bash
# Restart only Neo4j (same port, data dir and password) for a STATE_DIR set up by start.sh.
# A still-running instance is stopped first (TERM, then KILL); one killed with -9 is just
# started again. Blocks until Bolt is ready again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

[[ -n "${1:-}" && -f "$1/env" ]] || die "usage: $0 STATE_DIR (with STATE_DIR/env from start.sh)"
STATE="$(cd "$1" && pwd)"
port="$(sed -n 's/^NESYKG_NEO4J_PORT=//p' "$STATE/env")"
data="$(sed -n 's/^NESYKG_NEO4J_DATA=//p' "$STATE/env")"
password="$(sed -n 's/^NESYKG_NEO4J_PASSWORD=//p' "$STATE/env")"
[[ -n "$port" && -n "$data" && -n "$password" ]] || die "incomplete $STATE/env"
# the heap, page cache, JVM options and config file start.sh used (older state dirs: defaults)
# shellcheck disable=SC1091
[[ -f "$STATE/neo4j-sizing" ]] && source "$STATE/neo4j-sizing"

stop_pidfile neo4j "$STATE/neo4j.pid" "$NEO4J_MAIN_MARKER"
start_neo4j "$STATE" "$port" "$data" "$password"
