#!/usr/bin/env bash
# Start every server the tests need, run pytest against them, stop the servers.
# Called by `make test`; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STATE=.servers

# The layers (pyproject.toml, [tool.importlinter]): a broken contract fails the run at once.
"$BIN/lint-imports" --no-cache

# Headless Chromium for the report test (tests/report): Debian's package, driven by playwright.
# Installed when missing; `apt-get update` only when the install fails (a stale package list).
# If it still cannot be installed, the test fails under NESYKG_REQUIRE_SERVERS=1 saying why.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi
  apt_install() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; }
  echo "run_tests: installing chromium (Debian package) for the report test" >&2
  apt_install >/dev/null || { "${SUDO[@]}" apt-get update -q >/dev/null && apt_install >/dev/null; } \
    || echo "run_tests: could not install chromium; the report test will say so" >&2
fi

if [ -x servers/start.sh ]; then
  export OXIGRAPH_BIN="$PWD/$BIN/oxigraph"
  trap 'bash servers/stop.sh "$STATE" || true' EXIT
  bash servers/start.sh "$STATE"
  set -a; . "$STATE/env"; set +a
  export NESYKG_REQUIRE_SERVERS=1
fi

"$BIN/python" -m pytest "$@"
