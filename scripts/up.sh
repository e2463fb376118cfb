#!/usr/bin/env bash
# Brings the whole system up: installs what is missing, builds in release mode, starts
# nats-server, PostgreSQL with Northwind (first start: the canonical dump when present,
# else the project's fixtures), the document store and every service. Data lives in
# .state/ and survives a stop and a start; scripts/down.sh stops everything it started.
#   NATS_PORT (4222)  PG_PORT (5433)  MONGO_PORT (27018)  HTTP_PORT (8080)  STATE_DIR (.state)
#   NATS_TLS=1     TLS between every process and NATS (CA in $STATE/tls/ca.pem)
#   NATS_NODES=3   three nats-servers as a cluster, the processes spread over them
#   ADMIN_EMAILS   users with these emails get the admin role (GET /events)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
export STATE=${STATE_DIR:-$ROOT/.state}
export NATS_PORT=${NATS_PORT:-4222} PG_PORT=${PG_PORT:-5433} MONGO_PORT=${MONGO_PORT:-27018}
export HTTP_PORT=${HTTP_PORT:-8080}
export NORTHWIND_SQL=${NORTHWIND_SQL:-$ROOT/../shared/northwind/northwind.sql}
mkdir -p "$STATE"
source scripts/lib/stack.sh

if running nats-server && running AuthService && running CustomersService && running ProductsService \
    && running Gateway; then
    log "the system is already running (scripts/down.sh stops it)"
    exit 0
fi

scripts/install-deps.sh
log "building (release)..."
swift build -c release >&2
export BIN
BIN=$(swift build -c release --show-bin-path)

start_nats
start_postgres
start_docstore
start_services
start_gateway

cat <<TXT

The system is up: http://127.0.0.1:$HTTP_PORT (NATS: $(nats_url_for 0), $NATS_NODES node(s))
  curl -s -XPOST http://127.0.0.1:$HTTP_PORT/auth/register -H 'Content-Type: application/json' \\
       -d '{"username":"ann","email":"ann@example.com","password":"secret123"}'
  TOKEN=\$(curl -s -XPOST http://127.0.0.1:$HTTP_PORT/auth/login -H 'Content-Type: application/json' \\
       -d '{"email":"ann@example.com","password":"secret123"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  curl -s http://127.0.0.1:$HTTP_PORT/products/1 -H "Authorization: Bearer \$TOKEN"
Over NATS directly, as the admin NATS user (every process has its own NKey in $STATE/secrets):
  N="$BIN/natswire --server $(nats_url_for 0) --nkey $STATE/secrets/nats-admin.nk$([ "$NATS_TLS" = 1 ] && echo " --tls-ca $STATE/tls/ca.pem")"
  \$N micro ls
  \$N request products.findOneProduct '{"product_id":1}'
  \$N request auth.loginUser '{"email":"ann@example.com","password":"secret123"}'
Logs: $STATE/logs/   Stop: scripts/down.sh
TXT
