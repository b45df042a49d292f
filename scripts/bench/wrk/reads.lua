-- Appended to common.lua by scripts/bench/reads.sh: GET requests drawn at random, per READ_SCENARIO, over the
-- history `trail-bench populate` writes (100,000 resources named <type>-<n>, actors user-0 … user-999).
wrk.method = "GET"
wrk.headers["Content-Type"] = nil
local types = {"invoice", "user", "order", "document", "ticket", "payment", "project", "account", "contract", "shipment"}
local actions = {"created", "updated", "approved", "exported", "deleted"}
local words = {"zebra", "late", "signature", "escalated finance", "discount", "emile", "duplicate request", "invoice 4242",
               "corrected", "goran"}
local scenario = os.getenv("READ_SCENARIO") or "history"
local resources = tonumber(os.getenv("READ_RESOURCES") or "100000")
-- Proof scenarios: the newest checkpoint's size, and a file of event ids (one per line) spread over the log.
local treeSize = tonumber(os.getenv("READ_TREE_SIZE") or "1")
local eventIds = {}
if os.getenv("READ_EVENT_IDS") then
  for line in io.lines(os.getenv("READ_EVENT_IDS")) do table.insert(eventIds, line) end
end

local function resource()
  local n = math.random(0, resources - 1)
  local t = types[(n % #types) + 1]
  return t, t .. "-" .. n
end

request = function()
  local path
  if scenario == "health" then
    path = "/health"
  elseif scenario == "history" then
    local t, id = resource()
    path = "/api/v1/resources/" .. t .. "/" .. id .. "/history"
  elseif scenario == "list-actor" then
    path = "/api/v1/audit/logs?actor=user-" .. math.random(0, 999)
  elseif scenario == "list-type-action" then
    path = "/api/v1/audit/logs?resource_type=" .. types[math.random(1, #types)] .. "&action=" .. actions[math.random(1, #actions)]
  elseif scenario == "list-recent" then
    path = "/api/v1/audit/logs?days=7&resource_type=" .. types[math.random(1, #types)]
  elseif scenario == "search" then
    path = "/api/v1/audit/logs?q=" .. string.gsub(words[math.random(1, #words)], " ", "%%20")
  elseif scenario == "proof-inclusion" then
    path = "/api/v1/integrity/proofs/inclusion/" .. eventIds[math.random(1, #eventIds)]
  elseif scenario == "proof-consistency" then
    path = "/api/v1/integrity/proofs/consistency?from=" .. math.random(1, treeSize)
  else
    error("unknown READ_SCENARIO " .. scenario)
  end
  return wrk.format("GET", path)
end
