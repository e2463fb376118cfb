#!/usr/bin/env bash
# HTTP load benchmark against the running system (start it with scripts/up.sh):
#   1. GET /products/{id} with 64 connections;
#   2. the original system's scenario at 200 concurrent connections.
# Prints requests/s and p50/p95/p99. Products created by the scenario are deleted afterwards.
#   HTTP_PORT (8080)  DURATION (10s)  THREADS (2)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${STATE_DIR:-$ROOT/.state}
PORT=${HTTP_PORT:-8080}
PG_PORT=${PG_PORT:-5433}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
URL="http://127.0.0.1:$PORT"
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
curl -sf "$URL/ready" >/dev/null || { echo "the system is not ready at $URL (run scripts/up.sh)" >&2; exit 1; }

EMAIL="wrk$RANDOM$RANDOM@example.com"
curl -s -XPOST "$URL/auth/register" -H 'Content-Type: application/json' \
    -d "{\"username\":\"wrk\",\"email\":\"$EMAIL\",\"password\":\"secret123\"}" >/dev/null
TOKEN=$(curl -s -XPOST "$URL/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"secret123\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
export TOKEN EMAIL

echo "GET /products/{id}, 64 connections, $DURATION:"
wrk -t"$THREADS" -c64 -d"$DURATION" -s "$ROOT/scripts/wrk/get-product.lua" "$URL" | tail -1
echo "original scenario, 200 connections, $DURATION (every connection logs in first: a burst of 200 bcrypt logins):"
wrk -t"$THREADS" -c200 -d"$DURATION" --timeout 10s -s "$ROOT/scripts/wrk/original-scenario.lua" "$URL" | tail -1
echo "original scenario, 200 connections, $DURATION, steady loop (logged in beforehand):"
STEADY=1 wrk -t"$THREADS" -c200 -d"$DURATION" --timeout 10s -s "$ROOT/scripts/wrk/original-scenario.lua" "$URL" | tail -1

# Remove what the scenario created.
if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- psql -h "$STATE/postgres" -p "$PG_PORT" -U postgres -d northwind -qAt \
        -c "DELETE FROM products WHERE product_name = 'wrk load test'" >/dev/null || true
fi
