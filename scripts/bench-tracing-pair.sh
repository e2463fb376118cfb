#!/usr/bin/env bash
# What tracing costs, measured side by side: this machine's speed drifts by up to a third
# between runs, more than the cost itself, so alternating runs (bench-tracing.sh) need many
# rounds to say anything. Here a traced twin of the gateway (port HTTP_PORT+1) and of
# ProductsService run beside the untraced ones on the running system (scripts/up.sh), under
# the same load at the same time (wrk on each gateway, half the connections each; the two
# ProductsService instances share the queue group, so each serves about half of all
# requests). Every twin's CPU per request is read over the same seconds, so the drift cancels.
# Prints each round's figures and the cost: the CPU tracing adds per request against the
# system's CPU per request without it (gateway, ProductsService, nats-server, PostgreSQL),
# and the throughput that costs when the CPU is the limit. The receiver's CPU (a Python OTLP
# receiver standing in for a collector, which normally runs elsewhere) is shown apart.
#   HTTP_PORT (8080)  DURATION (8s)  ROUNDS (3)  BIN (the release build)
#   OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG for the traced twins (default: every request)
#   OTEL_SDK_DISABLED=true: the twins untraced too, to check that the harness itself shows ~0
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib/running-system.sh
TRACED_PORT=$((HTTP_PORT + 1))
source scripts/lib/span-counter.sh
start_span_counter
stop_twins() {
    local name
    for name in Gateway-traced ProductsService-traced; do
        [ -f "$STATE/$name.pid" ] || continue
        kill "$(cat "$STATE/$name.pid")" 2>/dev/null || true
        while running "$name"; do sleep 0.1; done
        rm -f "$STATE/$name.pid"
    done
}
cleanup() {
    stop_twins
    stop_span_counter
    rm -f "$UNTRACED_LINE"
}
trap cleanup EXIT
UNTRACED_LINE=$(mktemp)
TRACING=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$RECEIVER_PORT"
    OTEL_TRACES_SAMPLER="${OTEL_TRACES_SAMPLER:-parentbased_always_on}" OTEL_TRACES_SAMPLER_ARG="${OTEL_TRACES_SAMPLER_ARG:-}"
    OTEL_SDK_DISABLED="${OTEL_SDK_DISABLED:-false}")

# shellcheck disable=SC2046
start_instance ProductsService-traced ProductsService $(nats_env products 3) "${TRACING[@]}" \
    DATABASE_URL="postgresql://products_svc:$(secret products-db)@127.0.0.1:$PG_PORT/northwind" 2>/dev/null
# shellcheck disable=SC2046
start_instance Gateway-traced Gateway $(nats_env gateway 0) HTTP_PORT="$TRACED_PORT" "${TRACING[@]}" 2>/dev/null
wait_port "$TRACED_PORT"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$TRACED_PORT/ready" >/dev/null && break; sleep 0.1; done

login_load_user tracing
# The 64 connections of bench-tracing.sh, half on each gateway.
load() { wrk -t1 -c32 -d"$1" -s scripts/wrk/get-product.lua "$2" | tail -1; }
load 2s "$URL" >/dev/null &
load 2s "http://127.0.0.1:$TRACED_PORT" >/dev/null
wait $!  # warm-up
echo "sampler of the traced twins: ${OTEL_TRACES_SAMPLER:-parentbased_always_on} ${OTEL_TRACES_SAMPLER_ARG:-}"
sum_cost=0
for round in $(seq "${ROUNDS:-3}"); do
    before=$(cpu_snapshot)
    load "$DURATION" "$URL" >"$UNTRACED_LINE" &
    untraced=$!
    on_line=$(load "$DURATION" "http://127.0.0.1:$TRACED_PORT")
    wait "$untraced"
    after=$(cpu_snapshot)
    off_line=$(cat "$UNTRACED_LINE")
    off=$(echo "$off_line" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
    on=$(echo "$on_line" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
    all=$((off + on))
    # Ticks per process over the round, then µs per request of what each served.
    ticks=$(cpu_per_request "$before" "$after" 1 | sed 's/^cpu_us_per_request://')
    per() { awk -v t="$(value "$ticks" "$1")" -v n="$2" 'BEGIN { printf "%.1f", t / n }'; }
    g_off=$(per Gateway "$off") g_on=$(per Gateway-traced "$on")
    p_off=$(per ProductsService $((all / 2))) p_on=$(per ProductsService-traced $((all / 2)))
    nats=$(per nats-server "$all") pg=$(per postgres "$all") receiver=$(per otlp-receiver "$on")
    echo "round $round: untraced gateway $off_line"
    echo "         traced gateway   $on_line"
    echo "  cpu_us_per_request: Gateway=$g_off Gateway-traced=$g_on ProductsService=$p_off" \
        "ProductsService-traced=$p_on nats-server=$nats postgres=$pg otlp-receiver(per traced)=$receiver"
    cost=$(awk -v go="$g_off" -v gt="$g_on" -v po="$p_off" -v pt="$p_on" -v n="$nats" -v pg="$pg" \
        'BEGIN { base = go + po + n + pg; added = (gt - go) + (pt - po);
                 printf "%.1f", 100 * added / (base + added) }')
    echo "  tracing adds $(awk -v go="$g_off" -v gt="$g_on" -v po="$p_off" -v pt="$p_on" \
        'BEGIN { printf "%.1f", gt - go + pt - po }') µs per request: $cost % of the throughput"
    sum_cost=$(awk -v a="$sum_cost" -v b="$cost" 'BEGIN { print a + b }')
done
echo "spans received: $(spans_counted)"
awk -v s="$sum_cost" -v r="${ROUNDS:-3}" \
    'BEGIN { printf "tracing on costs %.1f %% of GET /products/{id} throughput, side by side (mean of the rounds)\n", s / r }'
