#!/usr/bin/env bash
# Stop the servers started by servers/start.sh STATE_DIR. Safe to call repeatedly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

[[ -n "${1:-}" ]] || die "usage: $0 STATE_DIR"
[[ -d "$1" ]] || exit 0
STATE="$(cd "$1" && pwd)"
stop_pidfile neo4j "$STATE/neo4j.pid" "$NEO4J_MAIN_MARKER"
stop_pidfile oxigraph "$STATE/oxigraph.pid" "$OXIGRAPH_MARKER"
