# shellcheck shell=bash
# Shared helpers for servers/start.sh, stop.sh and neo4j-restart.sh. Source it; don't run it.

SERVERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NEO4J_PROJECT="$SERVERS_DIR/neo4j"
NEO4J_JAR="$NEO4J_PROJECT/target/launcher.jar"
NEO4J_MAIN_MARKER="launcher.jar"          # must appear in /proc/PID/cmdline of our JVM
OXIGRAPH_MARKER="serve"                   # must appear in /proc/PID/cmdline of oxigraph

: "${NESYKG_SERVER_TIMEOUT:=180}"         # seconds to wait for a server to come up
: "${NESYKG_STOP_TIMEOUT:=30}"            # seconds between TERM and KILL
: "${NESYKG_NEO4J_HEAP:=768m}"
: "${NESYKG_NEO4J_PAGECACHE:=128m}"

log() { printf '[servers] %s\n' "$*" >&2; }
die() { printf '[servers] ERROR: %s\n' "$*" >&2; exit 1; }

# abs_state_dir DIR -> absolute path (created), refusing characters that would break
# the unquoted KEY=value lines of STATE_DIR/env.
abs_state_dir() {
    local d="$1"
    [[ -n "$d" ]] || die "usage: $0 STATE_DIR"
    mkdir -p "$d"
    d="$(cd "$d" && pwd)"
    [[ "$d" =~ ^[A-Za-z0-9_./+@:-]+$ ]] || die "STATE_DIR path must not contain spaces/quotes/special chars: $d"
    printf '%s\n' "$d"
}

java_bin() {
    if [[ -n "${JAVA:-}" ]]; then printf '%s\n' "$JAVA"
    elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then printf '%s\n' "$JAVA_HOME/bin/java"
    else printf '%s\n' java
    fi
}

# pid_alive PIDFILE MARKER -> 0 if the pid in PIDFILE is running and its cmdline has MARKER
pid_alive() {
    local pidfile="$1" marker="$2" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$marker"
}

# stop_pidfile NAME PIDFILE MARKER : TERM, wait NESYKG_STOP_TIMEOUT, then KILL. Idempotent.
stop_pidfile() {
    local name="$1" pidfile="$2" marker="$3" pid i
    if ! pid_alive "$pidfile" "$marker"; then
        rm -f "$pidfile"
        return 0
    fi
    pid="$(cat "$pidfile")"
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < NESYKG_STOP_TIMEOUT * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name did not stop within ${NESYKG_STOP_TIMEOUT}s; sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
}

# Build the Neo4j launcher if target/launcher.jar or target/lib is missing or older than sources.
build_neo4j_if_needed() {
    local state="$1" need=0
    if [[ ! -f "$NEO4J_JAR" || ! -d "$NEO4J_PROJECT/target/lib" ]]; then
        need=1
    elif [[ -n "$(find "$NEO4J_PROJECT/pom.xml" "$NEO4J_PROJECT/src" -newer "$NEO4J_JAR" -type f -print -quit)" ]]; then
        need=1
    fi
    ((need)) || return 0
    local mvn="${MVN:-mvn}" t0=$SECONDS
    local args=(-q -B -Dstyle.color=never -f "$NEO4J_PROJECT/pom.xml")
    [[ -n "${NESYKG_MAVEN_REPO:-}" ]] && args+=("-Dmaven.repo.local=$NESYKG_MAVEN_REPO")
    command -v "$mvn" >/dev/null || die "maven ('$mvn') not found; needed to build $NEO4J_JAR"
    log "building Neo4j launcher ($mvn package) ..."
    if ! "$mvn" "${args[@]}" clean package >"$state/neo4j-build.log" 2>&1; then
        tail -n 40 "$state/neo4j-build.log" >&2
        die "Neo4j launcher build failed (full log: $state/neo4j-build.log)"
    fi
    log "built Neo4j launcher in $((SECONDS - t0))s"
}

# start_neo4j STATE_DIR PORT DATA_DIR PASSWORD : start in background, wait for READY.
start_neo4j() {
    local state="$1" port="$2" data="$3" password="$4"
    local logf="$state/neo4j.log" pidfile="$state/neo4j.pid" java off t0 i
    java="$(java_bin)"
    command -v "$java" >/dev/null || die "java not found (set JAVA or JAVA_HOME)"
    [[ -f "$NEO4J_JAR" ]] || die "missing $NEO4J_JAR (build failed?)"
    mkdir -p "$data"
    touch "$logf"
    off="$(stat -c %s "$logf")"
    # shellcheck disable=SC2206
    # Flags follow the Neo4j 5 distribution's defaults (add-opens for the page cache/netty).
    local jopts=(-Xms128m -Xmx"$NESYKG_NEO4J_HEAP" -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow
                 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
                 -Djdk.nio.maxCachedBufferSize=1024 -Dio.netty.tryReflectionSetAccessible=true
                 -Dlog4j2.disable.jmx=true
                 --add-opens=java.base/java.nio=ALL-UNNAMED
                 --add-opens=java.base/java.io=ALL-UNNAMED
                 --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
                 ${NESYKG_NEO4J_JAVA_OPTS:-})
    local extra=()
    if [[ -n "${NESYKG_NEO4J_CONF:-}" ]]; then
        [[ -f "$NESYKG_NEO4J_CONF" ]] || die "NESYKG_NEO4J_CONF: no such file: $NESYKG_NEO4J_CONF"
        extra=(--config "$NESYKG_NEO4J_CONF")
    fi
    t0=$(date +%s.%N)
    # bash -c writes its own pid, then execs java (same pid); setsid detaches it from
    # the caller's process group so Ctrl-C / make's job control do not hit it.
    NESYKG_NEO4J_PASSWORD="$password" setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" \
        "$java" "${jopts[@]}" -jar "$NEO4J_JAR" \
        --host 127.0.0.1 --port "$port" --data "$data" --pagecache "$NESYKG_NEO4J_PAGECACHE" "${extra[@]}" \
        </dev/null >>"$logf" 2>&1 &
    for ((i = 0; i < NESYKG_SERVER_TIMEOUT * 5; i++)); do
        if tail -c +"$((off + 1))" "$logf" | grep -q '^NEO4J READY'; then
            log "neo4j ready on bolt://127.0.0.1:$port (pid $(cat "$pidfile"), $(elapsed "$t0")s)"
            return 0
        fi
        if ((i > 5)) && ! pid_alive "$pidfile" "$NEO4J_MAIN_MARKER"; then
            tail -c +"$((off + 1))" "$logf" | tail -n 40 >&2
            die "neo4j exited during start-up (log: $logf; debug log: $data/logs/debug.log)"
        fi
        sleep 0.2
    done
    tail -c +"$((off + 1))" "$logf" | tail -n 40 >&2
    [[ -f "$data/logs/debug.log" ]] && tail -n 20 "$data/logs/debug.log" >&2
    stop_pidfile neo4j "$pidfile" "$NEO4J_MAIN_MARKER"
    die "neo4j not ready after ${NESYKG_SERVER_TIMEOUT}s (log: $logf)"
}

elapsed() { python3 -c 'import sys,time; print(f"{time.time()-float(sys.argv[1]):.1f}")' "$1"; }

# http_ok URL -> 0 if GET URL returns 200
http_ok() {
    python3 - "$1" <<'PY' 2>/dev/null
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

# free_ports N -> N distinct free loopback ports, one per line
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}
