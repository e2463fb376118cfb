#!/usr/bin/env bash
# What tracing costs, on the running system (scripts/up.sh): GET /products/{id} at 64
# connections with the gateway and the services restarted without tracing and with it
# (OTEL_EXPORTER_OTLP_ENDPOINT set, spans exported to a local OTLP receiver that counts them;
# every request sampled unless OTEL_TRACES_SAMPLER/_ARG say otherwise), alternating ROUNDS times. Prints each run's line, the CPU each
# process spent per request, the spans the receiver took, and the cost of tracing on.
# The system is left running without tracing.
#   HTTP_PORT (8080)  DURATION (8s)  ROUNDS (2)  BIN (the release build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib/running-system.sh
source scripts/lib/span-counter.sh
start_span_counter
cleanup() {
    stop_span_counter
    unset OTEL_EXPORTER_OTLP_ENDPOINT
    restart_all >/dev/null 2>&1 || true
}
trap cleanup EXIT

restart_all() {
    for name in Gateway ProductsService CustomersService AuthService; do
        [ -f "$STATE/$name.pid" ] && kill "$(cat "$STATE/$name.pid")" 2>/dev/null || true
        while running "$name"; do sleep 0.1; done
        rm -f "$STATE/$name.pid"
    done
    start_services 2>/dev/null
    start_gateway 2>/dev/null
}
rps() { echo "$1" | sed -n 's/.* rps=\([0-9]*\).*/\1/p'; }

declare -A total=([off]=0 [on]=0)
for round in $(seq "${ROUNDS:-2}"); do
    for tracing in off on; do
        if [ "$tracing" = on ]; then
            export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$RECEIVER_PORT"
        else
            unset OTEL_EXPORTER_OTLP_ENDPOINT
        fi
        restart_all
        login_load_user tracing
        wrk -t2 -c64 -d2s -s scripts/wrk/get-product.lua "$URL" >/dev/null  # warm-up
        spans_before=$(spans_counted)
        measured_wrk "GET /products/{id}, tracing $tracing, round $round" \
            -t2 -c64 -d"$DURATION" -s scripts/wrk/get-product.lua "$URL"
        requests=$REQUESTS
        if [ "$tracing" = on ]; then
            # Four spans per sampled request (gateway server and send, service, query), the
            # last batch within one export delay (5 s) of the run's end: wait until they are
            # all there, or the count has not moved for longer than that delay.
            previous=-1 still=0
            for _ in $(seq 150); do
                count=$(($(spans_counted) - spans_before))
                [ "$count" -ge $((4 * requests)) ] && break
                if [ "$count" = "$previous" ]; then still=$((still + 1)); else still=0; fi
                [ "$still" -ge 60 ] && break
                previous=$count
                sleep 0.1
            done
            echo "  spans received: $(($(spans_counted) - spans_before)) (4 per request: $((4 * requests)); sampler ${OTEL_TRACES_SAMPLER:-parentbased_always_on} ${OTEL_TRACES_SAMPLER_ARG:-})"
        fi
        total[$tracing]=$((total[$tracing] + $(rps "$LINE")))
    done
done
awk -v off="${total[off]}" -v on="${total[on]}" \
    'BEGIN { printf "tracing on costs %.1f %% of GET /products/{id} throughput (mean of the rounds)\n", (off > 0 ? 100 * (off - on) / off : 0) }'
