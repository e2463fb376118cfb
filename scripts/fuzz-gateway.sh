#!/usr/bin/env bash
# Fuzzes the gateway from its own OpenAPI document with schemathesis (PyPI): generated valid
# and invalid requests against every operation of a private copy of the system, with all
# checks — no 5xx server error, every status, header and body as documented. Exit status 0
# when nothing was found. Not part of the normal tests.
#   EXAMPLES (40): test cases per operation   SEED (1)   PRIVATE_PORT_BASE (16000)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PRIVATE_PORT_BASE=${PRIVATE_PORT_BASE:-16000} KEEP_LOGS=${FUZZ_LOGS:-/tmp/natswire-fuzz-gateway-logs}
VENV="$ROOT/.state/schemathesis-venv"
if [ ! -x "$VENV/bin/schemathesis" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q 'schemathesis>=4,<5'
fi
source scripts/lib/private-stack.sh
start_private_stack

URL="http://127.0.0.1:$HTTP_PORT"
EMAIL="fuzz-$(date +%s)@example.com"
curl -sf -XPOST "$URL/auth/register" -H 'Content-Type: application/json' \
    -d "{\"username\":\"fuzz\",\"email\":\"$EMAIL\",\"password\":\"secret-pass-1\"}" >/dev/null
TOKEN=$(curl -sf -XPOST "$URL/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"secret-pass-1\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

"$VENV/bin/schemathesis" run "$URL/openapi.json" --url "$URL" \
    --checks all --max-examples "${EXAMPLES:-40}" --seed "${SEED:-1}" --workers 2 \
    --header "Authorization: Bearer $TOKEN" --request-timeout 10 \
    --report junit --report-dir "$KEEP_LOGS-report"
