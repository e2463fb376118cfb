#!/usr/bin/env bash
# The system started from the Kubernetes manifests with `podman kube play`: builds the
# images (scripts/build-images.sh), starts PostgreSQL and the document store of a private
# stack on the host (the manifests' default: databases as external URLs) — or, with
# EVALUATION=1, plays the evaluation StatefulSets of PostgreSQL and MongoDB of
# deploy/kubernetes/evaluation as pods (stand-in images, deploy/stand-ins) — makes the
# manifests' secrets (scripts/k8s-config.sh), plays the NATS StatefulSet of
# deploy/kubernetes/base as its three pods on a network of their own (each with the DNS
# names the headless Service gives it, so the routes of the manifest's config join them into
# one cluster with JetStream), then the gateway's and services' Deployments (host network,
# secrets inline: scripts/lib/kube-play-variant.py, since podman 4.3 has no StatefulSet and
# fails on secret volumes). Then, as a user would: waits for /ready, registers, logs in,
# reads a product; plays a second ProductsService and shows both answer; kills one and shows
# reads keep working; kills a NATS node and shows reads keep working; removes everything it
# started.
#   PRIVATE_PORT_BASE (17000)  EVALUATION (0)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PRIVATE_PORT_BASE=${PRIVATE_PORT_BASE:-17000}
scripts/build-images.sh
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/deploy/podman/containers.conf}
IMAGE=${IMAGE:-localhost/natswire:latest}
source scripts/lib/private-stack.sh
source scripts/lib/smoke.sh
fail() {
    echo "container smoke: $*" >&2
    for container in $(podman ps -a --format '{{.Names}}' | grep -v infra); do
        echo "--- $container" >&2
        podman logs --tail 5 "$container" >&2 2>&1 || true
    done
    exit 1
}
played=()
NETWORK=natswire-smoke-$PRIVATE_PORT_BASE
cleanup() {
    for file in "${played[@]}"; do podman kube down "$file" >/dev/null 2>&1 || true; done
    podman network rm -f "$NETWORK" >/dev/null 2>&1 || true
}
trap 'cleanup; stop_all; rm -rf "$KEEP_LOGS"; cp -r "$STATE/logs" "$KEEP_LOGS"; rm -rf "$STATE"' EXIT

mkdir -p "$STATE/logs"
URL="http://127.0.0.1:$HTTP_PORT"
[ "$NATS_TLS" = 1 ] && fail "NATS_TLS=1 is not supported here"
# netavark with aardvark-dns gives a network's pods DNS names (podman recommends both); it
# needs iptables.
dpkg -s netavark aardvark-dns iptables >/dev/null 2>&1 || apt-get install -y -qq netavark aardvark-dns iptables >/dev/null
# kube-play-variant.py reads the manifests with PyYAML.
python3 -c 'import yaml' 2>/dev/null || pip install -q pyyaml
podman network rm -f "$NETWORK" >/dev/null 2>&1 || true
podman network create "$NETWORK" >/dev/null

