#!/usr/bin/env bash
# HTTP load benchmark against the running system (start it with scripts/up.sh):
#   0. the limit: a do-nothing Hummingbird app (HTTPLimit, same package versions) answering
#      GET with a body of the same size, 64 connections; and the same app making one NATS
#      request per GET to products.findOneProduct and answering with the reply (the HTTP and
#      NATS hops without the gateway's own work: authentication, validation, headers, metrics);
#   1. GET /products/{id} with 64 connections, and ratio= end-to-end / limit;
#   2. the original system's scenario at 200 connections, with every connection logging in
#      first (a burst of bcrypt logins), then logged in beforehand (steady).
# Each run prints requests/s, p50/p95/p99, errors, and the CPU each process spent per
# request (µs, from /proc). Products created by the scenario are deleted afterwards.
#   HTTP_PORT (8080)  LIMIT_PORT (8090)  DURATION (10s)  THREADS (2)
#   RUNS (all): "get" stops after the limit and GET /products/{id}
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
export STATE=${STATE_DIR:-$ROOT/.state}
PORT=${HTTP_PORT:-8080}
LIMIT_PORT=${LIMIT_PORT:-8090}
PG_PORT=${PG_PORT:-5433}
export NATS_PORT=${NATS_PORT:-4222}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
URL="http://127.0.0.1:$PORT"
source scripts/lib/stack.sh
source scripts/lib/cpu.sh
source scripts/lib/load.sh
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
curl -sf "$URL/ready" >/dev/null || { echo "the system is not ready at $URL (run scripts/up.sh)" >&2; exit 1; }
BIN=${BIN:-$(swift build -c release --show-bin-path)}
[ -x "$BIN/HTTPLimit" ] || swift build -c release --product HTTPLimit >&2

login_load_user wrk
BODY_BYTES=$(curl -s "$URL/products/1" -H "Authorization: Bearer $TOKEN" | wc -c)

# The limit apps, for this run only (their CPU per request is printed beside the others').
HTTP_PORT=$LIMIT_PORT BODY_BYTES=$BODY_BYTES "$BIN/HTTPLimit" >/dev/null 2>&1 &
LIMIT_PID=$!
echo "$LIMIT_PID" >"$STATE/HTTPLimit.pid"
HOP_PORT=$((LIMIT_PORT + 1)) HOP_PID=
if [ "${NATS_TLS:-0}" != 1 ]; then
    # As the gateway, with its NATS identity.
    # shellcheck disable=SC2046
    env $(nats_env gateway 0) HTTP_PORT=$HOP_PORT "$BIN/HTTPLimit" >/dev/null 2>&1 &
    HOP_PID=$!
    echo "$HOP_PID" >"$STATE/HTTPLimit-nats.pid"
fi
trap 'kill $LIMIT_PID $HOP_PID 2>/dev/null || true; rm -f "$STATE/HTTPLimit.pid" "$STATE/HTTPLimit-nats.pid"' EXIT
wait_port "$LIMIT_PORT" || { echo "HTTPLimit did not start" >&2; exit 1; }
[ -z "$HOP_PID" ] || wait_port "$HOP_PORT" || { echo "HTTPLimit with NATS did not start" >&2; exit 1; }

# run LABEL WRK-ARGS...: one wrk run with the CPU of every process around it.
run() {
    local label=$1 before after line requests
    shift
    before=$(cpu_snapshot)
    line=$(wrk "$@" | tail -1)
    after=$(cpu_snapshot)
    requests=$(echo "$line" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
    echo "$label: $line" >&2
    echo "  $(cpu_per_request "$before" "$after" "${requests:-0}")" >&2
    echo "$line"
}
rps() { echo "$1" | sed -n 's/.* rps=\([0-9]*\).*/\1/p'; }

wrk -t"$THREADS" -c64 -d2s -s scripts/wrk/get-product.lua "$URL" >/dev/null  # warm-up
limit=$(run "limit: fixed $BODY_BYTES-byte body, 64 connections, $DURATION" \
    -t"$THREADS" -c64 -d"$DURATION" -s scripts/wrk/get-product.lua "http://127.0.0.1:$LIMIT_PORT")
[ -z "$HOP_PID" ] || run "limit + one NATS request per GET, 64 connections, $DURATION" \
    -t"$THREADS" -c64 -d"$DURATION" -s scripts/wrk/get-product.lua "http://127.0.0.1:$HOP_PORT" >/dev/null
e2e=$(run "GET /products/{id}, 64 connections, $DURATION" \
    -t"$THREADS" -c64 -d"$DURATION" -s scripts/wrk/get-product.lua "$URL")
awk -v a="$(rps "$e2e")" -v b="$(rps "$limit")" 'BEGIN { printf "ratio=%.3f (end-to-end / limit)\n", (b > 0 ? a / b : 0) }' >&2
[ "${RUNS:-all}" = get ] && exit 0

run "original scenario, 200 connections, $DURATION, every connection logs in first (bcrypt burst)" \
    -t"$THREADS" -c200 -d"$DURATION" --timeout 10s -s scripts/wrk/original-scenario.lua "$URL" >/dev/null
# The burst leaves bcrypt work queued in the auth service (at most its queue budget): let it
# finish so it does not count against the steady run.
for _ in $(seq 20); do
    t0=$(pid_ticks "$(cat "$STATE/AuthService.pid")")
    sleep 0.5
    [ "$(pid_ticks "$(cat "$STATE/AuthService.pid")")" = "$t0" ] && break
done
STEADY=1 run "original scenario, 200 connections, $DURATION, logged in beforehand" \
    -t"$THREADS" -c200 -d"$DURATION" --timeout 10s -s scripts/wrk/original-scenario.lua "$URL" >/dev/null

remove_load_products
