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
 * Cache.acquireSlots: KEYS are sorted sets of holders scored by their expiry (ms). ARGV[1] the holder,
 * ARGV[2] now, ARGV[3] the new expiry (now + ttl), ARGV[4] the ttl (the sets' own PEXPIRE, so a set
 * nobody renews disappears), ARGV[4 + i] the limit of KEYS[i]. Every set is checked before any is
 * written, so the holder gets all its slots or none. Returns -1, or the 0-based index of a full set.
 * (Like INCR_COUNTERS, its keys are not hash-tagged: a Redis cluster would need them in one slot.)
 */
export const ACQUIRE_SLOTS = `
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2])
  if not redis.call('ZSCORE', key, ARGV[1]) and redis.call('ZCARD', key) >= tonumber(ARGV[4 + i]) then return i - 1 end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[3], ARGV[1])
  redis.call('PEXPIRE', key, ARGV[4])
end
return -1`;

/** Cache.renewSlots: ARGV[1] the holder, ARGV[2] the new expiry, ARGV[3] the ttl. */
export const RENEW_SLOTS = `
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[2], ARGV[1])
  redis.call('PEXPIRE', key, ARGV[3])
end
return 0`;

/** Cache.releaseSlots: ARGV[1] the holder. */
export const RELEASE_SLOTS = `
for _, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
return 0`;

/**
 * A bloom filter of two generations (see Cache.bloomAdd): KEYS[1] a hash { n, g }, KEYS[2] and
 * KEYS[3] the bitmaps of the even and odd generations. ARGV[1] TTL ms, ARGV[2] the request built by
 * bloomAddCall, ARGV[3] the capacity of a generation. Returns 'b' followed by one character per pair:
 * '1' when every bit of its mask was already set in the current generation's word (as the pairs
 * before it left it) or in the previous generation's, else '0'. (The 'b' keeps REST clients from
 * reading "1011" as a JSON number.) Word w is the big-endian 32-bit field at bit offset 32 * w
 * (BITFIELD `#w`; read and written as i32, the same bits as u32).
 *
 * The current generation is g = floor(n / capacity), n counting the pairs that changed a word of it;
 * g is fixed for the whole call. When it passes the newest generation the hash records (field g),
 * the bitmap it reuses, which held generation g - 2, is deleted first (both bitmaps when g jumped by
 * two or more, possible only with a capacity below a call's size, or moved back, after the capacity
 * was raised). So at most two generations are kept, and a busy filter's false-positive rate stays
 * that of at most 2 x capacity events. No state hash (expired, or evicted before its bitmaps): both
 * bitmaps are deleted, and the filter starts empty.
 *
 * ARGV[2] is a JSON array [d, "#w1", m1, ..., "#wd", md, r, m, ...]: the d distinct words of the call
 * (offsets already as BITFIELD strings) with the first mask for each, then every further pair on one
 * of those words as (its 1-based index among the d, mask). Masks are signed 32-bit, as bit.bor and
 * bit.band return them. Answers come in that order (bloomAddCall puts them back in the caller's), and
 * a pair sees its word as the pairs before it in the caller's order left it: pairs on different words
 * never interact, and a word's first pair comes before its repeats, which keep their order.
 *
 * BITFIELD calls: one GET per distinct word (and a second, on the previous generation, only when it
 * exists), one SET per pair that changes its word (a repeat writes the word again, BITFIELD applies
 * ops in order), split only past 4,800 arguments (1,600 GET or 1,200 SET ops: one call each for a
 * request of 1,000 events; Lua's unpack stops near 8,000).
 * About half of the script's Redis CPU is those calls' 7 arguments per event (each made a Redis
 * string, then freed) and the ops themselves, fixed for this layout; the script avoids the rest where
 * it can: offsets arrive as strings (a Lua number given to redis.call goes through printf("%.17g"),
 * and `'#' .. w` in Lua through "%.14g"), the values written are formatted with '%d', words are
 * indexed by position rather than in a table keyed by word, and no length operator (#t) runs per pair.
 * Against the script before those changes (cjson pairs, numbers to redis.call, tables keyed by word),
 * on Redis 7.0.15, 2 shared and noisy vCPUs, 300 calls of 1,000 pairs (words in [0, 2^19), 5-bit
 * masks) per round on a fresh key that they fill, medians of 5 runs of 7 rounds: evalsha 3,010 -> 1,710
 * us per call, BITFIELD 4 x 143 -> 2 x 264 us, redis-server CPU 2,910 -> 1,770 us; instructions
 * executed by redis-server (callgrind) 31.7 M -> 18.1 M, and 16.4 M -> 8.8 M for a batch sent again.
 * Reading the previous generation too costs a call about a fifth more: `npm run bench:bloom`, 1,000
 * new events a call, medians 2.29-2.39 ms from the second generation on, against 1.76-2.04 ms for the
 * single filter this layout replaced (whose false positives had reached 36% by its sixth million).
 */
