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

# NATS: NATS_NODES (1 or 3) servers; with 3, a cluster on loopback routes and the processes
# spread over the nodes. Every process connects as its own NKey user with only the
# permissions it needs (scripts/nats-auth-config.sh). NATS_TLS=1 turns TLS on between every
# process and NATS, with a CA and server certificate made once in $STATE/tls.
# NATS_AUTH=0 leaves NATS open (the services benchmark does, to measure the services alone).
NATS_NODES=${NATS_NODES:-1}
NATS_TLS=${NATS_TLS:-0}
NATS_AUTH=${NATS_AUTH:-1}

nats_scheme() { [ "$NATS_TLS" = 1 ] && echo tls || echo nats; }
nats_node_port() { echo $((NATS_PORT + $1)); }
nats_node_pidname() { [ "$1" -eq 0 ] && echo nats-server || echo "nats-server-$1"; }
# The URL a process uses: node (index mod NATS_NODES); the others are learned from INFO.
nats_url_for() { echo "$(nats_scheme)://127.0.0.1:$(nats_node_port $(($1 % NATS_NODES)))"; }

make_tls_certs() {
    local dir="$STATE/tls"
    [ -s "$dir/server.pem" ] && return
    mkdir -p "$dir"
    chmod 700 "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=NATSWire stack CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 3650 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
    log "TLS certificates in $dir (CA: $dir/ca.pem)"
}

write_nats_configs() {
    local dir="$STATE/nats"
    mkdir -p "$dir"
    if [ "$NATS_AUTH" = 1 ]; then
        "$ROOT/scripts/nats-auth-config.sh" "$STATE/secrets" "$BIN/natswire" >"$dir/auth.conf"
    else
        : >"$dir/auth.conf"
    fi
    if [ "$NATS_TLS" = 1 ]; then
        make_tls_certs
        printf 'tls {\n  cert_file: "%s"\n  key_file: "%s"\n  timeout: 2\n}\n' \
            "$STATE/tls/server.pem" "$STATE/tls/server.key" >"$dir/tls.conf"
    else
        : >"$dir/tls.conf"
    fi
    local i j routes
    for i in $(seq 0 $((NATS_NODES - 1))); do
        {
            echo "server_name: node$i"
            # JetStream keeps the services' domain events (stream EVENTS).
            printf 'jetstream { store_dir: "%s" }\n' "$STATE/nats/jetstream$i"
            echo "include ./auth.conf"
            echo "include ./tls.conf"
            if [ "$NATS_NODES" -gt 1 ]; then
                routes=""
                for j in $(seq 0 $((NATS_NODES - 1))); do
                    [ "$j" -eq "$i" ] && continue
                    routes="$routes${routes:+,} \"nats-route://127.0.0.1:$((NATS_CLUSTER_PORT + j))\""
                done
                printf 'cluster {\n  name: natswire\n  listen: "127.0.0.1:%s"\n  routes: [%s ]\n}\n' \
                    "$((NATS_CLUSTER_PORT + i))" "$routes"
            fi
        } >"$dir/node$i.conf"
    done
}

start_nats_node() {
    local i=$1 name port
    name=$(nats_node_pidname "$i")
    port=$(nats_node_port "$i")
    if running "$name"; then log "$name already running"; return; fi
    nats-server -c "$STATE/nats/node$i.conf" -a 127.0.0.1 -p "$port" -l "$STATE/logs/$name.log" \
        -P "$STATE/$name.pid" </dev/null >/dev/null 2>&1 &
    wait_port "$port" || { log "$name did not start; see $STATE/logs/$name.log"; return 1; }
    log "$name on $(nats_scheme)://127.0.0.1:$port"
}

start_nats() {
    mkdir -p "$STATE/logs"
    NATS_CLUSTER_PORT=${NATS_CLUSTER_PORT:-$((NATS_PORT + 2000))}
    write_nats_configs
    local i
    for i in $(seq 0 $((NATS_NODES - 1))); do start_nats_node "$i"; done
}

# The environment that connects process number INDEX as NATS user NAME.
nats_env() {
    local name=$1 index=$2
    echo "NATS_URL=$(nats_url_for "$index")"
    echo "NATS_INBOX_PREFIX=_INBOX.$name"
    [ "$NATS_AUTH" = 1 ] && echo "NATS_NKEY_SEED_FILE=$STATE/secrets/nats-$name.nk"
    [ "$NATS_TLS" = 1 ] && echo "NATS_TLS_CA=$STATE/tls/ca.pem"
    return 0
}

