-- wrk script: posts ShapeWorld images to CaptionService, cycling through a list of files,
-- and prints one JSON line (prefixed "WRK_JSON ") with throughput, latency percentiles and errors.
--
--   wrk -t T -c C -d 10s -s load.lua http://127.0.0.1:PORT -- MODE LIST [TEXTS_FILE NTEXTS] [LIMIT_PER_THREAD DONE_PREFIX]
--
-- MODE: caption (raw image/png body to /caption) or score (multipart image + NTEXTS text fields
-- to /score), optionally followed by a query string sent with every request
-- ("caption?maxTokens=16&beams=8"). LIST: a file with one image path per line. TEXTS_FILE: one
-- text per line, taken in rotation. LIMIT_PER_THREAD: each thread stops after this many responses (0 = run for -d) and
-- then creates the file DONE_PREFIX<thread id>; the caller sends SIGINT once all exist, and wrk
-- reports as usual (wrk itself would wait out -d).
-- Any response other than 200 counts as an error; the first one's status and body are printed.
-- The JSON line also has percentiles of the answers' own timings.queueMs (the time each request
-- waited in the server's batch queues) and timings.captionQueueMs (of that, the wait for the first
-- decoder step once the image was encoded), each null when no answer had one, and answer_s: the
-- time of every successful answer, in seconds since the first thread started, in order (the
-- caller measures rates over whole bursts of answers from them, as the engine ceiling does).
-- latencies_ms: every successful answer's latency, measured here from the request's creation, when
-- each thread drives one connection (-t equal to -c), so that a response always belongs to the
-- thread's last request; null otherwise. wrk's own latency figures cannot stand in for them: wrk
-- adds synthetic samples for answers slower than twice its mean interval (its correction for
-- coordinated omission), and pools them all into one histogram.

