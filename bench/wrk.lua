-- One wrk script for every scenario; bench/run.py passes its settings in BENCH_* variables.
-- get:   GET BENCH_PATH with the bearer token.
-- vote:  POST /vote/ over BENCH_VOTE_POSTS, split between threads: a pass of adds, then a pass
--        of removes, and so on. Each post comes round again only after the whole set, so an
--        add has long finished when its remove is sent, and every answer is a 201.
--        With BENCH_VOTE_FILE (lines "token post_id"), each line is one voter on one post, sent
--        with its own token, in the same passes (bench/viral.py: many users on one post).
-- create: POST /posts/ with a small JSON body.
-- login: POST /login with BENCH_LOGIN_BODY.
-- post:  POST BENCH_BODY (JSON) to BENCH_PATH with the bearer token (a new comment each time);
--        without them, a small post to /posts/ (bench/feed.py: a post's cost to its author).
-- BENCH_HEADER, if set ("Name: value"), is sent with every get.
-- done() prints one line, "BENCH {json}", that bench/run.py reads.

local mode = os.getenv("BENCH_MODE") or "get"
local path = os.getenv("BENCH_PATH") or "/"
local token = os.getenv("BENCH_TOKEN") or ""
local headers = {}
local posts = {}
local tokens = {}
local counter = 0
local primed = false
local threads_started = 0

function setup(thread)
  thread:set("thread_number", threads_started)
  threads_started = threads_started + 1
end

function init(args)
  if token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  local extra = os.getenv("BENCH_HEADER") or ""
  local name, value = string.match(extra, "^([^:]+):%s*(.*)$")
  if name then
    headers[name] = value
  end
  if mode == "vote" then
    headers["Content-Type"] = "application/json"
    local all, all_tokens = {}, {}
    local file = os.getenv("BENCH_VOTE_FILE") or ""
    if file ~= "" then
      for line in io.lines(file) do
        local voter, id = string.match(line, "^(%S+) (%d+)$")
        all_tokens[#all_tokens + 1] = voter
        all[#all + 1] = id
      end
    else
      for id in string.gmatch(os.getenv("BENCH_VOTE_POSTS") or "", "%d+") do
        all[#all + 1] = id
      end
    end
    local threads = tonumber(os.getenv("BENCH_THREADS"))
    for i, id in ipairs(all) do
      if (i - 1) % threads == thread_number then
        posts[#posts + 1] = id
        tokens[#posts] = all_tokens[i]
      end
    end
  elseif mode == "create" then
    headers["Content-Type"] = "application/json"
  elseif mode == "login" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  elseif mode == "post" then
    headers["Content-Type"] = "application/json"
  end
end

function request()
  if mode == "vote" and not primed then
    -- wrk may build a thread's first request and throw it away: let that be a harmless GET,
    -- so that no vote's add is lost and its remove never answered 404.
    primed = true
    return wrk.format("GET", "/")
  end
  if mode == "vote" then
    local i = counter % #posts + 1
    local dir = (math.floor(counter / #posts) % 2 == 0) and 1 or 0
    counter = counter + 1
    if tokens[i] then
      headers["Authorization"] = "Bearer " .. tokens[i]
    end
    return wrk.format("POST", "/vote/", headers, string.format('{"post_id": %s, "dir": %d}', posts[i], dir))
  elseif mode == "create" then
    return wrk.format("POST", "/posts/", headers, '{"title": "bench", "content": "a post from the bench"}')
  elseif mode == "login" then
    return wrk.format("POST", "/login", headers, os.getenv("BENCH_LOGIN_BODY"))
  elseif mode == "post" then
    if os.getenv("BENCH_BODY") then
      return wrk.format("POST", path, headers, os.getenv("BENCH_BODY"))
    end
    return wrk.format("POST", "/posts/", headers, '{"title": "bench", "content": "a post from wrk"}')
  end
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, "errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
