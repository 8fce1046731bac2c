local t = redis.call('TIME')
local now = string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2]))
local out = {}
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if not v then
    redis.call('SET', k, now, 'NX', 'PX', ARGV[1])
    v = redis.call('GET', k)
  else
    redis.call('PEXPIRE', k, ARGV[1])
  end
  out[i] = v
end
return out
