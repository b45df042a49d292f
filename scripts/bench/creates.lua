-- Object-style single-event creates, each on a resource never seen before.
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
  prefix = "w" .. tid .. "-" .. os.time() .. "-"
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  counter = counter + 1
  local body = '{"actor":{"id":"12","name":"John"},"verb":"create","object":{"id":"' .. prefix .. counter ..
    '","type":"user","username":"johndoe","email":"john@example.com","age":21}}'
  return wrk.format(nil, "/audit/activity-stream/", nil, body)
end
