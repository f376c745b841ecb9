-- wrk script for bench/ingest.py: replays pre-signed requests, one unique reply id each.
-- INGEST_FILE lines: "<path>\t<timestamp>\t<signature>\t<json body>"; each thread takes every
-- n-th line so no two requests carry the same reply id.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("INGEST_THREADS"))
  items = {}
  local i = 0
  for line in io.lines(os.getenv("INGEST_FILE")) do
    if i % nthreads == id then
      local path, stamp, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      table.insert(items, {path, stamp, sig, body})
    end
    i = i + 1
  end
  next_item = 1
  acked = 0
  refused = 0
  exhausted = 0
end

function request()
  local item = items[next_item]
  if item == nil then
    exhausted = exhausted + 1
    item = items[#items]
  else
    next_item = next_item + 1
  end
  local headers = {["Content-Type"] = "application/json"}
  if item[3] ~= "" then
    headers["X-Engage-Timestamp"] = item[2]
    headers["X-Engage-Signature"] = item[3]
  end
  return wrk.format("POST", item[1], headers, item[4])
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    acked = acked + 1
  else
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local acked_total, refused_total, exhausted_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    acked_total = acked_total + thread:get("acked")
    refused_total = refused_total + thread:get("refused")
    exhausted_total = exhausted_total + thread:get("exhausted")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "acked": %d, "refused": %d, "exhausted": %d, ' ..
    '"errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, acked_total, refused_total, exhausted_total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
