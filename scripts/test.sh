#!/usr/bin/env bash
# Runs every test: unit tests and the live suites, which start their own servers on
# loopback with free ports and stop them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
