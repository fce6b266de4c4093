package redis

// takeScript is ratelimit's Policy.take in Lua, step for step, run
// atomically by Redis. KEYS[1] is the key's hash (fields a, b, c: the
// counters; e: when the state is a fresh key's again, on the caller's
// clock). ARGV: algorithm (1 fixed window, 2 sliding window, 3 token
// bucket, 4 GCRA), now, cost, limit, window, burst; times in µs. Lua
// numbers are doubles: every value stays below 2^53 (the policy checks
// Burst × Window), and idiv divides integers exactly.
//
// It returns {allowed (0/1), remaining, reset µs, retry-after µs}.
const takeScript = `
local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end
local function ceildiv(a, b)
  if a <= 0 then return 0 end
  return idiv(a + b - 1, b)
end
local key = KEYS[1]
local alg = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local win = tonumber(ARGV[5])
local burst = tonumber(ARGV[6])
local v = redis.call('HMGET', key, 'a', 'b', 'c', 'e')
local a, b, c = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0
local fresh = v[4] == false or now >= tonumber(v[4])
local allowed, remaining, reset, retry, expires = 0, 0, 0, 0, 0
if alg == 1 then
  local start = now - (now - idiv(now, win) * win)
  if fresh or a ~= start then a, b = start, 0 end
  local stop = start + win
  if b + cost <= limit then b = b + cost; allowed = 1 else retry = stop - now end
  remaining = limit - b
  reset = stop - now
  expires = stop
elseif alg == 2 then
  local start = now - (now - idiv(now, win) * win)
  if fresh then
    a, b, c = start, 0, 0
  elseif a ~= start then
    if start - a == win then c = b else c = 0 end
    a, b = start, 0
  end
  local elapsed = now - start
  local weight = (win - elapsed) / win
  local used = c * weight + b
  if used + cost <= limit then
    b = b + cost
    used = used + cost
    allowed = 1
  else
    local room = limit - b - cost
    if room >= 0 and c > 0 then
      local at = win - math.floor(room * win / c)
      retry = math.max(1, at - elapsed)
    elseif cost > limit then
      retry = win - elapsed + win
    else
      local at = 0
      if b > 0 then at = math.max(0, win - math.floor((limit - cost) * win / b)) end
      retry = win - elapsed + at
    end
  end
  remaining = math.max(0, math.floor(limit - used))
  reset = win - elapsed
  expires = start + 2 * win
elseif alg == 3 then
  local capacity = burst * win
  if fresh then
    a, b = capacity, now
  else
    local elapsed = now - b
    if elapsed > 0 then
      if elapsed >= idiv(capacity - a + limit - 1, limit) then a = capacity else a = a + elapsed * limit end
      b = now
    end
  end
  local need = cost * win
  if a >= need then a = a - need; allowed = 1 else retry = ceildiv(need - a, limit) end
  remaining = idiv(a, win)
  reset = ceildiv(capacity - a, limit)
  expires = now + reset
else
  local interval = idiv(win, limit)
  local tolerance = burst * interval
  local tat = now
  if not fresh and a > now then tat = a end
  local nxt = tat + cost * interval
  if nxt - now <= tolerance then
    a = nxt
    tat = nxt
    allowed = 1
  else
    retry = nxt - now - tolerance
  end
  remaining = idiv(tolerance - (tat - now), interval)
  reset = tat - now
  expires = math.max(tat, now)
end
local f = function(x) return string.format('%.0f', x) end
redis.call('HSET', key, 'a', f(a), 'b', f(b), 'c', f(c), 'e', f(expires))
redis.call('PEXPIRE', key, math.max(1, ceildiv(expires - now, 1000)))
return {allowed, remaining, reset, retry}
`