export const BLOOM_ADD = `
local bor, band, format = bit.bor, bit.band, string.format
local function bitfield(key, ops, nops)
  if nops == 0 then return {} end
  if nops <= 4800 then return redis.call('BITFIELD', key, unpack(ops, 1, nops)) end
  local res, nres = {}, 0
  for i = 1, nops, 4800 do -- whole GET (3) and SET (4) ops per call
    local vals = redis.call('BITFIELD', key, unpack(ops, i, math.min(nops, i + 4799)))
    for k = 1, #vals do res[nres + k] = vals[k] end
    nres = nres + #vals
  end
  return res
end
local state = redis.call('HMGET', KEYS[1], 'n', 'g')
local count = tonumber(state[1]) or 0
local g = math.floor(count / tonumber(ARGV[3]))
local newest = tonumber(state[2])
if newest == nil then
  redis.call('DEL', KEYS[2], KEYS[3]) -- no state: no bitmap of an earlier life counts
elseif g == newest + 1 then
  redis.call('DEL', KEYS[2 + g % 2])
elseif g ~= newest then -- a jump of two or more, or back (a larger capacity since): start afresh
  redis.call('DEL', KEYS[2], KEYS[3])
end
local cur, prev = KEYS[2 + g % 2], KEYS[2 + (g + 1) % 2]
local req = cjson.decode(ARGV[2])
local d = req[1]
local n = (#req - 1) / 2
local ops = {}
for j = 1, d do
  ops[3 * j - 2] = 'GET'; ops[3 * j - 1] = 'i32'; ops[3 * j] = req[2 * j]
end
local words = bitfield(cur, ops, 3 * d)
local older = nil
if g > 0 and redis.call('EXISTS', prev) == 1 then older = bitfield(prev, ops, 3 * d) end
-- ops is reused for the SETs (only its first nops entries are sent)
local out, nops, added = {}, 0, 0
for j = 1, n do
  local w = j
  if j > d then w = req[2 * j] end
  local v = words[w]
  local m = req[2 * j + 1]
  local nv = bor(v, m)
  if nv == v then
    out[j] = '1'
  else
    words[w] = nv
    added = added + 1
    ops[nops + 1] = 'SET'; ops[nops + 2] = 'i32'; ops[nops + 3] = req[2 * w]; ops[nops + 4] = format('%d', nv)
    nops = nops + 4
    if older and band(older[w], m) == m then out[j] = '1' else out[j] = '0' end
  end
end
bitfield(cur, ops, nops)
redis.call('HSET', KEYS[1], 'n', format('%d', count + added), 'g', format('%d', g))
for k = 1, 3 do redis.call('PEXPIRE', KEYS[k], ARGV[1]) end
return 'b' .. table.concat(out)`;

/**
 * The keys of bloom filter `name` (see BLOOM_ADD): one hash tag around the name, so a Redis cluster
 * keeps the three in one slot, as a script needs.
 */
export function bloomKeys(name: string): [string, string, string] {
  const tagged = `{${name}}`;
  return [`${tagged}:state`, `${tagged}:0`, `${tagged}:1`];
}

/** One BLOOM_ADD call: its ARGV[2], and how to read its reply back in the entries' order. */
export interface BloomAddCall {
  arg: string;
  answers(reply: unknown): boolean[];
}

/** Builds the BLOOM_ADD argument for `entries` (see BLOOM_ADD): distinct words first, then repeats. */
export function bloomAddCall(entries: ReadonlyArray<{ word: number; mask: number }>): BloomAddCall {
  const n = entries.length;
  const index = new Map<number, number>(); // word -> 1-based position among the distinct words
  const distinct: Array<string | number> = [0];
  const repeats: number[] = [];
  const order: number[] = []; // order[k]: the entry the k-th answer belongs to
  const repeatOrder: number[] = [];
  for (let i = 0; i < n; i++) {
    const { word, mask } = entries[i]!;
    const d = index.get(word);
    if (d === undefined) {
      index.set(word, index.size + 1);
      distinct.push(`#${word}`, mask | 0);
      order.push(i);
    } else {
      repeats.push(d, mask | 0);
      repeatOrder.push(i);
    }
  }
  distinct[0] = index.size;
  for (const i of repeatOrder) order.push(i);
  return {
    arg: JSON.stringify(repeats.length ? distinct.concat(repeats) : distinct),
    answers(reply) {
      const s = String(reply);
      if (s.length !== n + 1 || s[0] !== 'b') throw new Error(`BLOOM_ADD: unexpected reply for ${n} entries`);
      const seen = new Array<boolean>(n);
      for (let k = 0; k < n; k++) seen[order[k]!] = s.charCodeAt(k + 1) === 49; // '1'
      return seen;
    },
  };
}
