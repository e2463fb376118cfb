# Functions that start and stop the system's parts. Sourced by up.sh and the benchmarks.
# Every process started here writes its pid to $STATE/<name>.pid and logs to
# $STATE/logs/<name>.log, so stopping ends exactly what was started.
#   STATE        state folder (data, logs, pids, generated secrets)
#   NATS_PORT PG_PORT MONGO_PORT    ports
#   BIN          folder of the built executables

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

log() { echo "[stack] $*" >&2; }

running() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

wait_port() {
    local port=$1 seconds=${2:-20}
    for _ in $(seq $((seconds * 10))); do
        (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# A secret generated on first start and kept in the state folder.
secret() {
    local file="$STATE/secrets/$1"
    mkdir -p "$STATE/secrets"
    chmod 700 "$STATE/secrets"
    [ -s "$file" ] || (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 >"$file")
    cat "$file"
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_nats() {
    mkdir -p "$STATE/logs"
    if running nats-server; then log "nats-server already running"; return; fi
    nats-server -a 127.0.0.1 -p "$NATS_PORT" -l "$STATE/logs/nats-server.log" -P "$STATE/nats-server.pid" \
        </dev/null >/dev/null 2>&1 &
    wait_port "$NATS_PORT" || { log "nats-server did not start; see $STATE/logs/nats-server.log"; return 1; }
    log "nats-server on nats://127.0.0.1:$NATS_PORT"
}

start_postgres() {
    local data="$STATE/postgres"
    mkdir -p "$STATE/logs"
    if [ -f "$data/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "PostgreSQL already running"
        return
    fi
    local fresh=0
    if [ ! -f "$data/PG_VERSION" ]; then
        mkdir -p "$data"
        [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$data"
        local pwfile="$data.pw"
        (umask 077 && secret postgres-superuser >"$pwfile")
        [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pwfile"
        as_postgres "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
            --pwfile="$pwfile" -E UTF8 >"$STATE/logs/initdb.log" 2>&1
        rm -f "$pwfile"
        fresh=1
    fi
    touch "$STATE/logs/postgres.log"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$STATE/logs/postgres.log"
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$STATE/logs/postgres.log" -w \
        -o "-p $PG_PORT -k $data -c listen_addresses=127.0.0.1" start >/dev/null
    if [ "$fresh" = 1 ]; then
        local psql=(as_postgres psql -h "$data" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q)
        "${psql[@]}" -d postgres -c "CREATE DATABASE northwind"
        if [ -f "$NORTHWIND_SQL" ]; then
            log "loading the canonical Northwind dump ($NORTHWIND_SQL)"
            "${psql[@]}" -d northwind -f "$NORTHWIND_SQL" >/dev/null
        else
            log "no canonical dump at $NORTHWIND_SQL: loading the project's fixtures"
            "${psql[@]}" -d northwind -f "$ROOT/Fixtures/northwind-schema.sql" >/dev/null
            "${psql[@]}" -d northwind -f "$ROOT/Fixtures/northwind-seed.sql" >/dev/null
        fi
        "${psql[@]}" -d northwind -v customers_password="$(secret customers-db)" \
            -v products_password="$(secret products-db)" -f "$ROOT/Fixtures/service-roles.sql" >/dev/null
    fi
    log "PostgreSQL on 127.0.0.1:$PG_PORT (database northwind)"
}

stop_postgres() {
    local data="$STATE/postgres"
    [ -f "$data/postmaster.pid" ] || return 0
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 && log "stopped PostgreSQL"
}

start_docstore() {
    mkdir -p "$STATE/logs" "$STATE/docstore"
    if running docstore; then log "document store already running"; return; fi
    "$STATE/venv/bin/secantusd-py" --host 127.0.0.1 --port "$MONGO_PORT" --storage-path "$STATE/docstore" \
        --standalone </dev/null >"$STATE/logs/docstore.log" 2>&1 &
    echo $! >"$STATE/docstore.pid"
    wait_port "$MONGO_PORT" 60 || { log "document store did not start; see $STATE/logs/docstore.log"; return 1; }
    log "document store (MongoDB protocol) on 127.0.0.1:$MONGO_PORT"
}

# start_service NAME [ENV=VALUE ...]: runs $BIN/NAME with the environment given.
start_service() {
    local name=$1
    shift
    if running "$name"; then log "$name already running"; return; fi
    env "$@" "$BIN/$name" </dev/null >"$STATE/logs/$name.log" 2>&1 &
    echo $! >"$STATE/$name.pid"
    for _ in $(seq 300); do
        grep -q "service ready" "$STATE/logs/$name.log" 2>/dev/null && { log "$name ready"; return 0; }
        running "$name" || break
        sleep 0.1
    done
    log "$name did not start; see $STATE/logs/$name.log"
    tail -5 "$STATE/logs/$name.log" >&2
    return 1
}

start_services() {
    local nats="nats://127.0.0.1:$NATS_PORT"
    start_service AuthService NATS_URL="$nats" MONGO_URL="mongodb://127.0.0.1:$MONGO_PORT/auth"
    start_service CustomersService NATS_URL="$nats" \
        DATABASE_URL="postgresql://customers_svc:$(secret customers-db)@127.0.0.1:$PG_PORT/northwind"
    start_service ProductsService NATS_URL="$nats" \
        DATABASE_URL="postgresql://products_svc:$(secret products-db)@127.0.0.1:$PG_PORT/northwind"
}

start_gateway() {
    start_service Gateway NATS_URL="nats://127.0.0.1:$NATS_PORT" HTTP_PORT="$HTTP_PORT"
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$HTTP_PORT/ready" >/dev/null 2>&1 && { log "gateway ready on http://127.0.0.1:$HTTP_PORT"; return 0; }
        sleep 0.1
    done
    log "the gateway is up but /ready does not say yes; see $STATE/logs/"
}

# Stops every process with a pid file (services first), then PostgreSQL.
stop_all() {
    for name in Gateway ProductsService CustomersService AuthService docstore nats-server; do
        local file="$STATE/$name.pid"
        [ -f "$file" ] || continue
        local pid
        pid=$(cat "$file")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
            log "stopped $name"
        fi
        rm -f "$file"
    done
    stop_postgres
}
