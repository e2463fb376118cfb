#!/usr/bin/env bash
# Memory footprint of the running system (start it with scripts/up.sh; started here if it is
# not running): a short load (GET /products/{id}, then the original scenario, logged in),
# then for every process its peak resident memory (VmHWM), current resident memory (VmRSS),
# thread count and binary size. Products created by the load are deleted afterwards.
#   HTTP_PORT (8080)  DURATION (5s)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
export STATE=${STATE_DIR:-$ROOT/.state}
PORT=${HTTP_PORT:-8080}
PG_PORT=${PG_PORT:-5433}
DURATION=${DURATION:-5s}
URL="http://127.0.0.1:$PORT"
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
curl -sf "$URL/ready" >/dev/null || scripts/up.sh >&2
BIN=${BIN:-$(swift build -c release --show-bin-path)}
source scripts/lib/load.sh
source scripts/lib/memory.sh

login_load_user footprint
wrk -t2 -c64 -d"$DURATION" -s scripts/wrk/get-product.lua "$URL" >/dev/null
STEADY=1 wrk -t2 -c200 -d"$DURATION" --timeout 10s -s scripts/wrk/original-scenario.lua "$URL" >/dev/null


printf '%-18s %10s %10s %8s %12s\n' process "peak MiB" "now MiB" threads "binary MiB"
for name in Gateway AuthService CustomersService ProductsService; do
    pid=$(cat "$STATE/$name.pid")
    size=$(stat -c %s "$BIN/$name")
    printf '%-18s %10s %10s %8s %12s\n' "$name" "$(mib "$(status VmHWM "$pid")")" \
        "$(mib "$(status VmRSS "$pid")")" "$(status Threads "$pid")" "$(mib $((size / 1024)))"
done

remove_load_products
