-- wrk script for bench/scale.sh: every request a different one, so no
-- answer cache can serve it. SCALE_MODE picks the kind; the bounds come
-- from the database being measured:
--   logs_offset        /logs?offset=<0..4999>
--   logs_level         /logs?level=<one of five>&offset=<0..4999>
--   logs_before_id     /logs?before_id=<a log id>
--   updates_symbol     /recent-updates?symbol=S<1..assets>
--   updates_before_id  /recent-updates?before_id=<an update id>
--   cycles_before_id   /cycles?before_id=<a cycle id>
--   log_search         /logs?q=S<1..assets>:  (a symbol's log lines)
local mode = os.getenv("SCALE_MODE") or "logs_offset"
local assets = tonumber(os.getenv("SCALE_ASSETS") or "1")
local log_lo = tonumber(os.getenv("SCALE_LOG_MIN") or "1")
local log_hi = tonumber(os.getenv("SCALE_LOG_MAX") or "1")
local upd_lo = tonumber(os.getenv("SCALE_UPD_MIN") or "1")
local upd_hi = tonumber(os.getenv("SCALE_UPD_MAX") or "1")
local cyc_hi = tonumber(os.getenv("SCALE_CYCLES") or "1")
local levels = { "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL" }
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0))
end

request = function()
  local p
  if mode == "logs_offset" then
    p = "/api/fetcher/logs?limit=100&offset=" .. math.random(0, 4999)
  elseif mode == "logs_level" then
    p = "/api/fetcher/logs?limit=100&level=" .. levels[math.random(1, 5)] .. "&offset=" .. math.random(0, 4999)
  elseif mode == "logs_before_id" then
    p = "/api/fetcher/logs?limit=100&before_id=" .. math.random(log_lo, log_hi)
  elseif mode == "updates_symbol" then
    p = "/api/fetcher/recent-updates?symbol=S" .. math.random(1, assets)
  elseif mode == "updates_before_id" then
    p = "/api/fetcher/recent-updates?before_id=" .. math.random(upd_lo, upd_hi)
  elseif mode == "cycles_before_id" then
    p = "/api/fetcher/cycles?before_id=" .. math.random(2, cyc_hi)
  elseif mode == "log_search" then
    p = "/api/fetcher/logs?limit=100&q=S" .. math.random(1, assets) .. ":"
  else
    error("unknown SCALE_MODE " .. mode)
  end
  return wrk.format(nil, p)
end
