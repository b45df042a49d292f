-- Object-style single-event updates spread over 1,000 resources (each update changes a field).
function request()
  counter = counter + 1
  local body = '{"actor":{"id":"12"},"verb":"update","object":{"id":"acct-' .. math.random(1, 1000) ..
    '","type":"account","balance":' .. counter .. ',"status":"active","owner":{"name":"Acme","tier":' .. (counter % 5) .. '}}}'
  return wrk.format(nil, "/audit/activity-stream/", nil, body)
end
