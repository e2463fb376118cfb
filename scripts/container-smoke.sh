#!/usr/bin/env bash
# The system's processes in containers of its image: builds the image
# (scripts/build-images.sh), starts a private stack whose NATS, PostgreSQL and document store
# run on the host and whose gateway and services run in containers (host network), then, as a
# user would: waits for /ready, registers, logs in, reads a product; scales ProductsService to
# two containers and shows both answer; kills one container and shows reads keep working.
#   PRIVATE_PORT_BASE (17000)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PRIVATE_PORT_BASE=${PRIVATE_PORT_BASE:-17000}
scripts/build-images.sh
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/deploy/podman/containers.conf}
export CONTAINER_IMAGE=${IMAGE:-localhost/natswire:latest}
source scripts/lib/private-stack.sh
start_private_stack
URL="http://127.0.0.1:$HTTP_PORT"
NATSWIRE=("$BIN/natswire" --server "nats://127.0.0.1:$NATS_PORT" --nkey "$STATE/secrets/nats-admin.nk")
fail() { echo "container smoke: $*" >&2; exit 1; }

echo "containers: $(podman ps --format '{{.Names}}' | grep -c '^natswire-') running ($(podman ps --format '{{.Names}}' | tr '\n' ' '))"
curl -sf "$URL/ready" >/dev/null || fail "the gateway is not ready"
email="smoke$RANDOM@example.com"
status=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$URL/auth/register" -H 'Content-Type: application/json' \
    -d "{\"username\":\"smoke\",\"email\":\"$email\",\"password\":\"secret123\"}")
[ "$status" = 201 ] || fail "register answered $status"
token=$(curl -s -XPOST "$URL/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"secret123\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || fail "login gave no token"
read_product() { curl -s -o /dev/null -w '%{http_code}' "$URL/products/1" -H "Authorization: Bearer $token"; }
[ "$(read_product)" = 200 ] || fail "GET /products/1 failed"
echo "registered, logged in, read a product through the containers"

# Two ProductsService containers: both take requests (the services API counts per instance).
start_products_replica
for _ in $(seq 40); do read_product >/dev/null; done
# Per instance: how many reads its findOneProduct endpoint answered (one JSON document each).
read_counts=$("${NATSWIRE[@]}" micro stats products | python3 -c '
import json, sys
text, decoder, at, counts = sys.stdin.read(), json.JSONDecoder(), 0, []
while True:
    while at < len(text) and text[at].isspace(): at += 1
    if at >= len(text): break
    stats, at = decoder.raw_decode(text, at)
    counts += [e["num_requests"] for e in stats["endpoints"] if e["name"] == "findOneProduct"]
print(" ".join(map(str, counts)))')
instances=$(echo "$read_counts" | wc -w)
answering=$(echo "$read_counts" | tr ' ' '\n' | grep -c '^[1-9]' || true)
echo "ProductsService instances: $instances (reads answered: $read_counts)"
[ "$answering" = 2 ] || fail "not both ProductsService containers answered"

# One of them dies: reads keep working on the other.
podman kill natswire-ProductsService >/dev/null
failed=0
for _ in $(seq 40); do [ "$(read_product)" = 200 ] || failed=$((failed + 1)); done
echo "after killing one ProductsService container: $failed of 40 reads failed"
[ "$failed" = 0 ] || fail "reads failed after a container was killed"
echo "container smoke: ok"
