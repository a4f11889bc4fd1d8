-- Generic wrk script for the Coffer benchmark, driven by environment variables so that one
-- file serves every scenario (headers come from -H on the command line):
--   BENCH_METHOD  GET | POST | PUT          BENCH_BODY  request body (optional)
--   BENCH_PATH    path template; "{n}" becomes a per-thread counter ("t3-17", unique names
--                 for secret set) and "{r}" a random integer below BENCH_RANDOM_MAX.
-- Constant requests are pre-built by wrk itself (no request() function), which keeps the
-- load generator's own CPU cost per request as low as wrk allows.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
end

local template = os.getenv("BENCH_PATH")
local random_max = tonumber(os.getenv("BENCH_RANDOM_MAX") or "1")
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
end

if template and (template:find("{n}", 1, true) or template:find("{r}", 1, true)) then
  local counter = 0
  function init()
    math.randomseed(os.time() + (tid or 0) * 7919)
  end
  function request()
    counter = counter + 1
    local path = template:gsub("{n}", "t" .. (tid or 0) .. "-" .. counter)
    path = path:gsub("{r}", tostring(math.random(0, random_max - 1)))
    return wrk.format(nil, path)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d non2xx=%d sock_errors=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
