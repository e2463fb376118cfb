#!/usr/bin/env bash
# Stops what scripts/up.sh started, and only that (pid files and data in the state folder).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export STATE=${STATE_DIR:-$ROOT/.state}
source "$ROOT/scripts/lib/stack.sh"
stop_all
