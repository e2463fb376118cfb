-- POST /products/create with a bearer token from the TOKEN environment variable.
local token = os.getenv("TOKEN")
wrk.method = "POST"
wrk.path = "/products/create"
wrk.body = '{"product_name":"wrk load test","unit_price":1}'
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"

local wrong = 0
function response(status, headers, body)
    if status ~= 201 and status ~= 200 then wrong = wrong + 1 end
end

function done(summary, latency, requests)
    io.write(string.format("requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f errors=%d\n",
        summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
        + summary.errors.status))
end
