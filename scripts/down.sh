#!/usr/bin/env bash
# Stops what scripts/up.sh started, and only that (by the pid files in .state/).
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${STATE_DIR:-$PWD/.state}
for pidfile in "$STATE"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    name=$(basename "$pidfile" .pid)
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        echo "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile"
done