start_postgres() {
    local data="$STATE/postgres"
    mkdir -p "$STATE/logs"
    if [ -f "$data/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "PostgreSQL already running"
        apply_service_roles
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
    fi
    apply_service_roles
    log "PostgreSQL on 127.0.0.1:$PG_PORT (database northwind)"
}

# The services' roles and privileges (idempotent: a data folder made by an older version
# gets what the services need now).
apply_service_roles() {
    as_postgres psql -h "$STATE/postgres" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q -d northwind \
        -v customers_password="$(secret customers-db)" -v products_password="$(secret products-db)" \
        -f "$ROOT/Fixtures/service-roles.sql" >/dev/null
}

stop_postgres() {
    local data="$STATE/postgres"
    [ -f "$data/postmaster.pid" ] || return 0
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 && log "stopped PostgreSQL"
}

start_docstore() {
    mkdir -p "$STATE/logs" "$STATE/docstore"
    if running docstore; then log "document store already running"; return; fi
    "${DOCSTORE_VENV:-$ROOT/.state/venv}/bin/secantusd-py" --host 127.0.0.1 --port "$MONGO_PORT" --storage-path "$STATE/docstore" \
        --standalone </dev/null >"$STATE/logs/docstore.log" 2>&1 &
    echo $! >"$STATE/docstore.pid"
    wait_port "$MONGO_PORT" 60 || { log "document store did not start; see $STATE/logs/docstore.log"; return 1; }
    log "document store (MongoDB protocol) on 127.0.0.1:$MONGO_PORT"
}

# start_service NAME [ENV=VALUE ...]: runs $BIN/NAME with the environment given.
start_service() {
    local name=$1
    shift
    start_instance "$name" "$name" "$@"
}

# start_instance NAME EXECUTABLE [ENV=VALUE ...]: one more process of $BIN/EXECUTABLE, known
# (pid file, log) as NAME.
start_instance() {
    local name=$1 executable=$2
    shift 2
    if running "$name"; then log "$name already running"; return; fi
    local logfile="$STATE/logs/$name.log" before=0
    [ -f "$logfile" ] && before=$(wc -l <"$logfile")
    # Appended, so a restart keeps what the earlier run logged; only new lines say "ready".
    env "$@" "$BIN/$executable" </dev/null >>"$logfile" 2>&1 &
    echo $! >"$STATE/$name.pid"
    for _ in $(seq 300); do
        tail -n +$((before + 1)) "$logfile" 2>/dev/null | grep -q "service ready" && { log "$name ready"; return 0; }
        running "$name" || break
        sleep 0.1
    done
    log "$name did not start; see $STATE/logs/$name.log"
    tail -5 "$STATE/logs/$name.log" >&2
    return 1
}

start_services() {
    # shellcheck disable=SC2046
    start_service AuthService $(nats_env auth 1) MONGO_URL="mongodb://127.0.0.1:$MONGO_PORT/auth" \
        ADMIN_EMAILS="${ADMIN_EMAILS:-}"
    # shellcheck disable=SC2046
    start_service CustomersService $(nats_env customers 2) \
        DATABASE_URL="postgresql://customers_svc:$(secret customers-db)@127.0.0.1:$PG_PORT/northwind"
    # shellcheck disable=SC2046
    start_service ProductsService $(nats_env products 3) \
        DATABASE_URL="postgresql://products_svc:$(secret products-db)@127.0.0.1:$PG_PORT/northwind"
}

# A second ProductsService in the same queue group (the fault suite kills one of them).
start_products_replica() {
    # shellcheck disable=SC2046
    start_instance ProductsService-2 ProductsService $(nats_env products 4) \
        DATABASE_URL="postgresql://products_svc:$(secret products-db)@127.0.0.1:$PG_PORT/northwind"
}

start_gateway() {
    # shellcheck disable=SC2046
    start_service Gateway $(nats_env gateway 0) HTTP_PORT="$HTTP_PORT"
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$HTTP_PORT/ready" >/dev/null 2>&1 && { log "gateway ready on http://127.0.0.1:$HTTP_PORT"; return 0; }
        sleep 0.1
    done
    log "the gateway is up but /ready does not say yes; see $STATE/logs/"
}

# Stops every process with a pid file (services first), then PostgreSQL.
stop_all() {
    for name in Gateway ProductsService ProductsService-2 CustomersService AuthService docstore \
        nats-server nats-server-1 nats-server-2; do
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
