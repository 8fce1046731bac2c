-- wrk script: requests drawn from a Zipf distribution (s = 1) over every
-- /api/books/{id} (ZIPF_BOOKS of them) and /books?page=N (ZIPF_PAGES).
local books = tonumber(os.getenv("ZIPF_BOOKS") or "2000")
local pages = tonumber(os.getenv("ZIPF_PAGES") or "40")
local paths, cdf = {}, {}

function init(args)
  for i = 1, books do paths[#paths + 1] = "/api/books/" .. i end
  for n = 1, pages do paths[#paths + 1] = "/books?page=" .. n end
  -- Rank order shuffled with a fixed seed, so popularity is not id order.
  math.randomseed(42)
  for i = #paths, 2, -1 do
    local j = math.random(i)
    paths[i], paths[j] = paths[j], paths[i]
  end
  local total = 0
  for rank = 1, #paths do total = total + 1 / rank end
  local acc = 0
  for rank = 1, #paths do
    acc = acc + (1 / rank) / total
    cdf[rank] = acc
  end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  local u = math.random()
  local lo, hi = 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return wrk.format("GET", paths[lo])
end
