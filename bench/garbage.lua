-- wrk: a flood of distinct garbage credentials (client-token shaped, wrong checksum), one per request.
math.randomseed(os.time())
local hex = "0123456789abcdef"
request = function()
  local t = {}
  for i = 1, 72 do
    local n = math.random(1, 16)
    t[i] = hex:sub(n, n)
  end
  return wrk.format("GET", nil, {
    ["Authorization"] = "Bearer tsr_" .. table.concat(t),
    ["X-Forwarded-Uri"] = "/bench/x",
    ["X-Forwarded-Host"] = "romm",
  })
end
