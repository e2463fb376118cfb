# Helpers of the HTTP load scripts (bench-gateway.sh, footprint.sh). Sourced after STATE,
# URL and PG_PORT are set.

# login_load_user NAME: registers a fresh user and logs in; exports EMAIL and TOKEN (the
# original scenario's Lua script reads both).
login_load_user() {
    EMAIL="$1$RANDOM$RANDOM@example.com"
    curl -s -XPOST "$URL/auth/register" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"email\":\"$EMAIL\",\"password\":\"secret123\"}" >/dev/null
    TOKEN=$(curl -s -XPOST "$URL/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$EMAIL\",\"password\":\"secret123\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
    export EMAIL TOKEN
}

# remove_load_products: deletes the products the scenario created and gives their ids back
# (product_id is a smallint), then vacuums what the run wrote, so that the next run does not
# meet autovacuum clearing tens of thousands of dead rows at a random moment (it did, and
# moved a run's PostgreSQL CPU by a third). Needs root (psql as the postgres user).
remove_load_products() {
    [ "$(id -u)" -eq 0 ] || return 0
    local table
    runuser -u postgres -- psql -h "$STATE/postgres" -p "$PG_PORT" -U postgres -d northwind -qAt \
        -c "DELETE FROM products WHERE product_name = 'wrk load test'" \
        -c "SELECT setval('products_product_id_seq', (SELECT max(product_id) FROM products))" >/dev/null || true
    for table in products products_outbox products_row_counts; do
        runuser -u postgres -- psql -h "$STATE/postgres" -p "$PG_PORT" -U postgres -d northwind -qAt \
            -c "VACUUM (ANALYZE) $table" >/dev/null 2>&1 || true
    done
}
