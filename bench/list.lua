-- Locations Sender list: GET the URL given to wrk on every request, as the registered eMSP.
-- BENCH_AUTHORIZATION: the `Authorization` header value ("Token <base64 token>").
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end
wrk.method = "GET"
