#!/usr/bin/env bash
# What the event outbox costs the write path, on the running system (scripts/up.sh):
# POST /products/create at 64 connections with ProductsService restarted with EVENTS=off
# and EVENTS=on, alternating ROUNDS times; after each run with events, how long the relay
# takes to empty the outbox (its lag) and the events/s it sustained. Products created are
# deleted afterwards (their events stay in the stream).
#   HTTP_PORT (8080)  EVENTS_DURATION (6s)  ROUNDS (2)
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
# The creates of one run must fit product_id (a smallint, up to 32,767; the ids are given
# back after each run): a run that exhausts it answers errors, which are cheap, and would
# make that side look fast. 6 s is ~27,000 creates at 4,500/s.
DURATION=${EVENTS_DURATION:-6s}
# cpu_total OUTPUT: the CPU per create of the gateway, ProductsService, nats-server and
# PostgreSQL together, from measured_wrk's output.
cpu_total() {
    echo "$1" | tr ' ' '\n' | awk -F= '$1 ~ /^(Gateway|ProductsService|nats-server|postgres)$/ { sum += $2 } END { print sum + 0 }'
}
remove_load_products  # the same starting state for every run
for round in $(seq "${ROUNDS:-2}"); do
    for events in off on; do
        restart_products "$events"
        out=$(measured_wrk "POST /products/create, events $events, round $round" \
            -t2 -c64 -d"$DURATION" -s scripts/wrk/create-product.lua "$URL")
        echo "$out"
        [ "$(value "$out" errors)" = 0 ] || echo "  (errors: not comparable — shorten EVENTS_DURATION)"
        eval "rps_$events=$(value "$out" rps) cpu_$events=$(cpu_total "$out")"
        if [ "$events" = on ]; then
            left=$(pending) start=$(date +%s%N)
            while [ "$(pending)" != 0 ]; do sleep 0.05; done
            echo "  outbox after the run: $left events, empty $(( ($(date +%s%N) - start) / 1000000 )) ms later"
            # shellcheck disable=SC2154
            awk -v a="$rps_off" -v b="$rps_on" -v c="$cpu_off" -v d="$cpu_on" 'BEGIN {
                printf "  events cost: %.1f %% of create throughput, %.1f %% more CPU per create (%d → %d µs)\n",
                    (a > 0 ? 100 * (1 - b / a) : 0), (c > 0 ? 100 * (d / c - 1) : 0), c, d }'
        fi
        remove_load_products
    done
done
restart_products on
