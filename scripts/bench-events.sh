#!/usr/bin/env bash
# What the event outbox costs the write path, on the running system (scripts/up.sh):
# POST /products/create at 64 connections with ProductsService restarted with EVENTS=off
# and EVENTS=on, alternating ROUNDS times; after each run with events, how long the relay
# takes to empty the outbox (its lag) and the events/s it sustained. Products created are
# deleted afterwards (their events stay in the stream).
#   HTTP_PORT (8080)  DURATION (8s)  ROUNDS (2)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib/running-system.sh
login_load_user events
pending() { as_postgres psql -h "$STATE/postgres" -p "$PG_PORT" -U postgres -d northwind -qAt -c "SELECT count(*) FROM products_outbox"; }
restart_products() {
    kill "$(cat "$STATE/ProductsService.pid")" 2>/dev/null || true
    while running ProductsService; do sleep 0.1; done
    # shellcheck disable=SC2046
    start_service ProductsService $(nats_env products 3) EVENTS="$1" \
        DATABASE_URL="postgresql://products_svc:$(secret products-db)@127.0.0.1:$PG_PORT/northwind" 2>/dev/null
}
for round in $(seq "${ROUNDS:-2}"); do
    for events in off on; do
        restart_products "$events"
        measured_wrk "POST /products/create, events $events, round $round" \
            -t2 -c64 -d"$DURATION" -s scripts/wrk/create-product.lua "$URL"
        if [ "$events" = on ]; then
            left=$(pending) start=$(date +%s%N)
            while [ "$(pending)" != 0 ]; do sleep 0.05; done
            echo "  outbox after the run: $left events, empty $(( ($(date +%s%N) - start) / 1000000 )) ms later"
        fi
        remove_load_products
    done
done
restart_products on
