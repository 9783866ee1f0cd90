-- Locations Sender list: GET the URL given to wrk on every request, as the registered eMSP.
-- BENCH_AUTHORIZATION: the `Authorization` header value ("Token <base64 token>").
-- BENCH_UNIQUE=1: append `&fresh=<n>` (ignored by the server) so that no two requests ask the same
-- query and every page is rendered afresh instead of answered from memory.
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end
wrk.method = "GET"

if os.getenv("BENCH_UNIQUE") == "1" then
  local n = 0
  local run = nil
  function request()
    if run == nil then
      -- Threads run in Lua states of their own: a random run id keeps their queries apart.
      math.randomseed(os.time() + math.floor(os.clock() * 1000000))
      run = math.random(1, 1000000000)
    end
    n = n + 1
    return wrk.format(nil, wrk.path .. "&fresh=" .. run .. "-" .. n)
  end
end
