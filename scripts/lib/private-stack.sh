# A private copy of the whole system for a test command (fault suite, gateway fuzzing): a
# temporary state folder, its own ports, a release build; stopped and removed on exit, its
# logs kept in $KEEP_LOGS. Sourced after ROOT is set; then call start_private_stack.
#   PRIVATE_PORT_BASE (15000): NATS +222, PostgreSQL +533, MongoDB +12218, HTTP +3080
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
export ROOT STATE
STATE=$(mktemp -d /tmp/natswire-private-XXXXXX)
chmod 755 "$STATE"
base=${PRIVATE_PORT_BASE:-15000}
export NATS_PORT=$((base + 222)) PG_PORT=$((base + 533)) MONGO_PORT=$((base + 12218))
export HTTP_PORT=$((base + 3080)) NATS_CLUSTER_PORT=$((base + 2222))
export NORTHWIND_SQL=${NORTHWIND_SQL:-$ROOT/../shared/northwind/northwind.sql}
KEEP_LOGS=${KEEP_LOGS:-/tmp/natswire-private-logs}

"$ROOT/scripts/install-deps.sh"
(cd "$ROOT" && swift build -c release >&2)
export BIN
BIN=$(cd "$ROOT" && swift build -c release --show-bin-path)
source "$ROOT/scripts/lib/stack.sh"
trap 'stop_all; rm -rf "$KEEP_LOGS"; cp -r "$STATE/logs" "$KEEP_LOGS"; rm -rf "$STATE"' EXIT

start_private_stack() {
    start_nats
    start_postgres
    start_docstore
    start_services
    start_gateway
}
