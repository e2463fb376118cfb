#!/usr/bin/env bash
# deploy/compose.yaml run here with podman-compose, as a user of compose would run it: builds
# the images (scripts/build-images.sh; NATS, PostgreSQL and MongoDB from the stand-ins of
# deploy/stand-ins, since no registry is reachable here), writes the configuration
# (scripts/compose-config.sh), `up -d`, waits for /ready, registers, logs in, reads a product
# and the customers, runs every service's health check, then `down -v` (containers and
# volumes removed).
#   GATEWAY_PORT (18080: beside a system started by scripts/up.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
scripts/build-images.sh >/dev/null
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/deploy/podman/containers.conf}
command -v podman-compose >/dev/null || pip install -q podman-compose
export GATEWAY_PORT=${GATEWAY_PORT:-18080}
export NATS_IMAGE=${NATS_IMAGE:-localhost/natswire-nats:$(dpkg-query -W -f '${Version}' nats-server | sed 's/[-+].*//')}
export POSTGRES_IMAGE=${POSTGRES_IMAGE:-localhost/natswire-postgres:15}
export MONGO_IMAGE=${MONGO_IMAGE:-localhost/natswire-docstore:0.7.0b3}
compose() { podman-compose -f deploy/compose.yaml "$@"; }
URL="http://127.0.0.1:$GATEWAY_PORT"
source scripts/lib/smoke.sh
fail() {
    echo "compose smoke: $*" >&2
    compose logs --tail 5 >&2 2>&1 || true
    exit 1
}
trap 'compose down -v >/dev/null 2>&1 || true' EXIT
scripts/compose-config.sh >/dev/null
compose down -v >/dev/null 2>&1 || true
compose up -d >"$ROOT/.state/compose-up.log" 2>&1 || { tail -20 "$ROOT/.state/compose-up.log" >&2; fail "up failed"; }
wait_ready
echo "up: $(podman ps --filter label=io.podman.compose.project=natswire --format '{{.Names}}' | tr '\n' ' ')"
register_and_login compose
for path in /products/1 /customers/findAll; do
    status=$(curl -s -o /dev/null -w '%{http_code}' "$URL$path" -H "Authorization: Bearer $token")
    [ "$status" = 200 ] || fail "GET $path answered $status"
done
echo "registered, logged in (MongoDB), read a product and the customers (PostgreSQL) through NATS"
# Health checks as compose defines them (podman runs them on a timer only under systemd).
for container in $(podman ps --filter label=io.podman.compose.project=natswire --format '{{.Names}}'); do
    for _ in $(seq 150); do podman healthcheck run "$container" >/dev/null 2>&1 && break; sleep 0.2; done
    podman healthcheck run "$container" >/dev/null 2>&1 || fail "$container: its health check fails"
done
echo "health checks: every container healthy"
echo "compose smoke: ok"
