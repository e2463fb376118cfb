#!/usr/bin/env bash
# Benchmark of the data services over NATS: requests/s and p50/p99 with 64 outstanding
# requests (and 1, for latency), for get-by-id and lists, natively and in the NestJS
# envelope, against a private stack in a temporary state folder (its own ports; stopped
# afterwards). Needs a release build (scripts/up.sh makes one).
#   MSGS (20000)  PAR (64)  BIN (the release build)
#   CLIENT_FLAGS  more flags for the load client (e.g. "--io-executor --spin-us 200")
#   NATS_SPIN_MICROSECONDS  the services' spin before sleep (0)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
export STATE
STATE=$(mktemp -d /tmp/natswire-bench-XXXXXX)
chmod 755 "$STATE"
export NATS_PORT=${BENCH_NATS_PORT:-14222} PG_PORT=${BENCH_PG_PORT:-15433} MONGO_PORT=${BENCH_MONGO_PORT:-27118}
export NORTHWIND_SQL=${NORTHWIND_SQL:-$ROOT/../shared/northwind/northwind.sql}
export NATS_AUTH=0  # the services alone; the system's NATS permissions are tested elsewhere
MSGS=${MSGS:-20000}
PAR=${PAR:-64}
source scripts/lib/stack.sh
source scripts/lib/cpu.sh
trap 'stop_all; rm -rf "$STATE"' EXIT

# BIN=DIR runs the binaries in DIR instead (an A/B of two builds).
if [ -z "${BIN:-}" ]; then
    swift build -c release >&2
    BIN=$(swift build -c release --show-bin-path)
fi
export BIN
start_nats
start_postgres
start_service CustomersService NATS_URL="nats://127.0.0.1:$NATS_PORT" \
    DATABASE_URL="postgresql://customers_svc:$(secret customers-db)@127.0.0.1:$PG_PORT/northwind"
start_service ProductsService NATS_URL="nats://127.0.0.1:$NATS_PORT" \
    DATABASE_URL="postgresql://products_svc:$(secret products-db)@127.0.0.1:$PG_PORT/northwind"

# run LABEL SUBJECT DATA ORIGINAL_DATA [PAR]: requests/s and p50/p99 over NATS, natively with
# DATA and in the NestJS envelope the original gateway sends ({"pattern","data","id"}) with the
# data it sends for that subject (a bare id, "" for the whole customer list).
run() {
    local label=$1 subject=$2 data=$3 original=$4 par=${5:-$PAR} mode=reqpar line envelope
    [ "$par" = 1 ] && mode=req
    envelope="{\"pattern\":\"$subject\",\"data\":$original,\"id\":\"b1\"}"
    bench_line "$label, native, $par outstanding" "$data"
    bench_line "$label, NestJS envelope ($original), $par outstanding" "$envelope"
}

# bench_line LABEL PAYLOAD: one natswire bench run and the CPU per request of each process.
bench_line() {
    local before after line
    before=$(cpu_snapshot)
    line=$("$BIN/natswire" bench --url "nats://127.0.0.1:$NATS_PORT" --mode $mode --par "$par" --msgs "$MSGS" \
        --size 0 --subject "$subject" --data "$2" ${CLIENT_FLAGS:-} | tail -1)
    after=$(cpu_snapshot)
    echo "$1: $line"
    echo "  $(cpu_per_request "$before" "$after" "$(echo "$line" | sed -n 's/.* msgs=\([0-9]*\) .*/\1/p')")"
}
"$BIN/natswire" bench --url "nats://127.0.0.1:$NATS_PORT" --mode reqpar --par "$PAR" --msgs 2000 --size 0 \
    --subject products.findOneProduct --data '{"product_id":1}' >/dev/null  # warm-up
run "products get-by-id" products.findOneProduct '{"product_id":1}' 1
run "products list (page 1, limit 20)" products.findAllProducts '{"page":1,"limit":20}' '{"page":1,"limit":20}'
run "customers get-by-id" customers.findCustomer '{"customer_id":"ALFKI"}' '"ALFKI"'
MSGS=$((MSGS / 4)) run "customers get-by-id" customers.findCustomer '{"customer_id":"ALFKI"}' '"ALFKI"' 1
run "customers list (page 1, limit 20)" customers.findCustomers '{"page":1,"limit":20}' '{"page":1,"limit":20}'
run "customers list (all 91; the original's list is all)" customers.findCustomers '{"page":1,"limit":100}' '""'
