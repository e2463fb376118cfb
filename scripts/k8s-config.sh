#!/usr/bin/env bash
# Writes the Kubernetes Secrets (and, for the evaluation databases, a ConfigMap) the
# manifests in deploy/kubernetes need, as YAML on stdout:
#   natswire-nats-auth    auth.conf: one NKey user per process with least permissions,
#                         written by scripts/nats-auth-config.sh (the same as scripts/up.sh)
#   natswire-nats-nkeys   each process's NKey seed (nats-<process>.nk)
#   natswire-databases    the URLs the services connect with
# Seeds and passwords are made once and kept in SECRETS_DIR, so running it again keeps
# every identity.
#   usage: scripts/k8s-config.sh [--evaluation] > secrets.yaml
#          kubectl apply -f secrets.yaml && kubectl apply -k deploy/kubernetes/base
#   External databases (the default): AUTH_MONGO_URL, CUSTOMERS_DATABASE_URL,
#   PRODUCTS_DATABASE_URL. --evaluation points them at deploy/kubernetes/evaluation (one
#   PostgreSQL with Northwind, one MongoDB; POSTGRES_HOST and MONGO_HOST change the host
#   names) and adds their Secret and init ConfigMap.
#   SECRETS_DIR (.state/k8s-secrets)  NATSWIRE (the natswire binary; built if missing)
#   NAMESPACE (natswire)
#   FILES_DIR: also write the same values as files there, for deploy/compose.yaml:
#   nats-auth.conf, nats-<process>.nk, and <process>.env / postgres.env environment files.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
SECRETS=${SECRETS_DIR:-$ROOT/.state/k8s-secrets}
NAMESPACE=${NAMESPACE:-natswire}
EVALUATION=0
[ "${1:-}" = --evaluation ] && EVALUATION=1
if [ -z "${NATSWIRE:-}" ]; then
    NATSWIRE=$(swift build -c release --show-bin-path)/natswire
    [ -x "$NATSWIRE" ] || swift build -c release --product natswire >&2
fi
mkdir -p "$SECRETS"
chmod 700 "$SECRETS"

secret() {
    local file="$SECRETS/$1"
    [ -s "$file" ] || (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 >"$file")
    cat "$file"
}
b64() { base64 -w0; }
# secret_yaml NAME KEY=FILE... : a Secret whose keys hold the files' bytes.
secret_yaml() {
    local name=$1
    shift
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n  labels:\n    app.kubernetes.io/part-of: natswire\ntype: Opaque\ndata:\n' "$name" "$NAMESPACE"
    for pair in "$@"; do
        printf '  %s: %s\n' "${pair%%=*}" "$(b64 <"${pair#*=}")"
    done
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scripts/nats-auth-config.sh "$SECRETS" "$NATSWIRE" >"$work/auth.conf"
secret_yaml natswire-nats-auth "auth.conf=$work/auth.conf"
secret_yaml natswire-nats-nkeys \
    "nats-gateway.nk=$SECRETS/nats-gateway.nk" "nats-auth.nk=$SECRETS/nats-auth.nk" \
    "nats-customers.nk=$SECRETS/nats-customers.nk" "nats-products.nk=$SECRETS/nats-products.nk"

if [ "$EVALUATION" = 1 ]; then
    postgres_password=$(secret postgres-superuser)
    customers_password=$(secret customers-db)
    products_password=$(secret products-db)
    postgres_host=${POSTGRES_HOST:-postgres-0.postgres}
    AUTH_MONGO_URL=${AUTH_MONGO_URL:-mongodb://${MONGO_HOST:-mongodb-0.mongodb}:27017/auth}
    CUSTOMERS_DATABASE_URL=${CUSTOMERS_DATABASE_URL:-postgresql://customers_svc:$customers_password@$postgres_host:5432/northwind}
    PRODUCTS_DATABASE_URL=${PRODUCTS_DATABASE_URL:-postgresql://products_svc:$products_password@$postgres_host:5432/northwind}
    printf '%s' "$postgres_password" >"$work/postgres-password"
    printf '%s' "$customers_password" >"$work/customers-password"
    printf '%s' "$products_password" >"$work/products-password"
    secret_yaml natswire-postgres "postgres-password=$work/postgres-password" \
        "customers-password=$work/customers-password" "products-password=$work/products-password"
    # The evaluation PostgreSQL's first start (the postgres image runs these in order): the
    # project's Northwind fixtures, then the services' roles with the passwords above.
    cat >"$work/30-service-roles.sh" <<'SH'
#!/bin/sh
set -e
psql -v ON_ERROR_STOP=1 -U postgres -d northwind \
    -v customers_password="$CUSTOMERS_PASSWORD" -v products_password="$PRODUCTS_PASSWORD" \
    -f /docker-entrypoint-initdb.d/service-roles.sql.in
SH
    {
        printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: natswire-northwind\n  namespace: %s\n  labels:\n    app.kubernetes.io/part-of: natswire\ndata:\n' "$NAMESPACE"
        for pair in "10-northwind-schema.sql=Fixtures/northwind-schema.sql" \
            "20-northwind-seed.sql=Fixtures/northwind-seed.sql" \
            "service-roles.sql.in=Fixtures/service-roles.sql" "30-service-roles.sh=$work/30-service-roles.sh"; do
            printf '  %s: |\n' "${pair%%=*}"
            sed 's/^/    /' "${pair#*=}"
        done
    }
else
    for variable in AUTH_MONGO_URL CUSTOMERS_DATABASE_URL PRODUCTS_DATABASE_URL; do
        [ -n "${!variable:-}" ] || { echo "$variable is not set (or use --evaluation)" >&2; exit 2; }
    done
fi
printf '%s' "$AUTH_MONGO_URL" >"$work/auth-mongo-url"
printf '%s' "$CUSTOMERS_DATABASE_URL" >"$work/customers-database-url"
printf '%s' "$PRODUCTS_DATABASE_URL" >"$work/products-database-url"
secret_yaml natswire-databases "auth-mongo-url=$work/auth-mongo-url" \
    "customers-database-url=$work/customers-database-url" "products-database-url=$work/products-database-url"

if [ -n "${FILES_DIR:-}" ]; then
    mkdir -p "$FILES_DIR"
    chmod 700 "$FILES_DIR"
    (
        umask 077
        cp "$work/auth.conf" "$FILES_DIR/nats-auth.conf"
        for process in gateway auth customers products; do cp "$SECRETS/nats-$process.nk" "$FILES_DIR/"; done
        echo "MONGO_URL=$AUTH_MONGO_URL" >"$FILES_DIR/auth.env"
        echo "DATABASE_URL=$CUSTOMERS_DATABASE_URL" >"$FILES_DIR/customers.env"
        echo "DATABASE_URL=$PRODUCTS_DATABASE_URL" >"$FILES_DIR/products.env"
        if [ "$EVALUATION" = 1 ]; then
            printf 'POSTGRES_PASSWORD=%s\nCUSTOMERS_PASSWORD=%s\nPRODUCTS_PASSWORD=%s\n' \
                "$postgres_password" "$customers_password" "$products_password" >"$FILES_DIR/postgres.env"
            cp "$work/30-service-roles.sh" "$FILES_DIR/30-service-roles.sh"
        fi
    )
    # Readable by the containers' user (10001), which is not this one.
    chmod 755 "$FILES_DIR" && chmod 644 "$FILES_DIR"/*
fi
