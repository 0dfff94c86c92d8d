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
 * ORs masks into 32-bit words of the bitmap KEYS[1] and returns 'b' followed by one character per
 * pair: '1' when every bit of the mask was already set, else '0'. (The 'b' keeps REST clients from
 * reading "1011" as a JSON number.) With a KEYS[2] that exists, every pair answers '1' (the words are
 * still OR-ed). TTL ARGV[1] ms. Word w is the big-endian 32-bit field at bit offset 32 * w (BITFIELD
 * `#w`; read and written as i32, the same bits as u32).
 *
 * ARGV[2] is built by orWordsCall: a JSON array [d, "#w1", m1, ..., "#wd", md, r, m, ...]: the d
 * distinct words of the request (offsets already as BITFIELD strings) with the first mask for each,
 * then every further pair on one of those words as (its 1-based index among the d, mask). Masks are
 * signed 32-bit, as bit.bor returns them. Answers come in that order (orWordsCall puts them back in
 * the caller's), and a pair sees its word as the pairs before it in the caller's order left it: pairs
 * on different words never interact, and a word's first pair comes before its repeats, which keep
 * their order.
 *
 * Two BITFIELD calls (one GET per distinct word, one SET per pair that changes its word: a repeat
 * writes the word again, BITFIELD applies ops in order), split only past 4,800 arguments (1,600 GET
 * or 1,200 SET ops: one call each for a request of 1,000 events; Lua's unpack stops near 8,000).
 * About half of the script's Redis CPU is those calls' 7 arguments per event (each made a Redis
 * string, then freed) and the ops themselves, fixed for this layout; the script avoids the rest where
 * it can: offsets arrive as strings (a Lua number given to redis.call goes through printf("%.17g"),
 * and `'#' .. w` in Lua through "%.14g"), the values written are formatted with '%d', words are
 * indexed by position rather than in a table keyed by word, and no length operator (#t) runs per pair.
 * Against the previous script (cjson pairs, numbers to redis.call, tables keyed by word), on Redis
 * 7.0.15, 2 shared and noisy vCPUs, 300 calls of 1,000 pairs (words in [0, 2^19), 5-bit masks) per
 * round on a fresh key that they fill, medians of 5 runs of 7 rounds: evalsha 3,010 -> 1,710 us per call,
 * BITFIELD 4 x 143 -> 2 x 264 us, redis-server CPU 2,910 -> 1,770 us; instructions executed by
 * redis-server (callgrind) 31.7 M -> 18.1 M, and 16.4 M -> 8.8 M for a batch sent again.
 */
export const OR_WORDS = `
local bor, format = bit.bor, string.format
local function bitfield(ops, nops)
  if nops == 0 then return {} end
  if nops <= 4800 then return redis.call('BITFIELD', KEYS[1], unpack(ops, 1, nops)) end
  local res, nres = {}, 0
  for i = 1, nops, 4800 do -- whole GET (3) and SET (4) ops per call
    local vals = redis.call('BITFIELD', KEYS[1], unpack(ops, i, math.min(nops, i + 4799)))
    for k = 1, #vals do res[nres + k] = vals[k] end
    nres = nres + #vals
  end
  return res
end
local req = cjson.decode(ARGV[2])
local d = req[1]
local n = (#req - 1) / 2
local ops = {}
for j = 1, d do
  ops[3 * j - 2] = 'GET'; ops[3 * j - 1] = 'i32'; ops[3 * j] = req[2 * j]
end
local words = bitfield(ops, 3 * d)
-- ops is reused for the SETs (only its first nops entries are sent)
local out, nops = {}, 0
for j = 1, n do
  local w = j
  if j > d then w = req[2 * j] end
  local v = words[w]
  local nv = bor(v, req[2 * j + 1])
  if nv == v then
    out[j] = '1'
  else
    out[j] = '0'
    words[w] = nv
    ops[nops + 1] = 'SET'; ops[nops + 2] = 'i32'; ops[nops + 3] = req[2 * w]; ops[nops + 4] = format('%d', nv)
    nops = nops + 4
  end
end
bitfield(ops, nops)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then
  return 'b' .. string.rep('1', n)
end
return 'b' .. table.concat(out)`;

/** One OR_WORDS call: its ARGV[2], and how to read its reply back in the entries' order. */
export interface OrWordsCall {
  arg: string;
  answers(reply: unknown): boolean[];
}

/** Builds the OR_WORDS argument for `entries` (see OR_WORDS): distinct words first, then repeats. */
export function orWordsCall(entries: ReadonlyArray<{ word: number; mask: number }>): OrWordsCall {
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
      if (s.length !== n + 1 || s[0] !== 'b') throw new Error(`OR_WORDS: unexpected reply for ${n} entries`);
      const seen = new Array<boolean>(n);
      for (let k = 0; k < n; k++) seen[order[k]!] = s.charCodeAt(k + 1) === 49; // '1'
      return seen;
    },
  };
}
