-- wrk driver of bench/lib/wrk.ts. Arguments after `--`: METHOD TOKENS_FILE|- THREADS.
-- Each thread walks the token list from its own offset; requests are formatted once.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local method = args[1] or "GET"
  local file = args[2] or "-"
  local stride = tonumber(args[3] or "1")
  requests = {}
  if file == "-" then
    requests[1] = wrk.format(method, nil)
  else
    local tokens = {}
    for line in io.lines(file) do tokens[#tokens + 1] = line end
    -- This thread's share: every stride-th token from its own offset.
    for k = id + 1, #tokens, stride do
      requests[#requests + 1] = wrk.format(method, nil, { Authorization = "Bearer " .. tokens[k] })
    end
  end
  next_request = 0
  statuses = {}
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency)
  local by_status = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do parts[#parts + 1] = string.format('"%d":%d', status, count) end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"by_status":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, table.concat(parts, ",")))
end
