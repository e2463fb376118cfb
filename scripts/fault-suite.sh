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
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
export ROOT STATE
STATE=$(mktemp -d /tmp/natswire-faults-XXXXXX)
chmod 755 "$STATE"
export NATS_PORT=${FAULT_NATS_PORT:-15222} PG_PORT=${FAULT_PG_PORT:-15533} MONGO_PORT=${FAULT_MONGO_PORT:-27218}
export HTTP_PORT=${FAULT_HTTP_PORT:-18080} NATS_CLUSTER_PORT=${FAULT_CLUSTER_PORT:-17222}
export NORTHWIND_SQL=${NORTHWIND_SQL:-$ROOT/../shared/northwind/northwind.sql}
export FAULT_RESULTS="$STATE/results.jsonl"

scripts/install-deps.sh
ln -s "$ROOT/.state/venv" "$STATE/venv"
swift build -c release >&2
export BIN
BIN=$(swift build -c release --show-bin-path)
source scripts/lib/stack.sh
LOGS=${FAULT_LOGS:-/tmp/natswire-fault-logs}
trap 'stop_all; rm -rf "$LOGS"; cp -r "$STATE/logs" "$LOGS"; rm -rf "$STATE"' EXIT

start_all() {
    start_nats
    start_postgres
    start_docstore
    start_services
    start_products_replica
    start_gateway
}

status=0
export NATS_NODES=1
start_all
"$STATE/venv/bin/python" scripts/fault/faultsuite.py "nats-server killed and restarted" \
    "one of two ProductsService killed" "PostgreSQL restarted" "document store restarted" >/dev/null || status=1

log "restarting with a 3-node NATS cluster"
stop_all
export NATS_NODES=3
start_all
"$STATE/venv/bin/python" scripts/fault/faultsuite.py "cluster: the gateway's node killed" >/dev/null || status=1

echo
"$STATE/venv/bin/python" scripts/fault/faultsuite.py --table "$FAULT_RESULTS" || status=1
exit $status