-- LuaJIT's FFI reads the monotonic clock: Lua's os.time() counts whole seconds only.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } load_timespec;
int clock_gettime(int clock_id, load_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("load_timespec")
local function now()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
   return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("id", thread_count)
   table.insert(threads, thread)
end

local function read_file(path)
   local f = assert(io.open(path, "rb"), "cannot open " .. path)
   local data = f:read("*a")
   f:close()
   return data
end

local function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then table.insert(lines, line) end
   end
   assert(#lines > 0, "empty list " .. path)
   return lines
end

local requests = {}
local index = 0
local limit = 0
local done_prefix = ""
local responses = 0
ok = 0
errors = 0
first_error = ""
queue_ms = {}
caption_queue_ms = {}
answer_s = {}
started_s = 0
latency_ms = {}
-- When the last request went out (nil once answered); paired turns false if a second request
-- goes out before the first is answered: the thread drives more than one connection, or reconnected.
-- (Before the first answer that is allowed once: wrk calls the first thread's request() to check it
-- before any connection opens.)
local sent_s = nil
paired = true

function init(args)
   started_s = now()
   local mode, query = string.match(args[1], "^(%a+)(.*)$")
   local list = args[2]
   assert(mode == "caption" or mode == "score", "MODE must be caption or score, optionally followed by ?QUERY")
   local images = read_lines(list)
   local texts, ntexts = {}, 0
   if mode == "score" then
      texts = read_lines(args[3])
      ntexts = tonumber(args[4])
      assert(ntexts and ntexts >= 1, "NTEXTS must be >= 1")
      limit = tonumber(args[5] or "0")
      done_prefix = args[6] or ""
   else
      limit = tonumber(args[3] or "0")
      done_prefix = args[4] or ""
   end
   assert(limit == 0 or done_prefix ~= "", "LIMIT_PER_THREAD needs DONE_PREFIX")
   -- Threads start at different images.
   local t = 0
   for i, path in ipairs(images) do
      local png = read_file(path)
      if mode == "caption" then
         table.insert(requests, wrk.format("POST", "/caption" .. query, { ["Content-Type"] = "image/png" }, png))
      else
         local b = "----captionservice-bench-7d1f"
         local parts = { "--", b, "\r\n", 'Content-Disposition: form-data; name="image"; filename="world.png"\r\n',
            "Content-Type: image/png\r\n\r\n", png, "\r\n" }
         for k = 1, ntexts do
            t = t % #texts + 1
            table.insert(parts, "--" .. b .. '\r\nContent-Disposition: form-data; name="text"\r\n\r\n' .. texts[t] .. "\r\n")
         end
         table.insert(parts, "--" .. b .. "--\r\n")
         table.insert(requests, wrk.format("POST", "/score" .. query,
            { ["Content-Type"] = "multipart/form-data; boundary=" .. b }, table.concat(parts)))
      end
   end
   index = (id * 7919) % #requests
end

function request()
   if sent_s and responses > 0 then paired = false end
   sent_s = now()
   index = index % #requests + 1
   return requests[index]
end

function response(status, headers, body)
   responses = responses + 1
   local answered_s = now()
   if status == 200 then
      ok = ok + 1
      table.insert(answer_s, answered_s)
      if sent_s then table.insert(latency_ms, (answered_s - sent_s) * 1000) end
      local q = string.match(body or "", '"queueMs"%s*:%s*([%d%.eE+-]+)')
      if q then table.insert(queue_ms, tonumber(q)) end
      local c = string.match(body or "", '"captionQueueMs"%s*:%s*([%d%.eE+-]+)')
      if c then table.insert(caption_queue_ms, tonumber(c)) end
   else
      errors = errors + 1
      if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
   end
   sent_s = nil
   if limit > 0 and responses == limit then
      local f = assert(io.open(done_prefix .. id, "w"))
      f:close()
      wrk.thread:stop()
   end
end

local function json_string(s)
   return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
   local ok_total, err_total, first = 0, 0, ""
   local queued, caption_queued, answers, latencies, all_paired, start = {}, {}, {}, {}, true, math.huge
   for _, thread in ipairs(threads) do
      start = math.min(start, thread:get("started_s"))
      for _, v in ipairs(thread:get("answer_s") or {}) do table.insert(answers, v) end
      for _, v in ipairs(thread:get("queue_ms") or {}) do table.insert(queued, v) end
      for _, v in ipairs(thread:get("caption_queue_ms") or {}) do table.insert(caption_queued, v) end
      for _, v in ipairs(thread:get("latency_ms") or {}) do table.insert(latencies, string.format("%.3f", v)) end
      all_paired = all_paired and thread:get("paired")
      ok_total = ok_total + thread:get("ok")
      err_total = err_total + thread:get("errors")
      local fe = thread:get("first_error")
      if first == "" and fe ~= nil and fe ~= "" then first = fe end
   end
   local e = summary.errors
   local p = function(q) return latency:percentile(q) / 1000.0 end
   local percentiles = function(values)
      if #values == 0 then return "null" end
      table.sort(values)
      local rank = function(q) return values[math.max(1, math.min(#values, math.ceil(q / 100 * #values)))] end
      return string.format('{"n":%d,"p50":%.3f,"p99":%.3f,"max":%.3f}', #values, rank(50), rank(99), values[#values])
   end
   table.sort(answers)
   local times = {}
   for i, v in ipairs(answers) do times[i] = string.format("%.4f", v - start) end
   io.write(string.format(
      'WRK_JSON {"requests":%d,"ok":%d,"non_200":%d,"duration_s":%.6f,"bytes":%d,' ..
      '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"wrk_status_errors":%d,' ..
      '"latency_ms":{"min":%.3f,"mean":%.3f,"stdev":%.3f,"p50":%.3f,"p90":%.3f,"p95":%.3f,"p99":%.3f,"max":%.3f},' ..
      '"queue_ms":%s,"caption_queue_ms":%s,"answer_s":[%s],"latencies_ms":%s,"first_error":%s}\n',
      summary.requests, ok_total, err_total, summary.duration / 1e6, summary.bytes,
      e.connect, e.read, e.write, e.timeout, e.status,
      latency.min / 1000.0, latency.mean / 1000.0, latency.stdev / 1000.0, p(50), p(90), p(95), p(99),
      latency.max / 1000.0, percentiles(queued), percentiles(caption_queued), table.concat(times, ","),
      all_paired and "[" .. table.concat(latencies, ",") .. "]" or "null", json_string(first)))
end
