#!/usr/bin/env bash
# Builds NATSWire's documentation (the DocC catalog Sources/Client/NATSWire/NATSWire.docc
# and every public symbol) into a static site with the toolchain's docc: no package plugin,
# so the package stays dependency-free. Prints where the site is and what is undocumented.
#   OUT (.build/docs/natswire)   HOSTING_BASE_PATH (none: serve OUT at the root)
#   PORT=8000 serves the site afterwards with python3 -m http.server.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
OUT=${OUT:-$ROOT/.build/docs/natswire}
SCRATCH=$ROOT/.build/docs/build
# Inside the build folder: the compiler writes the graphs only when it compiles, so they must
# live and go with the products they came from.
GRAPHS=$SCRATCH/symbol-graphs
mkdir -p "$GRAPHS"
# The client alone (no traits: nothing else resolved), in a build folder of its own so the
# symbol-graph flags do not invalidate the normal build.
swift build --scratch-path "$SCRATCH" --disable-default-traits --target NATSWire \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$GRAPHS" \
    -Xswiftc -symbol-graph-minimum-access-level -Xswiftc public \
    -Xswiftc -symbol-graph-skip-synthesized-members >&2
hosting=()
[ -n "${HOSTING_BASE_PATH:-}" ] && hosting=(--hosting-base-path "$HOSTING_BASE_PATH")
rm -rf "$OUT"
docc convert Sources/Client/NATSWire/NATSWire.docc \
    --additional-symbol-graph-dir "$GRAPHS" \
    --fallback-display-name NATSWire --fallback-bundle-identifier org.natswire.NATSWire \
    --transform-for-static-hosting "${hosting[@]}" \
    --experimental-documentation-coverage --coverage-summary-level brief \
    --output-path "$OUT" 2>&1 | tee "$ROOT/.build/docs/docc.log" >&2
echo "site: $OUT (open $OUT/documentation/natswire/index.html through a web server)"
if [ -n "${PORT:-}" ]; then
    echo "serving on http://127.0.0.1:$PORT/documentation/natswire/"
    exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$OUT"
fi
