-- Prepended by scripts/bench/writes.sh to every scenario: per-thread ids, JSON POSTs, and the summary line.
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
  prefix = "p" .. (os.getenv("BENCH_INSTANCE") or "0") .. "w" .. tid .. "-" .. os.time() .. "-"
  math.randomseed(tid * 7919 + os.time())
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("TRAIL_BENCH_AUTH")

-- requests/s, p50, p99 (ms) and errors, parsed by scripts/bench/writes.sh.
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT requests_per_s=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d errors=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests, errors))
end
