-- GET /products/1 with a bearer token from the TOKEN environment variable.
local token = os.getenv("TOKEN")
wrk.method = "GET"
wrk.path = "/products/1"
wrk.headers["Authorization"] = "Bearer " .. token
dofile("scripts/wrk/report.lua")
