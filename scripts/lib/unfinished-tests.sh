#!/usr/bin/env bash
# Prints the tests a `swift test` log shows started and not ended (passed, failed or
# skipped): what a hung run was waiting on.
set -euo pipefail
awk '
    /^◇ Test case / || /^◇ Test run started/ { next }
    /^◇ Test .* started\.$/ {
        name = $0; sub(/^◇ Test /, "", name); sub(/ started\.$/, "", name)
        running[name]++; order[++n] = name; next
    }
    /^(✔|✘|➜) Test / && / (passed|failed|skipped)/ {
        if ($0 ~ /^(✔|✘|➜) Test case /) next
        name = $0; sub(/^(✔|✘|➜) Test /, "", name)
        sub(/ (passed|failed|skipped).*$/, "", name)
        sub(/ with [0-9]+ test cases?$/, "", name)
        if (running[name] > 0) running[name]--
    }
    END { for (i = 1; i <= n; i++) if (running[order[i]] > 0) { print order[i]; running[order[i]] = 0 } }
' "$1"
