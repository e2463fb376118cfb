#!/usr/bin/env bash
# What a tool pays to publish one message: wall time from exec to exit and peak resident
# memory of `natswire pub` and `natswire bench --mode pub --msgs 1`, beside the nats.go and
# nats.c peer programs (../shared/bench/nats-peers, built here when go and libnats are
# installed) doing the same (connect, publish one 16-byte message, flush, exit). A private
# nats-server on a free port; RUNS runs of each, median and spread printed.
#   RUNS (21)  PEERS (../shared/bench/nats-peers)  BUILD (/tmp/nats-peers-build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
RUNS=${RUNS:-21}
PEERS=${PEERS:-$ROOT/../shared/bench/nats-peers}
BUILD=${BUILD:-/tmp/nats-peers-build}
BIN=${BIN:-$(swift build -c release --show-bin-path)}
[ -x "$BIN/natswire" ] || swift build -c release --product natswire >&2

mkdir -p "$BUILD"
if [ ! -x "$BUILD/natsbench-go" ] && command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/nats-io ]; then
    (cd "$PEERS/go" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$BUILD/gocache" GOFLAGS= \
        go build -o "$BUILD/natsbench-go" natsbench.go) >&2
fi
if [ ! -x "$BUILD/natsbench-c" ] && pkg-config --exists libnats 2>/dev/null; then
    gcc -O2 -o "$BUILD/natsbench-c" "$PEERS/c/natsbench.c" $(pkg-config --cflags --libs libnats) -lpthread >&2
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nats-server -a 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
URL="nats://127.0.0.1:$PORT"

# stats: median and min..max of the numbers on stdin (one per line).
stats() {
    sort -n | awk '{ v[NR] = $1 } END { printf "%s %s..%s", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# measure LABEL COMMAND...: RUNS runs; median and min..max of wall ms and peak RSS MiB.
measure() {
    local label=$1 out ms kb
    shift
    # Wall time from bash's clock around the command (no fork of its own; /usr/bin/time
    # reports 10 ms steps), peak memory from /usr/bin/time.
    out=$(for _ in $(seq "$RUNS"); do
        local start=$EPOCHREALTIME kb
        kb=$(/usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1)
        echo "$start $EPOCHREALTIME $kb"
    done)
    ms=$(echo "$out" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' | stats)
    kb=$(echo "$out" | awk '{ printf "%.1f\n", $3 / 1024 }' | stats)
    # shellcheck disable=SC2086
    printf '%-44s %8s %12s %10s %12s\n' "$label" ${ms} ${kb}
}

printf '%-44s %8s %12s %10s %12s\n' "program (one 16-byte publish)" "wall ms" "range" "peak MiB" "range"
measure "natswire pub" "$BIN/natswire" pub --server "$URL" bench xxxxxxxxxxxxxxxx
measure "natswire bench --mode pub --msgs 1" "$BIN/natswire" bench --url "$URL" --mode pub --msgs 1 --size 16
[ -x "$BUILD/natsbench-go" ] && measure "nats.go natsbench --mode pub --msgs 1" \
    "$BUILD/natsbench-go" --url "$URL" --mode pub --msgs 1 --size 16
[ -x "$BUILD/natsbench-c" ] && measure "nats.c natsbench --mode pub --msgs 1" \
    "$BUILD/natsbench-c" --url "$URL" --mode pub --msgs 1 --size 16
printf '%-44s %8s\n' "binary sizes (MiB): natswire" "$(awk -v b="$(stat -c %s "$BIN/natswire")" 'BEGIN { printf "%.1f", b / 1048576 }')"
[ -x "$BUILD/natsbench-go" ] && printf '%-44s %8s\n' "nats.go natsbench" \
    "$(awk -v b="$(stat -c %s "$BUILD/natsbench-go")" 'BEGIN { printf "%.1f", b / 1048576 }')"
exit 0
