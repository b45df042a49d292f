-- Object-style single-event creates, each on a resource never seen before.
function request()
  counter = counter + 1
  local body = '{"actor":{"id":"12","name":"John"},"verb":"create","object":{"id":"' .. prefix .. counter ..
    '","type":"user","username":"johndoe","email":"john@example.com","age":21}}'
  return wrk.format(nil, "/audit/activity-stream/", nil, body)
end
