#!/usr/bin/env bash
# Coverage-guided fuzzing of NATSWire's protocol parser with libFuzzer (Swift's
# -sanitize=fuzzer, plus AddressSanitizer), for a fixed number of inputs. Not part of the
# normal tests. Crashing inputs land in .state/fuzz/; copy them to
# Tests/NATSWireTests/FuzzRegressions/ so the normal tests replay them for good.
#   usage: scripts/fuzz.sh [RUNS (default 500000)] [extra libFuzzer flags...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
RUNS=${1:-500000}
shift || true
OUT="$ROOT/.state/fuzz"
mkdir -p "$OUT/corpus"
swift build --build-path .build-fuzz -c debug --product NATSWireFuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DNATSWIRE_FUZZ >&2
BIN=$(swift build --build-path .build-fuzz -c debug --show-bin-path)
# Seeds: well-formed streams and every regression found so far.
"$BIN/NATSWireFuzz" -runs="$RUNS" -max_len=2048 -timeout=10 -artifact_prefix="$OUT/" -print_final_stats=1 \
    "$@" "$OUT/corpus" "$ROOT/Tests/NATSWireTests/FuzzSeeds" "$ROOT/Tests/NATSWireTests/FuzzRegressions"
