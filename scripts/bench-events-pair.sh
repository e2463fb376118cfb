#!/usr/bin/env bash
# What the event outbox costs the write path, side by side: this machine's speed drifts by a
# third between runs, more than the cost itself, so alternating runs (bench-events.sh) cannot
# tell it. Here two ProductsService twins serve the same queue group at the same time, one with
# events (EVENTS=on), one without (EVENTS=off), under POST /products/create at 64 connections
# through the running system's gateway (scripts/up.sh; its own ProductsService is stopped
# meanwhile and started again at the end). Each twin's creates are counted by the services
# API, its CPU read from /proc, and its PostgreSQL backends' CPU too (each twin connects with
# its own application_name), over the same seconds. nats-server is shared: the JetStream
# work the events add there is measured against a run with both twins off, right after.
# Prints per round: CPU per create of each twin (service, PostgreSQL), nats-server's extra,
# and the cost: the CPU events add per create against the system's CPU per create without
# them (gateway, service, nats-server, PostgreSQL).
#   HTTP_PORT (8080)  EVENTS_DURATION (6s: the creates of a run must fit product_id, a smallint)
#   ROUNDS (3)  TWIN_ENV (more VAR=VALUE for both twins, e.g. EVENTS_BATCH_INTERVAL=200)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib/running-system.sh
DURATION=${EVENTS_DURATION:-6s}
NATSWIRE=("$BIN/natswire" --server "nats://127.0.0.1:$NATS_PORT")
[ "$NATS_AUTH" = 1 ] && NATSWIRE+=(--nkey "$STATE/secrets/nats-admin.nk")
database_url() { echo "postgresql://products_svc:$(secret products-db)@127.0.0.1:$PG_PORT/northwind${1:-}"; }
stop_instance() {
    [ -f "$STATE/$1.pid" ] || return 0
    kill "$(cat "$STATE/$1.pid")" 2>/dev/null || true
    while running "$1"; do sleep 0.1; done
    rm -f "$STATE/$1.pid"
}
# twin NAME EVENTS: (re)starts a ProductsService twin whose PostgreSQL sessions are named NAME.
twin() {
    stop_instance "$1"
    # shellcheck disable=SC2046,SC2086
    start_instance "$1" ProductsService $(nats_env products 3) ${TWIN_ENV:-} EVENTS="$2" \
        DATABASE_URL="$(database_url "?application_name=$1")" 2>/dev/null
}
restore() {
    stop_instance events-on
    stop_instance events-off
    # shellcheck disable=SC2046
    running ProductsService || start_service ProductsService $(nats_env products 3) DATABASE_URL="$(database_url)" 2>/dev/null
}
trap restore EXIT
# instance_id NAME: the services-API id the twin logged when it became ready.
instance_id() { grep "service ready" "$STATE/logs/$1.log" | tail -1 | sed -n 's/.* id=\([^ ]*\) .*/\1/p'; }
# creates: "ID=COUNT ..." of createProduct requests per products instance.
creates() {
    "${NATSWIRE[@]}" micro stats products | python3 -c '
import json, sys
text, decoder, at = sys.stdin.read(), json.JSONDecoder(), 0
while True:
    while at < len(text) and text[at].isspace(): at += 1
    if at >= len(text): break
    stats, at = decoder.raw_decode(text, at)
    print(" ".join(f"{stats['"'"'id'"'"']}={e['"'"'num_requests'"'"']}" for e in stats["endpoints"] if e["name"] == "createProduct"), end=" ")'
}
# backend_ticks NAME: CPU ticks of the PostgreSQL sessions named NAME.
backend_ticks() {
    local total=0 pid
    for pid in $(as_postgres psql -h "$STATE/postgres" -p "$PG_PORT" -U postgres -d northwind -qAt \
        -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'"); do
        total=$((total + $(pid_ticks "$pid")))
    done
    echo "$total"
}
ticks() { pid_ticks "$(cat "$STATE/$1.pid")"; }
us() { echo $(($1 * 1000000 / CLK_TCK / ($2 > 0 ? $2 : 1))); }
load() { wrk -t2 -c64 -d"$1" -s scripts/wrk/create-product.lua "$URL" | tail -1; }

login_load_user events
stop_instance ProductsService
remove_load_products
sum_cost=0
for round in $(seq "${ROUNDS:-3}"); do
    twin events-on on
    twin events-off off
    load 1s >/dev/null  # both twins open their connections
    remove_load_products
    on_id=$(instance_id events-on) off_id=$(instance_id events-off)
    c0=$(creates) g0=$(ticks Gateway) n0=$(ticks nats-server)
    on0=$(ticks events-on) off0=$(ticks events-off) pon0=$(backend_ticks events-on) poff0=$(backend_ticks events-off)
    line=$(load "$DURATION")
    c1=$(creates) g1=$(ticks Gateway) n1=$(ticks nats-server)
    on1=$(ticks events-on) off1=$(ticks events-off) pon1=$(backend_ticks events-on) poff1=$(backend_ticks events-off)
    left=$(as_postgres psql -h "$STATE/postgres" -p "$PG_PORT" -U postgres -d northwind -qAt -c "SELECT count(*) FROM products_outbox")
    remove_load_products
    n_on=$(($(value "$c1" "$on_id") - $(value "$c0" "$on_id")))
    n_off=$(($(value "$c1" "$off_id") - $(value "$c0" "$off_id")))
    total=$((n_on + n_off))
    # The same load with both twins off: nats-server's CPU per create without events.
    twin events-on off
    load 1s >/dev/null
    remove_load_products
    m0=$(ticks nats-server) k0=$(creates)
    base_line=$(load "$DURATION")
    m1=$(ticks nats-server) k1=$(creates)
    remove_load_products
    base=0
    for id in $(instance_id events-on) "$off_id"; do
        base=$((base + $(value "$k1" "$id") - $(value "$k0" "$id")))
    done
    echo "round $round: both twins $line"
    echo "         both off $base_line"
    echo "  creates: events-on $n_on, events-off $n_off (outbox left: $left)"
    s_on=$(us $((on1 - on0)) "$n_on") s_off=$(us $((off1 - off0)) "$n_off")
    p_on=$(us $((pon1 - pon0)) "$n_on") p_off=$(us $((poff1 - poff0)) "$n_off")
    nats_mixed=$(us $((n1 - n0)) "$total") nats_base=$(us $((m1 - m0)) "$base")
    gateway=$(us $((g1 - g0)) "$total")
    # Half of the mixed run's creates made an event: nats-server's extra per event is twice
    # the difference.
    nats_extra=$((2 * (nats_mixed - nats_base)))
    echo "  cpu_us_per_create: service on=$s_on off=$s_off, postgres on=$p_on off=$p_off," \
        "nats-server per create mixed=$nats_mixed both-off=$nats_base (per event +$nats_extra), gateway=$gateway"
    cost=$(awk -v s="$((s_on - s_off))" -v p="$((p_on - p_off))" -v n="$nats_extra" \
        -v total="$((gateway + s_off + p_off + nats_base))" 'BEGIN { printf "%.1f", 100 * (s + p + n) / total }')
    echo "  events add $((s_on - s_off + p_on - p_off + nats_extra)) µs per create: $cost % of the system's CPU per create"
    sum_cost=$(awk -v a="$sum_cost" -v b="$cost" 'BEGIN { print a + b }')
done
awk -v s="$sum_cost" -v r="${ROUNDS:-3}" 'BEGIN { printf "events cost %.1f %% of the CPU per create, side by side (mean of the rounds)\n", s / r }'