# play_stateful MANIFEST IMAGE INDEX SECRETS_YAML: pod NAME-INDEX of the StatefulSet NAME in
# MANIFEST on the network, with the DNS names its headless Service gives it in Kubernetes
# (NAME-INDEX.NAME, NAME); sets `address` to its address.
play_stateful() {
    local manifest=$1 image=$2 index=$3 secrets=$4 name
    name=$(basename "$manifest" .yaml)
    python3 scripts/lib/kube-play-variant.py stateful-pod "$manifest" "$secrets" "$STATE/kube-pods" "$image" "$index" \
        >"$STATE/$name-$index.yaml"
    played+=("$STATE/$name-$index.yaml")
    podman kube play --network "$NETWORK:alias=$name-$index.$name,alias=$name" "$STATE/$name-$index.yaml" \
        >>"$STATE/logs/kube-play.log" 2>&1 || { tail -20 "$STATE/logs/kube-play.log" >&2; fail "kube play $name-$index failed"; }
    address=$(podman inspect "$name-$index-$name" --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')
}
# until SECONDS COMMAND...: runs COMMAND until it succeeds, for at most about SECONDS.
until_ok() {
    local tries=$(($1 * 5))
    shift
    for _ in $(seq "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}

if [ "${EVALUATION:-0}" = 1 ]; then
    # The evaluation databases of deploy/kubernetes/evaluation as their StatefulSets' pods
    # (stand-in images: no registry here); the services reach them by address.
    POSTGRES_IMAGE=${POSTGRES_IMAGE:-localhost/natswire-postgres:15}
    DOCSTORE_IMAGE=${DOCSTORE_IMAGE:-localhost/natswire-docstore:0.7.0b3}
    SECRETS_DIR="$STATE/secrets" NATSWIRE="$BIN/natswire" scripts/k8s-config.sh --evaluation >"$STATE/k8s-evaluation.yaml"
    play_stateful deploy/kubernetes/evaluation/postgres.yaml "$POSTGRES_IMAGE" 0 "$STATE/k8s-evaluation.yaml"
    postgres_address=$address
    play_stateful deploy/kubernetes/evaluation/mongodb.yaml "$DOCSTORE_IMAGE" 0 "$STATE/k8s-evaluation.yaml"
    mongodb_address=$address
    # The manifests' readiness probes, until they pass (the first start loads Northwind).
    until_ok 120 podman exec postgres-0-postgres pg_isready -U postgres -d northwind || fail "postgres-0 is not ready"
    until_ok 60 podman healthcheck run mongodb-0-mongodb || fail "mongodb-0 is not ready"
    until_ok 30 podman healthcheck run postgres-0-postgres || fail "postgres-0: its liveness probe fails"
    products=$(podman exec postgres-0-postgres psql -U postgres -d northwind -Atc "SELECT count(*) FROM products")
    echo "evaluation databases: postgres-0 ($postgres_address, Northwind loaded: $products products), mongodb-0 ($mongodb_address)"
    POSTGRES_HOST=$postgres_address MONGO_HOST=$mongodb_address SECRETS_DIR="$STATE/secrets" NATSWIRE="$BIN/natswire" \
        scripts/k8s-config.sh --evaluation >"$STATE/k8s-secrets.yaml"
else
    # The manifests' default: the databases as external URLs (a private stack's, on the host).
    start_postgres
    start_docstore
    AUTH_MONGO_URL="mongodb://127.0.0.1:$MONGO_PORT/auth" \
        CUSTOMERS_DATABASE_URL="postgresql://customers_svc:$(secret customers-db)@127.0.0.1:$PG_PORT/northwind" \
        PRODUCTS_DATABASE_URL="postgresql://products_svc:$(secret products-db)@127.0.0.1:$PG_PORT/northwind" \
        SECRETS_DIR="$STATE/secrets" NATSWIRE="$BIN/natswire" scripts/k8s-config.sh >"$STATE/k8s-secrets.yaml"
fi

# NATS: the StatefulSet's three pods. In Kubernetes each pod is nats-N.nats and all are nats
# (the headless Service); here network aliases give the same names.
NATS_IMAGE=${NATS_IMAGE:-localhost/natswire-nats:$(dpkg-query -W -f '${Version}' nats-server | sed 's/[-+].*//')}
nats_urls=()
for node in 0 1 2; do
    play_stateful deploy/kubernetes/base/nats.yaml "$NATS_IMAGE" "$node" "$STATE/k8s-secrets.yaml"
    nats_urls+=("nats://$address:4222")
done
# Each node healthy with JetStream (the manifest's probe) and routed to the two others.
for node in 0 1 2; do
    monitor="http://$(echo "${nats_urls[$node]}" | sed 's|nats://\(.*\):4222|\1|'):8222"
    for _ in $(seq 300); do
        curl -sf "$monitor/healthz?js-enabled-only=true" >/dev/null 2>&1 &&
            [ "$(curl -s "$monitor/routez" | grep -c '"remote_id"')" -ge 2 ] && break
        sleep 0.2
    done
    routes=$(curl -s "$monitor/routez" | grep -c '"remote_id"' || true)
    [ "$routes" -ge 2 ] || fail "nats-$node: not clustered ($routes routes)"
    podman healthcheck run "nats-$node-nats" >/dev/null 2>&1 || fail "nats-$node: its liveness probe fails"
done
NATS_URL=$(IFS=,; echo "${nats_urls[*]}")
echo "NATS cluster: 3 pods (${nats_urls[*]}), each routed to the other two, JetStream healthy"
NATSWIRE=("$BIN/natswire" --server "$NATS_URL" --nkey "$STATE/secrets/nats-admin.nk")

# A host path the container's user (10001) can read, in place of the secret volume.
mkdir -p "$STATE/kube-seeds"
cp "$STATE"/secrets/nats-{gateway,auth,customers,products}.nk "$STATE/kube-seeds/"
chmod 755 "$STATE/kube-seeds" && chmod 644 "$STATE"/kube-seeds/*.nk
variant() {
    python3 scripts/lib/kube-play-variant.py deploy/kubernetes/base "$STATE/k8s-secrets.yaml" \
        "$STATE/kube-seeds" "$IMAGE" "$NATS_URL" "$HTTP_PORT" "$@"
}
play() {
    local file=$1
    played+=("$file")
    podman kube play "$file" >>"$STATE/logs/kube-play.log" 2>&1 || { tail -20 "$STATE/logs/kube-play.log" >&2; fail "kube play $file failed"; }
}
variant >"$STATE/system.yaml"
play "$STATE/system.yaml"
echo "pods: $(podman pod ps --format '{{.Name}}' | tr '\n' ' ')"
wait_ready
register_and_login smoke
read_product() { curl -s -o /dev/null -w '%{http_code}' "$URL/products/1" -H "Authorization: Bearer $token"; }
status=$(read_product)
[ "$status" = 200 ] || fail "GET /products/1 answered $status: $(curl -s "$URL/products/1" -H "Authorization: Bearer $token")"
echo "ready; registered, logged in, read a product through the played Deployments"
# The manifests' liveness probes, as podman runs them (HEALTH_FILE for the services).
for container in $(podman ps --format '{{.Names}}' | grep -E '^(gateway|auth|customers|products)-pod-0-'); do
    podman healthcheck run "$container" >/dev/null 2>&1 || fail "$container: its liveness probe fails"
done
echo "liveness probes: every process healthy"

# A second ProductsService pod: both take requests (the services API counts per instance).
variant products --suffix -2 >"$STATE/products-2.yaml"
play "$STATE/products-2.yaml"
for _ in $(seq 100); do
    [ "$("${NATSWIRE[@]}" micro ping products 2>/dev/null | grep -c products || true)" -ge 2 ] && break
    sleep 0.2
done
for _ in $(seq 40); do read_product >/dev/null; done
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
echo "ProductsService pods: $instances (reads answered: $read_counts)"
[ "$answering" = 2 ] || fail "not both ProductsService pods answered"

# One of them dies: reads keep working on the other.
victim=$(podman ps --format '{{.Names}}' | grep '^products-pod' | grep -v infra | head -1)
podman kill "$victim" >/dev/null
failed=0
for _ in $(seq 40); do [ "$(read_product)" = 200 ] || failed=$((failed + 1)); done
echo "after killing $victim: $failed of 40 reads failed"
[ "$failed" = 0 ] || fail "reads failed after a pod was killed"
# A NATS node dies — the one most processes are connected to: they reconnect to the others.
busiest=0 most=-1
for node in 0 1 2; do
    monitor="http://$(echo "${nats_urls[$node]}" | sed 's|nats://\(.*\):4222|\1|'):8222"
    clients=$(curl -s "$monitor/connz" | sed -n 's/.*"num_connections": *\([0-9]*\).*/\1/p')
    [ "${clients:-0}" -gt "$most" ] && busiest=$node most=${clients:-0}
done
podman kill "nats-$busiest-nats" >/dev/null
failed=0
for _ in $(seq 40); do [ "$(read_product)" = 200 ] || failed=$((failed + 1)); done
echo "after killing NATS node nats-$busiest (its $most clients reconnect elsewhere): $failed of 40 reads failed"
[ "$failed" = 0 ] || fail "reads failed after a NATS node was killed"
echo "container smoke: ok"
