local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {0}
local message = 'inv ' .. (ARGV[3] or '')
for i, k in ipairs(KEYS) do
  local next = string.format('%.0f', math.max(tonumber(redis.call('GET', k) or '0') + 1, now))
  redis.call('SET', k, next, 'PX', ARGV[1])
  out[i + 1] = next
  message = message .. ' ' .. (ARGV[i + 3] or '') .. '=' .. next
end
if ARGV[2] and ARGV[2] ~= '' then
  out[1] = redis.call('PUBLISH', ARGV[2], message)
end
return out
