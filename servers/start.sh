#!/usr/bin/env bash
# Start the test servers (embedded Neo4j 5.26 + Oxigraph SPARQL) on free loopback ports.
# Usage: servers/start.sh STATE_DIR      -> writes STATE_DIR/env (see servers/README.md)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

STATE="$(abs_state_dir "${1:-}")"
OXIGRAPH_BIN="${OXIGRAPH_BIN:-oxigraph}"
command -v "$OXIGRAPH_BIN" >/dev/null || die "oxigraph not found ('$OXIGRAPH_BIN'); pip install oxigraph or set OXIGRAPH_BIN"

# A previous run in the same STATE_DIR is stopped and its data discarded.
"$SERVERS_DIR/stop.sh" "$STATE" >/dev/null 2>&1 || true
rm -rf "$STATE/neo4j-data" "$STATE/oxigraph" "$STATE/env" "$STATE/env.sh" "$STATE/neo4j-sizing"
rm -f "$STATE/neo4j.log" "$STATE/oxigraph.log"

build_neo4j_if_needed "$STATE"

mapfile -t PORTS < <(free_ports 2)
NEO4J_PORT="${NESYKG_NEO4J_PORT:-${PORTS[0]}}"
SPARQL_PORT="${NESYKG_SPARQL_PORT:-${PORTS[1]}}"
PASSWORD="${NESYKG_NEO4J_PASSWORD:-$(python3 -c 'import secrets; print(secrets.token_hex(16))')}"
[[ "$PASSWORD" =~ ^[A-Za-z0-9_.+@:-]+$ ]] || die "NESYKG_NEO4J_PASSWORD may only contain [A-Za-z0-9_.+@:-]"

# Restart helper as a single token (no spaces) so STATE_DIR/env needs no quoting.
cat >"$STATE/neo4j-restart" <<R
#!/usr/bin/env bash
exec "$SERVERS_DIR/neo4j-restart.sh" "$STATE" "\$@"
R
chmod +x "$STATE/neo4j-restart"

cat >"$STATE/env" <<ENV
NESYKG_NEO4J_URI=bolt://127.0.0.1:$NEO4J_PORT
NESYKG_NEO4J_USER=neo4j
NESYKG_NEO4J_PASSWORD=$PASSWORD
NESYKG_SPARQL_QUERY=http://127.0.0.1:$SPARQL_PORT/query
NESYKG_SPARQL_UPDATE=http://127.0.0.1:$SPARQL_PORT/update
NESYKG_NEO4J_PIDFILE=$STATE/neo4j.pid
NESYKG_NEO4J_RESTART=$STATE/neo4j-restart
NESYKG_NEO4J_PORT=$NEO4J_PORT
NESYKG_NEO4J_DATA=$STATE/neo4j-data
NESYKG_SPARQL_PORT=$SPARQL_PORT
NESYKG_OXIGRAPH_PIDFILE=$STATE/oxigraph.pid
NESYKG_SERVERS_STATE=$STATE
ENV
sed 's/^/export /' "$STATE/env" >"$STATE/env.sh"
# Server sizing, so that neo4j-restart.sh brings Neo4j back exactly as it was started.
{
    printf 'NESYKG_NEO4J_HEAP=%q\n' "$NESYKG_NEO4J_HEAP"
    printf 'NESYKG_NEO4J_PAGECACHE=%q\n' "$NESYKG_NEO4J_PAGECACHE"
    printf 'NESYKG_NEO4J_JAVA_OPTS=%q\n' "${NESYKG_NEO4J_JAVA_OPTS:-}"
    printf 'NESYKG_NEO4J_CONF=%q\n' "${NESYKG_NEO4J_CONF:+$(cd "$(dirname "$NESYKG_NEO4J_CONF")" && pwd)/$(basename "$NESYKG_NEO4J_CONF")}"
} >"$STATE/neo4j-sizing"

on_fail() { "$SERVERS_DIR/stop.sh" "$STATE" >/dev/null 2>&1 || true; }
# Any failure (including die -> exit 1) or interrupt below stops whatever was started.
trap 'rc=$?; if ((rc != 0)); then on_fail; fi' EXIT
trap 'exit 130' INT TERM

# --- Oxigraph (quick: well under a second) ---
mkdir -p "$STATE/oxigraph"
OX_T0=$(date +%s.%N)
setsid bash -c 'echo $$ >"$0"; exec "$@"' "$STATE/oxigraph.pid" \
    "$OXIGRAPH_BIN" serve --location "$STATE/oxigraph" --bind "127.0.0.1:$SPARQL_PORT" \
    </dev/null >>"$STATE/oxigraph.log" 2>&1 &

# --- wait for Oxigraph ---
ok=0
for ((i = 0; i < NESYKG_SERVER_TIMEOUT * 5; i++)); do
    if http_ok "http://127.0.0.1:$SPARQL_PORT/query?query=ASK%7B%7D"; then ok=1; break; fi
    if ((i > 5)) && ! pid_alive "$STATE/oxigraph.pid" "$OXIGRAPH_MARKER"; then break; fi
    sleep 0.2
done
if ((!ok)); then
    tail -n 40 "$STATE/oxigraph.log" >&2 || true
    die "oxigraph did not answer on http://127.0.0.1:$SPARQL_PORT/query (log: $STATE/oxigraph.log)"
fi
log "oxigraph ready on http://127.0.0.1:$SPARQL_PORT (pid $(cat "$STATE/oxigraph.pid"), $(elapsed "$OX_T0")s to start)"
# --- Neo4j (blocks until READY) ---
start_neo4j "$STATE" "$NEO4J_PORT" "$STATE/neo4j-data" "$PASSWORD"

trap - EXIT INT TERM
log "env written to $STATE/env (use: set -a; . $STATE/env; set +a)"
