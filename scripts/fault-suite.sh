#!/usr/bin/env bash
# The fault suite: starts a private copy of the whole system (own ports, temporary state),
# runs a mixed HTTP load through the gateway and injects one fault at a time, then prints a
# table per case (scripts/fault/faultsuite.py): requests sent / succeeded / failed, the
# slowest failed answer, acknowledged writes and how many are in the databases afterwards,
# and the recovery time after the fault ends. Exit status 0 when every goal holds.
#   FAULT_WORKERS (8)  FAULT_BEFORE_S (3)  FAULT_DURING_S (3)  FAULT_AFTER_S (6)
#   FAULT_LOGS (/tmp/natswire-fault-logs): the processes' logs are kept there afterwards
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export FAULT_RESULTS KEEP_LOGS=${FAULT_LOGS:-/tmp/natswire-fault-logs}
source scripts/lib/private-stack.sh
FAULT_RESULTS="$STATE/results.jsonl"

start_all() {
    start_private_stack
    start_products_replica
}

status=0
export NATS_NODES=1
start_all
"$ROOT/.state/venv/bin/python" scripts/fault/faultsuite.py "nats-server killed and restarted" \
    "one of two ProductsService killed" "PostgreSQL restarted" "document store restarted" >/dev/null || status=1

log "restarting with a 3-node NATS cluster"
stop_all
export NATS_NODES=3
start_all
"$ROOT/.state/venv/bin/python" scripts/fault/faultsuite.py "cluster: the gateway's node killed" >/dev/null || status=1

echo
"$ROOT/.state/venv/bin/python" scripts/fault/faultsuite.py --table "$FAULT_RESULTS" || status=1
exit $status
