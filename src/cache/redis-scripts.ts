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

/**
 * Sets the bits listed in ARGV[2] (a JSON array of offsets, one argument however many) of KEYS[1]
 * and returns their old values; TTL ARGV[1] ms. One argument keeps the client from serialising
 * thousands of them per request.
 */
export const SET_BITS = `
local offsets = cjson.decode(ARGV[2])
local out = {}
for i, o in ipairs(offsets) do
  out[i] = redis.call('SETBIT', KEYS[1], o, 1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return out`;
