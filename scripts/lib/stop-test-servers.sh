#!/usr/bin/env bash
# Stops what tests start and a stopped test run cannot stop itself: PostgreSQL clusters
# (pg_ctl detaches them), nats-servers and document stores in the temporary folder, and the
# service processes built for the tests. Prints each before stopping it; leaves a system
# started by scripts/up.sh (its state is in .state/) alone.
set -uo pipefail
tmp=${TMPDIR:-/tmp}
for pattern in "postgres -D $tmp/pg-" "nats-server .*-l $tmp/natswire-test-" "secantusd-py .*--storage-path $tmp/docstore-" \
    "/debug/(Gateway|AuthService|CustomersService|ProductsService|natswire)( |$)" "NATSWirePackageTests.xctest"; do
    pgrep -af -- "$pattern" | grep -v "pgrep\|stop-test-servers" || true
    pkill -KILL -f -- "$pattern" 2>/dev/null || true
done
