-- EVSE status PATCH on the eMSP's Locations Receiver, as the registered CPO.
--
-- BENCH_AUTHORIZATION  `Authorization` header value ("Token <base64 token>")
-- BENCH_TARGETS        file of `cc/pid/location_id/evse_uid` lines, one per EVSE
-- BENCH_T0             epoch seconds of the first last_updated this run sends
-- BENCH_THREADS        wrk thread count (the targets are split between the threads)
--
-- Each thread PATCHes its own slice of the EVSEs round-robin; its n-th request carries last_updated
-- BENCH_T0 + n seconds, so every EVSE sees strictly increasing timestamps (no stale PATCH).
-- Responses other than 200 and replies saying "Not applied" (stale) are counted and printed by done().

local prefix = "/ocpi/2.2.1/receiver/locations/"
local statuses = { "CHARGING", "AVAILABLE", "BLOCKED", "RESERVED" }
local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local all = {}
  for line in io.lines(os.getenv("BENCH_TARGETS")) do
    if line ~= "" then
      all[#all + 1] = line
    end
  end
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local first = math.floor(#all * thread_index / nthreads) + 1
  local last = math.floor(#all * (thread_index + 1) / nthreads)
  targets = {}
  for i = first, last do
    targets[#targets + 1] = all[i]
  end
  t0 = tonumber(os.getenv("BENCH_T0"))
  n = 0
  stale = 0
  failed = 0
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = os.getenv("BENCH_AUTHORIZATION") }
end

function request()
  local target = targets[(n % #targets) + 1]
  local stamp = os.date("!%Y-%m-%dT%H:%M:%SZ", t0 + n)
  local body = string.format('{"status":"%s","last_updated":"%s"}', statuses[(n % #statuses) + 1], stamp)
  n = n + 1
  return wrk.format("PATCH", prefix .. target, headers, body)
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  elseif string.find(body, "Not applied", 1, true) then
    stale = stale + 1
  end
end

function done(summary, latency, requests)
  local total_stale, total_failed, sent = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_stale = total_stale + thread:get("stale")
    total_failed = total_failed + thread:get("failed")
    sent = sent + thread:get("n")
  end
  io.write(string.format('BENCH_JSON {"stale": %d, "failed": %d, "sent": %d}\n', total_stale, total_failed, sent))
end
