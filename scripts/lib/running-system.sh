# What a benchmark of the running system (scripts/up.sh) needs, in one place: its state
# folder and ports, the release binaries, the stack, CPU and load helpers, wrk, and a system
# that answers /ready. Sourced by such a script after `cd "$ROOT"`; sets URL.
#   STATE_DIR (.state)  HTTP_PORT (8080)  DURATION (8s)  BIN (the release build)
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
export STATE=${STATE_DIR:-$ROOT/.state}
export NATS_PORT=${NATS_PORT:-4222} PG_PORT=${PG_PORT:-5433} MONGO_PORT=${MONGO_PORT:-27018}
export HTTP_PORT=${HTTP_PORT:-8080}
DURATION=${DURATION:-8s}
URL="http://127.0.0.1:$HTTP_PORT"
export BIN=${BIN:-$(swift build -c release --show-bin-path)}
source scripts/lib/stack.sh
source scripts/lib/cpu.sh
source scripts/lib/load.sh
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
curl -sf "$URL/ready" >/dev/null || { echo "the system is not ready at $URL (run scripts/up.sh)" >&2; exit 1; }
# value LINE KEY: the number after "KEY=" in a line of key=value fields (wrk's, cpu_us's,
# the services API's counts).
value() { echo " $1 " | sed -n "s/.* $2=\([0-9]*\).*/\1/p"; }
