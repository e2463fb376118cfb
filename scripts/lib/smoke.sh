# What the smoke scripts (container-smoke.sh, compose-smoke.sh) do as a user would, in one
# place. Needs URL and a `fail MESSAGE` function.

# wait_ready: waits (at most about a minute) until the gateway at $URL says it is ready.
wait_ready() {
    for _ in $(seq 300); do curl -sf "$URL/ready" >/dev/null 2>&1 && return 0; sleep 0.2; done
    curl -s "$URL/ready" >&2
    fail "the gateway at $URL is not ready"
}

# register_and_login NAME: registers a fresh user (201 expected) and logs in; sets `token`.
register_and_login() {
    local email="$1$RANDOM@example.com" status
    status=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$URL/auth/register" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"email\":\"$email\",\"password\":\"secret123\"}")
    [ "$status" = 201 ] || fail "register answered $status"
    token=$(curl -s -XPOST "$URL/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"secret123\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [ -n "$token" ] || fail "login gave no token"
}
