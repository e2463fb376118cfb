-- The result line every simple load script prints (loaded with dofile by them; the
-- benchmark scripts run wrk from the project's root). Errors include every status >= 400.
function done(summary, latency, requests)
    io.write(string.format("requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f errors=%d\n",
        summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
        + summary.errors.status))
end
