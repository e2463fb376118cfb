#!/usr/bin/env bash
# The memory a process takes before it does anything of ours: small probe programs built with
# the same toolchain and C libraries as the services, each started, read at its first idle
# moment (/proc/PID/status) and stopped. It shows the floor under issue 14's memory goal:
#   - a C program (libc only) and a C program that connects with Debian's libpq and runs one
#     query (libpq loads OpenSSL, GSSAPI/Kerberos, LDAP, SASL and gnutls);
#   - Swift programs: printing a string; with FoundationEssentials' JSONEncoder and a task
#     group (what every service uses); each linked against the shared Swift runtime and with
#     -static-stdlib;
#   - `natswire sub` connected and idle (NATSWire, no Foundation).
# Uses the running system's PostgreSQL and nats-server (scripts/up.sh; started if missing).
#   HTTP_PORT (8080)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
export STATE=${STATE_DIR:-$ROOT/.state}
PG_PORT=${PG_PORT:-5433}
NATS_PORT=${NATS_PORT:-4222}
curl -sf "http://127.0.0.1:${HTTP_PORT:-8080}/ready" >/dev/null || scripts/up.sh >&2
BIN=${BIN:-$(swift build -c release --show-bin-path)}
source scripts/lib/stack.sh
source scripts/lib/memory.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/c.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
int main(void) { printf("ready\n"); fflush(stdout); pause(); return 0; }
EOF
cat >"$work/pq.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
#include <libpq-fe.h>
int main(int argc, char **argv) {
    PGconn *connection = PQconnectdb(argc > 1 ? argv[1] : "");
    PGresult *result = PQexec(connection, "SELECT 1");
    if (PQresultStatus(result) != PGRES_TUPLES_OK) { fprintf(stderr, "%s", PQerrorMessage(connection)); return 1; }
    printf("ready\n"); fflush(stdout); pause(); return 0;
}
EOF
cat >"$work/hello.swift" <<'EOF'
import Glibc
print("ready \(CommandLine.arguments.count)")
fflush(stdout)
pause()
EOF
cat >"$work/essentials.swift" <<'EOF'
import FoundationEssentials
import Glibc
@main struct Probe {
    static func main() async throws {
        let json = try JSONEncoder().encode(["ready": 1])
        let sum = await withTaskGroup(of: Int.self) { group in
            for index in 0..<4 { group.addTask { index } }
            return await group.reduce(0, +)
        }
        print("ready \(json.count) \(sum)")
        fflush(stdout)
        pause()
    }
}
EOF
cc=$(command -v clang || command -v cc)
"$cc" -O2 "$work/c.c" -o "$work/c"
"$cc" -O2 "$work/pq.c" -I"$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)" -lpq -o "$work/pq"
# swift_probe OUTPUT SWIFTC-ARGS...: compiles a probe; its messages only if it fails (the
# static link warns about mktemp in FoundationEssentials).
swift_probe() {
    local output=$1
    shift
    swiftc -O "$@" -o "$work/$output" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
}
swift_probe hello "$work/hello.swift"
swift_probe hello-static -static-stdlib "$work/hello.swift"
swift_probe essentials -parse-as-library "$work/essentials.swift"
swift_probe essentials-static -parse-as-library -static-stdlib "$work/essentials.swift"

# probe LABEL READY-TEXT COMMAND...: runs COMMAND until it prints READY-TEXT, then prints its
# peak, anonymous and file-backed resident memory.
probe() {
    local label=$1 ready=$2
    shift 2
    "$@" >"$work/out" 2>&1 </dev/null &
    local pid=$!
    for _ in $(seq 200); do
        grep -q "$ready" "$work/out" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if grep -q "$ready" "$work/out" 2>/dev/null; then
        printf '%-44s %9s %9s %9s\n' "$label" "$(mib "$(status VmHWM "$pid")")" \
            "$(mib "$(status RssAnon "$pid")")" "$(mib "$(status RssFile "$pid")")"
    else
        printf '%-44s did not start: %s\n' "$label" "$(head -c 200 "$work/out")"
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

printf '%-44s %9s %9s %9s\n' program "peak MiB" "anon MiB" "file MiB"
probe "C, libc only" ready "$work/c"
probe "C, libpq connected, one query" ready "$work/pq" \
    "postgresql://products_svc:$(secret products-db)@127.0.0.1:$PG_PORT/northwind"
probe "Swift, print" ready "$work/hello"
probe "Swift, print, -static-stdlib" ready "$work/hello-static"
probe "Swift, FoundationEssentials JSON + tasks" ready "$work/essentials"
probe "the same, -static-stdlib" ready "$work/essentials-static"
natswire=("$BIN/natswire" --server "nats://127.0.0.1:$NATS_PORT")
[ -f "$STATE/secrets/nats-admin.nk" ] && natswire+=(--nkey "$STATE/secrets/nats-admin.nk")
probe "natswire sub, connected and idle" listening "${natswire[@]}" sub memory.floor
