-- POST /products/create with a bearer token from the TOKEN environment variable.
local token = os.getenv("TOKEN")
wrk.method = "POST"
wrk.path = "/products/create"
wrk.body = '{"product_name":"wrk load test","unit_price":1}'
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
dofile("scripts/wrk/report.lua")
