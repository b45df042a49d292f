-- Batches of 1,000 object-style creates, each on a resource never seen before.
function request()
  counter = counter + 1
  local items = {}
  for i = 1, 1000 do
    items[i] = '{"actor":{"id":"12"},"verb":"create","object":{"id":"' .. prefix .. counter .. "-" .. i ..
      '","type":"item","sku":"SKU-' .. i .. '","qty":' .. i .. ',"price":9.5}}'
  end
  return wrk.format(nil, "/audit/activity-stream/", nil, "[" .. table.concat(items, ",") .. "]")
end
