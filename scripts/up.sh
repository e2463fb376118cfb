#!/usr/bin/env bash
# Brings the system up: installs what is missing, builds in release mode, starts
# nats-server (state in .state/), and shows NATSWire talking to it.
#   NATS_PORT  client port of the server (default 4222)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
STATE=${STATE_DIR:-$PWD/.state}
NATS_PORT=${NATS_PORT:-4222}
mkdir -p "$STATE"

scripts/install-deps.sh
echo "building (release)..." >&2
swift build -c release --product natswire >&2
BIN=$(swift build -c release --show-bin-path)/natswire

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if running "$STATE/nats-server.pid"; then
    echo "nats-server is already running (pid $(cat "$STATE/nats-server.pid")); scripts/down.sh stops it."
else
    nats-server -a 127.0.0.1 -p "$NATS_PORT" -l "$STATE/nats-server.log" -P "$STATE/nats-server.pid" &
    for _ in $(seq 50); do
        (exec 3<>/dev/tcp/127.0.0.1/"$NATS_PORT") 2>/dev/null && break
        sleep 0.1
    done
    running "$STATE/nats-server.pid" || { echo "nats-server did not start; see $STATE/nats-server.log" >&2; exit 1; }
fi
URL="nats://127.0.0.1:$NATS_PORT"

# A short demonstration: a responder answers one request.
"$BIN" --help >/dev/null
"$BIN" reply demo.hello "hello from NATSWire" --server "$URL" --count 1 >/dev/null 2>&1 &
sleep 0.3
"$BIN" request demo.hello "hi" --server "$URL"
wait

cat <<TXT

nats-server is up at $URL (pid $(cat "$STATE/nats-server.pid")).
Try:
  $BIN sub 'demo.>' --server $URL
  $BIN pub demo.greeting "hello" --server $URL
  $BIN bench --url $URL --mode reqpar --msgs 20000 --size 64
Stop everything with: scripts/down.sh
TXT
