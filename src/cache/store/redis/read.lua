local v = redis.call('GET', KEYS[1])
if not v then return false end
local a = string.find(v, '\n', 1, true)
if not a then return {0, v} end
local b = string.find(v, '\n', a + 1, true)
if not b then return {0, v} end
local current = 1
for tag, ver in string.gmatch(string.sub(v, a + 1, b - 1), '([^ =]+)=(%d+)') do
  -- A tag key that is gone (evicted, cleared) proves nothing: not current.
  if redis.call('GET', ARGV[1] .. tag) ~= ver then
    current = 0
    break
  end
end
return {current, v}
