/**
 * A mergeable quantile sketch with relative-error guarantees (DDSketch's logarithmic mapping):
 * a positive value v falls in bucket i = ceil(log_g(v)) with g = (1 + a) / (1 - a), and bucket i is
 * represented by 2 g^i / (g + 1), which is within a relative error a of every value in the bucket.
 * So any quantile read from the sketch is within a of the exact value at that rank, at every
 * resolution, because merging adds bucket counts and loses nothing.
 *
 * Encoding (jsonb in metric_rollups.sketch): {"p<i>": n} for v > 0, {"n<i>": n} for v < 0 (bucket of
 * |v|), {"z": n} for |v| <= MIN_MAGNITUDE. The same mapping is computed in SQL by the rollup job
 * (SKETCH_KEY_SQL) and here; both must stay identical.
 */
export const SKETCH_ALPHA = 0.005;
export const SKETCH_GAMMA = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA);
const LN_GAMMA = Math.log(SKETCH_GAMMA);
export const MIN_MAGNITUDE = 1e-9;

export type Sketch = Record<string, number>;

/** The bucket key of a value, as SQL computes it in SKETCH_KEY_SQL. */
export function sketchKey(v: number): string {
  if (v > MIN_MAGNITUDE) return `p${Math.ceil(Math.log(v) / LN_GAMMA)}`;
  if (v < -MIN_MAGNITUDE) return `n${Math.ceil(Math.log(-v) / LN_GAMMA)}`;
  return 'z';
}

/** SQL expression for the bucket key of column `col` (must match sketchKey). */
export const SKETCH_KEY_SQL = (col: string) =>
  `case when ${col} > ${MIN_MAGNITUDE} then 'p' || ceil(ln(${col}) / ${LN_GAMMA})::int
        when ${col} < -${MIN_MAGNITUDE} then 'n' || ceil(ln(-${col}) / ${LN_GAMMA})::int
        else 'z' end`;

export function addToSketch(sketch: Sketch, value: number, count = 1): Sketch {
  const k = sketchKey(value);
  sketch[k] = (sketch[k] ?? 0) + count;
  return sketch;
}

export function mergeSketches(into: Sketch, from: Sketch): Sketch {
  for (const k in from) into[k] = (into[k] ?? 0) + from[k]!;
  return into;
}

export function sketchCount(sketch: Sketch): number {
  let n = 0;
  for (const k in sketch) n += sketch[k]!;
  return n;
}

/**
 * Buckets as numbers in value order, for merging and reading quantiles without key strings:
 * p<i> -> 1e7 + i, z -> 0, n<i> -> -1e7 - i (|i| stays far below 1e7: about 71,000 for 1e308).
 * A rank maps back to its key and to the value representing its bucket.
 */
export type SketchRanks = Map<number, number>;
const RANK_OFFSET = 1e7;

function keyRank(key: string): number {
  if (key === 'z') return 0;
  const i = Number(key.slice(1));
  return key[0] === 'n' ? -RANK_OFFSET - i : RANK_OFFSET + i;
}

function rankKey(rank: number): string {
  return rank === 0 ? 'z' : rank > 0 ? `p${rank - RANK_OFFSET}` : `n${-RANK_OFFSET - rank}`;
}

function rankValue(rank: number): number {
  if (rank === 0) return 0;
  const v = (2 * SKETCH_GAMMA ** (rank > 0 ? rank - RANK_OFFSET : -RANK_OFFSET - rank)) / (SKETCH_GAMMA + 1);
  return rank > 0 ? v : -v;
}

export function sketchRanks(sketch: Sketch): SketchRanks {
  const ranks: SketchRanks = new Map();
  for (const k in sketch) ranks.set(keyRank(k), sketch[k]!);
  return ranks;
}

/** The same sketch with string keys (the stored encoding). */
export function sketchFromRanks(ranks: SketchRanks): Sketch {
  const sketch: Sketch = {};
  for (const [rank, n] of ranks) sketch[rankKey(rank)] = n;
  return sketch;
}

/**
 * The value at quantile q (0..1) by the nearest-rank definition: the smallest value with at least
 * ceil(q * n) values at or below it. Null for an empty sketch.
 */
export function sketchQuantile(sketch: Sketch, q: number): number | null {
  return ranksQuantile(sketchRanks(sketch), q);
}

/** sketchQuantile of ranked buckets: a typed array of ranks sorts without a comparator call. */
export function ranksQuantile(ranks: SketchRanks, q: number): number | null {
  const order = new Float64Array(ranks.size);
  let k = 0;
  let total = 0;
  for (const [rank, n] of ranks) {
    if (n <= 0) continue;
    total += n;
    order[k++] = rank;
  }
  if (total === 0) return null;
  const sorted = order.subarray(0, k).sort();
  const target = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * total));
  let seen = 0;
  for (const rank of sorted) {
    seen += ranks.get(rank)!;
    if (seen >= target) return rankValue(rank);
  }
  return rankValue(sorted[k - 1]!);
}

/**
 * Merges the sketches in `text` (jsonb output as Postgres prints it: one `{"p3": 2, "z": 1}` object,
 * or several, separated by anything outside the objects) into ranked buckets, reading the text once.
 * The same counts as JSON.parse and mergeSketches, without building an object per sketch: a query
 * merging hundreds of thousands of sketch entries spent most of its time in JSON.parse (bench:query,
 * type d). Only our own encoding is accepted (keys z, p<int>, n<int>; non-negative integer counts);
 * anything else throws, so a format change cannot be misread silently.
 */
export function mergeSketchText(text: string, into: SketchRanks = new Map()): SketchRanks {
  const n = text.length;
  let i = 0;
  const bad = (at: number): never => {
    throw new Error(`sketch text: unexpected entry near ${JSON.stringify(text.slice(Math.max(0, at - 8), at + 8))}`);
  };
  while (i < n) {
    if (text.charCodeAt(i) !== 34 /* " */) {
      i++;
      continue;
    }
    const kind = text.charCodeAt(++i);
    let rank: number;
    if (kind === 122 /* z */) {
      rank = 0;
      i++;
    } else if (kind === 112 /* p */ || kind === 110 /* n */) {
      i++;
      const negative = text.charCodeAt(i) === 45; /* - */
      if (negative) i++;
      const from = i;
      let index = 0;
      for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) index = index * 10 + (c - 48);
      if (i === from) bad(i);
      if (negative) index = -index;
      rank = kind === 112 ? RANK_OFFSET + index : -RANK_OFFSET - index;
    } else {
      return bad(i);
    }
    if (text.charCodeAt(i) !== 34) bad(i);
    i++;
    while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 58) i++; // ': '
    const from = i;
    let count = 0;
    for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) count = count * 10 + (c - 48);
    const after = text.charCodeAt(i);
    if (i === from || !(after === 44 /* , */ || after === 125 /* } */ || after === 32)) bad(i);
    into.set(rank, (into.get(rank) ?? 0) + count);
  }
  return into;
}
