#!/usr/bin/env bash
# Builds the container image of the system (deploy/Containerfile) with podman, from the
# release binaries, on a base made here from Debian's packages (mmdebstrap, then
# `podman import`: no registry needed), and prints the image sizes. Then checks that every
# executable starts in the image (its --help).
# Also builds the NATS image the container smoke plays the NATS StatefulSet with
# (deploy/Containerfile.nats: Debian's nats-server; with a registry, the manifests' own), and
# stand-ins for the evaluation PostgreSQL and MongoDB (deploy/stand-ins).
#   IMAGE (localhost/natswire:latest)  BASE_IMAGE (localhost/natswire-base:bookworm)
#   NATS_IMAGE (localhost/natswire-nats:<the nats-server package's version>)
#   REBUILD_BASE=1 makes the base again.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
IMAGE=${IMAGE:-localhost/natswire:latest}
BASE_IMAGE=${BASE_IMAGE:-localhost/natswire-base:bookworm}
WORK="$ROOT/.state/images"
EXECUTABLES="Gateway AuthService CustomersService ProductsService natswire"
# The runtime libraries the binaries need, and what apt needs to install nothing more.
PACKAGES="ca-certificates libpq5 libmongoc-1.0-0 libssl3 libstdc++6 libicu72 libffi8"
mkdir -p "$WORK"

need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need podman podman
need runc runc
need strip binutils
need mmdebstrap mmdebstrap
# A build step's network (netavark) needs iptables, which a minimal Debian lacks.
need iptables iptables
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/deploy/podman/containers.conf}

# 1. The base: Debian bookworm, minimal, with the runtime libraries. Same packages and the
#    same SOURCE_DATE_EPOCH give the same tree.
if [ -n "${REBUILD_BASE:-}" ] || ! podman image exists "$BASE_IMAGE"; then
    echo "making the base image $BASE_IMAGE (mmdebstrap)" >&2
    SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600} mmdebstrap --quiet --variant=minbase \
        --include="$(echo $PACKAGES | tr ' ' ',')" \
        --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/usr/share/doc/* "$1"/usr/share/man/*' \
        bookworm "$WORK/base.tar" http://deb.debian.org/debian
    podman import --quiet "$WORK/base.tar" "$BASE_IMAGE" >/dev/null
    rm -f "$WORK/base.tar"
fi

# 2. The binaries (release) and the Swift runtime they link, stripped of debug symbols.
swift build -c release >&2
BIN=$(swift build -c release --show-bin-path)
CONTEXT="$WORK/context"
rm -rf "$CONTEXT" && mkdir -p "$CONTEXT/bin" "$CONTEXT/swift-runtime"
for executable in $EXECUTABLES; do
    strip -o "$CONTEXT/bin/$executable" "$BIN/$executable"
    ldd "$BIN/$executable" | awk '$3 ~ /^\/opt\/swift\// { print $3 }'
done | sort -u | while read -r library; do
    strip -o "$CONTEXT/swift-runtime/$(basename "$library")" "$library"
done

# 3. The image.
podman build --quiet --format docker --build-arg BASE="$BASE_IMAGE" --build-arg PACKAGES="$PACKAGES" \
    -t "$IMAGE" -f deploy/Containerfile "$CONTEXT" >/dev/null

# 3b. NATS for playing the manifests here (no registry): Debian's nats-server on the base.
need nats-server nats-server
NATS_VERSION=$(dpkg-query -W -f '${Version}' nats-server | sed 's/[-+].*//')
NATS_IMAGE=${NATS_IMAGE:-localhost/natswire-nats:$NATS_VERSION}
rm -rf "$WORK/nats" && mkdir -p "$WORK/nats"
cp "$(command -v nats-server)" "$WORK/nats/"
podman build --quiet --format docker --network host --build-arg BASE="$BASE_IMAGE" -t "$NATS_IMAGE" \
    -f deploy/Containerfile.nats "$WORK/nats" >/dev/null
podman run --rm "$NATS_IMAGE" --version >/dev/null || { echo "nats-server does not start in $NATS_IMAGE" >&2; exit 1; }

# 3c. Stand-ins for the evaluation databases of deploy/kubernetes/evaluation and
#     deploy/compose.yaml (their registry images are out of reach here): Debian's PostgreSQL 15
#     with the official image's start-up interface, and SecantusDB for MongoDB's protocol.
POSTGRES_IMAGE=${POSTGRES_IMAGE:-localhost/natswire-postgres:15}
DOCSTORE_IMAGE=${DOCSTORE_IMAGE:-localhost/natswire-docstore:0.7.0b3}
podman build --quiet --format docker --network host --build-arg BASE="$BASE_IMAGE" -t "$POSTGRES_IMAGE" \
    -f deploy/stand-ins/Containerfile.postgres deploy/stand-ins >/dev/null
podman build --quiet --format docker --network host --build-arg BASE="$BASE_IMAGE" -t "$DOCSTORE_IMAGE" \
    --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt \
    -f deploy/stand-ins/Containerfile.docstore deploy/stand-ins >/dev/null

# 4. Every executable starts in it, as its non-root user.
for executable in $EXECUTABLES; do
    podman run --rm "$IMAGE" "$executable" --help >/dev/null \
        || { echo "$executable does not start in $IMAGE" >&2; exit 1; }
done
[ "$(podman run --rm "$IMAGE" sh -c 'id -u')" = 10001 ] || { echo "the image runs as root" >&2; exit 1; }

echo "images:"
podman images --format '  {{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "natswire(-base|-nats|-postgres|-docstore)?:" || true
echo "in the image: binaries $(du -sh "$CONTEXT/bin" | cut -f1), Swift runtime $(du -sh "$CONTEXT/swift-runtime" | cut -f1)"
