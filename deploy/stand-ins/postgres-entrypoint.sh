#!/bin/bash
# The stand-in PostgreSQL's start: on an empty PGDATA, initdb with POSTGRES_PASSWORD as the
# superuser's, POSTGRES_DB created, then /docker-entrypoint-initdb.d/*.sql (run with psql in
# POSTGRES_DB) and *.sh (run) in name order, as the official image does; then the server,
# as the postgres user, listening on every address with password (scram) authentication.
set -euo pipefail
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "POSTGRES_PASSWORD is not set" >&2; exit 1; }
    password_file=$(mktemp)
    printf '%s' "$POSTGRES_PASSWORD" >"$password_file"
    initdb -D "$PGDATA" -U postgres --pwfile="$password_file" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 >/dev/null
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    # Local socket only while initializing: nobody connects before it is done.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    database=${POSTGRES_DB:-postgres}
    [ "$database" = postgres ] || psql -v ON_ERROR_STOP=1 -U postgres -qc "CREATE DATABASE \"$database\""
    for file in /docker-entrypoint-initdb.d/*; do
        case "$file" in
            *.sql) echo "running $file"; psql -v ON_ERROR_STOP=1 -U postgres -d "$database" -q -f "$file" ;;
            *.sh) echo "running $file"; bash "$file" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "PostgreSQL initialized"
fi
[ "${1:-postgres}" = postgres ] && shift || true
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
