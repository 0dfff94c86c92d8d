/** Lua scripts shared by the TCP Redis and Upstash adapters: one command per call. */

/** Increments KEYS[i] by ARGV[i+1], setting the TTL ARGV[1] (ms) on keys it creates. */
export const INCR_COUNTERS = `
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('INCRBY', key, ARGV[i + 1])
  if v == tonumber(ARGV[i + 1]) then redis.call('PEXPIRE', key, ARGV[1]) end
  out[i] = v
end
return out`;

/** Sets bits ARGV[2..] of KEYS[1] with BITFIELD in chunks, returning the old bits; TTL ARGV[1] ms. */
export const SET_BITS = `
local out = {}
local n = #ARGV - 1
local i = 2
while i <= #ARGV do
  local args = {}
  local last = math.min(i + 499, #ARGV)
  for j = i, last do
    args[#args + 1] = 'SET'; args[#args + 1] = 'u1'; args[#args + 1] = ARGV[j]; args[#args + 1] = 1
  end
  local res = redis.call('BITFIELD', KEYS[1], unpack(args))
  for _, b in ipairs(res) do out[#out + 1] = b end
  i = last + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return out`;
