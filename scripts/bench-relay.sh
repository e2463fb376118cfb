#!/usr/bin/env bash
# What ProductsService's event relay sustains, on the running system (scripts/up.sh): the
# service is restarted while this script holds its relay's lease (the PostgreSQL advisory lock
# the relay takes on a session of its own), POST /products/create runs for EVENTS_DURATION at
# 64 connections, so the events of those creates wait in the outbox; then the lease is let
# go, the relay takes it and drains the outbox. Prints the events that waited, how long the
# relay took from its first batch until the outbox was empty, events per second, and the CPU
# per event of ProductsService, nats-server and PostgreSQL while it drained. The events are
# those of real creates: nothing synthetic reaches the EVENTS stream.
#   HTTP_PORT (8080)  EVENTS_DURATION (6s: the creates must fit product_id, a smallint)
#   ROUNDS (2)  BIN (the release build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib/running-system.sh
DURATION=${EVENTS_DURATION:-6s}
LEASE_HOLDER=relay-bench-lease
sql() { as_postgres psql -h "$STATE/postgres" -p "$PG_PORT" -U postgres -d northwind -qAt -c "$1"; }
# The relay's lease key: PostgresEventSource.leaseKey (FNV-1a of the service name).
LEASE_KEY=$(python3 -c '
h = 2166136261
for b in b"products": h = ((h ^ b) * 16777619) & 0xFFFFFFFF
print(7240000 + h % 100000)')
database_url="postgresql://products_svc:$(secret products-db)@127.0.0.1:$PG_PORT/northwind"
release_lease() {
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$LEASE_HOLDER'" >/dev/null
    [ -n "${HOLDER_PID:-}" ] && wait "$HOLDER_PID" 2>/dev/null || true
    HOLDER_PID=
}
restart_service() {
    if [ -f "$STATE/ProductsService.pid" ]; then
        kill "$(cat "$STATE/ProductsService.pid")" 2>/dev/null || true
        while running ProductsService; do sleep 0.1; done
        rm -f "$STATE/ProductsService.pid"
    fi
    # shellcheck disable=SC2046
    start_service ProductsService $(nats_env products 3) DATABASE_URL="$database_url" 2>/dev/null
}
trap release_lease EXIT
outbox() { sql "SELECT count(*) FROM products_outbox"; }

login_load_user relay
remove_load_products
for round in $(seq "${ROUNDS:-2}"); do
    # The lease, held by a session of this script's while the service starts and the load runs.
    as_postgres env PGAPPNAME="$LEASE_HOLDER" psql -h "$STATE/postgres" -p "$PG_PORT" -U postgres -d northwind \
        -qAt -c "SELECT pg_advisory_lock($LEASE_KEY)" -c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
    HOLDER_PID=$!
    until [ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $LEASE_KEY AND granted")" = 1 ]; do
        sleep 0.05
    done
    restart_service
    line=$(wrk -t2 -c64 -d"$DURATION" -s scripts/wrk/create-product.lua "$URL" | tail -1)
    waiting=$(outbox)
    before=$(cpu_snapshot)
    release_lease
    # One session polls the outbox every 10 ms (PostgreSQL's clock, in microseconds): from the
    # relay's first batch (the relay looks for the lease at its next poll) until it is empty.
    start="" end="" polls=0
    while IFS='|' read -r left at; do
        [ -z "$start" ] && [ "$left" -lt "$waiting" ] && start=$at
        [ "$left" -eq 0 ] && { end=$at; break; }
        polls=$((polls + 1))
        # Two minutes without an empty outbox: the relay is not working (see its log).
        [ "$polls" -lt 12000 ] || { echo "the relay left $left events after 2 minutes" >&2; exit 1; }
    done < <(echo "SELECT count(*), (extract(epoch FROM clock_timestamp()) * 1000000)::bigint FROM products_outbox \watch 0.01" |
        as_postgres psql -h "$STATE/postgres" -p "$PG_PORT" -U postgres -d northwind -qAt 2>/dev/null)
    after=$(cpu_snapshot)
    ms=$(((end - ${start:-$end}) / 1000))
    cpu=$(cpu_per_request "$before" "$after" "$waiting" | sed 's/^cpu_us_per_request://')
    echo "round $round: load $line"
    echo "  $waiting events waited; the relay emptied the outbox in $ms ms:" \
        "$((waiting * 1000 / (ms > 0 ? ms : 1))) events/s"
    echo "  cpu_us_per_event: ProductsService=$(value "$cpu" ProductsService)" \
        "nats-server=$(value "$cpu" nats-server) postgres=$(value "$cpu" postgres)"
    remove_load_products
done
