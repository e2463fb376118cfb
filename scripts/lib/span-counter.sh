# The collector of the tracing benchmarks: scripts/lib/otlp-receiver.py counting the spans it
# is sent, its pid in $STATE/otlp-receiver.pid so that cpu.sh prints its CPU beside the
# system's. Sourced after stack.sh.
#   start_span_counter   starts it; sets RECEIVER_PORT
#   spans_counted        the spans it has received so far
#   stop_span_counter    stops it and removes its files

start_span_counter() {
    "$STATE/venv/bin/python" -c 'import opentelemetry.proto' 2>/dev/null ||
        "$STATE/venv/bin/pip" install -q opentelemetry-proto==1.45.2
    SPAN_COUNTS=$(mktemp)
    "$STATE/venv/bin/python" scripts/lib/otlp-receiver.py "$SPAN_COUNTS" --count-only >"$SPAN_COUNTS.log" 2>&1 &
    echo $! >"$STATE/otlp-receiver.pid"
    for _ in $(seq 100); do grep -q "listening on" "$SPAN_COUNTS.log" 2>/dev/null && break; sleep 0.1; done
    RECEIVER_PORT=$(sed -n 's/listening on //p' "$SPAN_COUNTS.log")
    [ -n "$RECEIVER_PORT" ] || { cat "$SPAN_COUNTS.log" >&2; return 1; }
}

spans_counted() {
    local count
    count=$(sed -n 's/.*"spans": \([0-9]*\).*/\1/p' "$SPAN_COUNTS" 2>/dev/null)
    echo "${count:-0}"
}

stop_span_counter() {
    [ -f "$STATE/otlp-receiver.pid" ] && kill "$(cat "$STATE/otlp-receiver.pid")" 2>/dev/null
    rm -f "$SPAN_COUNTS" "$SPAN_COUNTS.log" "$STATE/otlp-receiver.pid"
}
