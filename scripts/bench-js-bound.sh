#!/usr/bin/env bash
# Who bounds the JetStream benchmarks: runs `natswire bench --mode jspub|jsfetch` and the nats.go
# peer program (../shared/bench/nats-peers, built by its run-all.sh into
# /tmp/nats-peers-build) against a fresh `nats-server -js` each, samples the server's and
# the client's CPU every 50 ms, and prints each one's share of a core during the timed phase
# (the last `seconds=` of the run; jsfetch stores its messages first, untimed).
#   MSGS (200000)  PAR (256)  ROUNDS (2)  GO_PEER (/tmp/nats-peers-build/natsbench-go)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
BIN=${BIN:-$(swift build -c release --show-bin-path)}
GO_PEER=${GO_PEER:-/tmp/nats-peers-build/natsbench-go}
MSGS=${MSGS:-200000}
PAR=${PAR:-256}
source scripts/lib/cpu.sh

# phase LABEL MODE COMMAND...: one run of COMMAND against a server of its own.
phase() {
    local label=$1 mode=$2
    shift 2
    local dir port server client
    dir=$(mktemp -d)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    nats-server -js -sd "$dir" -a 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
    "$@" --url "nats://127.0.0.1:$port" --mode "$mode" --msgs "$MSGS" --size 64 --par "$PAR" >"$dir/out" 2>&1 &
    client=$!
    while kill -0 "$client" 2>/dev/null; do
        echo "$(date +%s.%N) $(pid_ticks "$server") $(pid_ticks "$client")" >>"$dir/samples"
        sleep 0.05
    done
    wait "$client" || { echo "$label $mode failed: $(tail -1 "$dir/out")"; kill "$server"; return 1; }
    python3 - "$dir/samples" "$(tail -1 "$dir/out")" "$label" "$mode" "$CLK_TCK" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1]) if len(line.split()) == 3]
while len(rows) > 1 and int(rows[-1][2]) < int(rows[-2][2]):  # read after the client ended
    rows.pop()
fields = dict(part.split("=", 1) for part in sys.argv[2].split() if "=" in part)
seconds, tick = float(fields["seconds"]), int(sys.argv[5])
end = float(rows[-1][0])
first = min(rows, key=lambda row: abs(float(row[0]) - (end - seconds)))
span = end - float(first[0])
share = lambda column: 100 * (int(rows[-1][column]) - int(first[column])) / tick / span
print(f"{sys.argv[3]:<9} {sys.argv[4]:<8} {int(fields['msgs_per_sec']):>9} msgs/s   "
      f"nats-server {share(1):3.0f} % of a core   client {share(2):3.0f} %")
PY
    kill "$server"
    wait "$server" 2>/dev/null || true
    rm -rf "$dir"
}

for _ in $(seq "${ROUNDS:-2}"); do
    for mode in jspub jsfetch; do
        [ -x "$GO_PEER" ] && phase nats.go "$mode" "$GO_PEER"
        phase NATSWire "$mode" "$BIN/natswire" bench
    done
done
