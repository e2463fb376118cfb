#!/usr/bin/env bash
# Runs every test: unit tests and the live suites, which start their own servers on
# loopback with free ports and stop them afterwards.
#
# A watchdog bounds the run (TEST_TIME_LIMIT seconds, 1500 by default; a green run takes
# about 6 minutes on 2 busy cores): a test that hangs ends the run with the names of the
# tests still running and the servers they left, instead of running until CI gives up.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
scripts/install-deps.sh --tests
swift build --build-tests

limit=${TEST_TIME_LIMIT:-1500}
log=$(mktemp /tmp/natswire-test-XXXXXX.log)
status=0
# `timeout` puts the run in its own process group and signals all of it on expiry.
timeout --kill-after=30 "$limit" swift test --skip-build "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo
    echo "test.sh: the tests did not finish within ${limit} s; still running when stopped:"
    scripts/lib/unfinished-tests.sh "$log" | sed 's/^/  /'
    echo "test.sh: servers the stopped tests left behind (now stopped):"
    scripts/lib/stop-test-servers.sh | sed 's/^/  /'
fi
rm -f "$log"
exit "$status"
