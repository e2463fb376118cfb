-- The original system's load scenario: log in once (per wrk thread: wrk's Lua has no
-- per-connection state), then loop over GET /products/findAll?page=1&limit=20,
-- GET /customers/findAll, POST /products/create and one unauthenticated request, which
-- must get 401. A wrong answer is any status other than 200, 201 and 401, or a 401 count
-- that does not match the unauthenticated requests.
local counter = 0
-- With STEADY=1 the token from TOKEN is used and the login burst is left out.
local token = nil
if os.getenv("STEADY") == "1" then token = os.getenv("TOKEN") end
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    wrong = 0
    shed = 0
    timed_out = 0
    unauthorized = 0
    sent_unauthenticated = 0
end

local email = os.getenv("EMAIL")

function request()
    if token == nil then
        return wrk.format("POST", "/auth/login", { ["Content-Type"] = "application/json" },
            '{"email":"' .. email .. '","password":"secret123"}')
    end
    counter = counter + 1
    local auth = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
    local step = counter % 4
    if step == 0 then
        return wrk.format("GET", "/products/findAll?page=1&limit=20", auth)
    elseif step == 1 then
        return wrk.format("GET", "/customers/findAll", auth)
    elseif step == 2 then
        return wrk.format("POST", "/products/create", auth, '{"product_name":"wrk load test","unit_price":1}')
    else
        sent_unauthenticated = sent_unauthenticated + 1
        return wrk.format("GET", "/products/findAll?page=1&limit=20")
    end
end

function response(status, headers, body)
    -- Refused at once (shed logins, 503) and too late (504) are counted apart, whichever
    -- request they answer: logins still in flight may answer after the token came.
    if status == 503 then shed = shed + 1 return end
    if status == 504 then timed_out = timed_out + 1 return end
    if token == nil then
        local found = body:match('"access_token":"([^"]+)"')
        if found then token = found else wrong = wrong + 1 end
        return
    end
    if status == 401 then
        unauthorized = unauthorized + 1
    elseif status ~= 200 and status ~= 201 then
        wrong = wrong + 1
    end
end

function done(summary, latency, requests)
    local bad, unauth, sent, shed_total, timeouts = 0, 0, 0, 0, 0
    for _, thread in ipairs(threads) do
        bad = bad + thread:get("wrong")
        shed_total = shed_total + thread:get("shed")
        timeouts = timeouts + thread:get("timed_out")
        unauth = unauth + thread:get("unauthorized")
        sent = sent + thread:get("sent_unauthenticated")
    end
    -- Requests still in flight at the end are sent but never answered: allow for them.
    local mismatch = math.max(0, sent - unauth - 200)
    io.write(string.format("requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f wrong=%d shed_503=%d timeout_504=%d unauthorized=%d socket_errors=%d\n",
        summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
        bad + mismatch, shed_total, timeouts, unauth,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
