-- wrk script for `uring-bench lookup --client wrk`: random page lists like our
-- load generator's and a JSON line of the results at the end. wrk counts
-- non-2xx answers itself; it cannot tie an answer to its request, so our own
-- client is the one that checks each checksum (a response() hook would also
-- slow wrk down by handing every body to Lua).
local keys = tonumber(os.getenv("LOOKUP_KEYS") or "8")
local pages = tonumber(os.getenv("LOOKUP_PAGES") or "65536")

request = function()
  local t = {}
  for i = 1, keys do t[i] = tostring(math.random(0, pages - 1)) end
  return wrk.format("GET", "/lookup?pages=" .. table.concat(t, ","))
end

done = function(summary, latency, requests)
  io.write(string.format(
    'WRK {"requests":%d,"us":%d,"errors":%d,"p50":%d,"p99":%d,"p999":%d,"mean":%f}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.mean))
end
