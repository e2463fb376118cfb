#!/usr/bin/env bash
# Writes what deploy/compose.yaml reads into deploy/compose/generated (ignored by git): the
# NATS authorization, each process's NKey seed, the database URLs and passwords; the same
# values scripts/k8s-config.sh gives Kubernetes, for the compose file's host names.
#   usage: scripts/compose-config.sh && podman-compose -f deploy/compose.yaml up -d
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SECRETS_DIR=${SECRETS_DIR:-$ROOT/.state/compose-secrets}
FILES_DIR=$ROOT/deploy/compose/generated POSTGRES_HOST=postgres MONGO_HOST=mongodb \
    "$ROOT/scripts/k8s-config.sh" --evaluation >/dev/null
echo "wrote $ROOT/deploy/compose/generated"
