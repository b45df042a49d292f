-- Appended to common.lua by scripts/bench/console.sh: web console pages (SPEC §12) drawn at random, per
-- CONSOLE_SCENARIO, over the history `trail-bench populate` writes, with the session cookie of CONSOLE_COOKIE.
wrk.method = "GET"
wrk.headers["Content-Type"] = nil
wrk.headers["Authorization"] = nil
wrk.headers["Cookie"] = os.getenv("CONSOLE_COOKIE")
local types = {"invoice", "user", "order", "document", "ticket", "payment", "project", "account", "contract", "shipment"}
local scenario = os.getenv("CONSOLE_SCENARIO") or "list"
local resources = tonumber(os.getenv("READ_RESOURCES") or "100000")
local eventIds = {}
if os.getenv("READ_EVENT_IDS") then
  for line in io.lines(os.getenv("READ_EVENT_IDS")) do table.insert(eventIds, line) end
end

request = function()
  local path
  if scenario == "health" then
    path = "/health"
  elseif scenario == "list" then
    path = "/ui/events"
  elseif scenario == "list-actor" then
    path = "/ui/events?actor=user-" .. math.random(0, 999)
  elseif scenario == "event" then
    path = "/ui/events/" .. eventIds[math.random(1, #eventIds)]
  elseif scenario == "resource" then
    local n = math.random(0, resources - 1)
    local t = types[(n % #types) + 1]
    path = "/ui/resources/" .. t .. "/" .. t .. "-" .. n
  elseif scenario == "actor" then
    path = "/ui/actors/user-" .. math.random(0, 999)
  elseif scenario == "summary" then
    path = "/ui/summary?days=1"
  else
    error("unknown CONSOLE_SCENARIO " .. scenario)
  end
  return wrk.format("GET", path)
end
