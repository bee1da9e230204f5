#!/usr/bin/env bash
# Start every server the tests need, run pytest against them, stop the servers.
# Called by `make test`; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STATE=.servers

# The layers (pyproject.toml, [tool.importlinter]): a broken contract fails the run at once.
"$BIN/lint-imports" --no-cache

if [ -x servers/start.sh ]; then
  export OXIGRAPH_BIN="$PWD/$BIN/oxigraph"
  trap 'bash servers/stop.sh "$STATE" || true' EXIT
  bash servers/start.sh "$STATE"
  set -a; . "$STATE/env"; set +a
  export NESYKG_REQUIRE_SERVERS=1
fi

"$BIN/python" -m pytest "$@"
