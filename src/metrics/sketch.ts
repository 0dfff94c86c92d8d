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

function keyValue(key: string): number {
  if (key === 'z') return 0;
  const i = Number(key.slice(1));
  const v = (2 * SKETCH_GAMMA ** i) / (SKETCH_GAMMA + 1);
  return key[0] === 'n' ? -v : v;
}

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
 * The value at quantile q (0..1) by the nearest-rank definition: the smallest value with at least
 * ceil(q * n) values at or below it. Null for an empty sketch.
 */
export function sketchQuantile(sketch: Sketch, q: number): number | null {
  const entries = Object.keys(sketch)
    .map((k) => [keyValue(k), sketch[k]!] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * total));
  let seen = 0;
  for (const [v, n] of entries) {
    seen += n;
    if (seen >= rank) return v;
  }
  return entries[entries.length - 1]![0];
}

/**
 * A merged sketch keyed by integer codes while it is built from text: 4 * index for p<index>,
 * 4 * index + 1 for n<index>, Z_CODE for z. No key string is made per entry.
 */
export type SketchCodes = Map<number, number>;
const Z_CODE = 2;

/**
 * Merges the sketches in `text` (jsonb output as Postgres prints it: one `{"p3": 2, "z": 1}` object,
 * or several, separated by anything outside the objects) into one, reading the text once. The same
 * counts as JSON.parse and mergeSketches, without building an object per sketch: a query merging
 * hundreds of thousands of sketch entries spent most of its time in JSON.parse (bench:query, type d).
 * Only our own encoding is accepted (keys z, p<int>, n<int>; non-negative integer counts); anything
 * else throws, so a format change cannot be misread silently.
 */
export function mergeSketchCodes(text: string, into: SketchCodes = new Map()): SketchCodes {
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
    let code: number;
    if (kind === 122 /* z */) {
      code = Z_CODE;
      i++;
    } else if (kind === 112 /* p */ || kind === 110 /* n */) {
      i++;
      const negative = text.charCodeAt(i) === 45; /* - */
      if (negative) i++;
      const from = i;
      let index = 0;
      for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) index = index * 10 + (c - 48);
      if (i === from) bad(i);
      code = 4 * (negative ? -index : index) + (kind === 110 ? 1 : 0);
    } else {
      return bad(i);
    }
    if (text.charCodeAt(i) !== 34) bad(i);
    i++;
    while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 58) i++; // ': '
    const from = i;
    let value = 0;
    for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) value = value * 10 + (c - 48);
    const after = text.charCodeAt(i);
    if (i === from || !(after === 44 /* , */ || after === 125 /* } */ || after === 32)) bad(i);
    into.set(code, (into.get(code) ?? 0) + value);
  }
  return into;
}

/** The same sketch with string keys (the stored encoding). */
export function sketchFromCodes(codes: SketchCodes): Sketch {
  const sketch: Sketch = {};
  for (const [code, v] of codes) {
    if (code === Z_CODE) sketch.z = v;
    else {
      const kind = ((code % 4) + 4) % 4;
      sketch[`${kind === 1 ? 'n' : 'p'}${(code - kind) / 4}`] = v;
    }
  }
  return sketch;
}

/** mergeSketchCodes as a Sketch (string keys). */
export function mergeSketchText(text: string): Sketch {
  return sketchFromCodes(mergeSketchCodes(text));
}

/**
 * sketchQuantile for coded sketches: codes are ordered by the value they stand for (negative buckets
 * by descending index, then zero, then positive buckets by ascending index) without computing any
 * value but the answer's.
 */
export function codesQuantile(codes: SketchCodes, q: number): number | null {
  // Rank: an integer that orders buckets by value and maps back to the bucket (n<i> -> -1e7 - i,
  // z -> 0, p<i> -> 1e7 + i); a typed array of ranks sorts without a comparator call per step.
  const ranks = new Float64Array(codes.size);
  const countOf = new Map<number, number>();
  let k = 0;
  let total = 0;
  for (const [code, n] of codes) {
    if (n <= 0) continue;
    total += n;
    const kind = ((code % 4) + 4) % 4;
    const r = code === Z_CODE ? 0 : kind === 1 ? -1e7 - (code - kind) / 4 : 1e7 + code / 4;
    ranks[k++] = r;
    countOf.set(r, n);
  }
  if (total === 0) return null;
  const sorted = ranks.subarray(0, k).sort();
  const target = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * total));
  let seen = 0;
  let chosen = sorted[k - 1]!;
  for (let j = 0; j < k; j++) {
    seen += countOf.get(sorted[j]!)!;
    if (seen >= target) {
      chosen = sorted[j]!;
      break;
    }
  }
  if (chosen === 0) return 0;
  const index = chosen > 0 ? chosen - 1e7 : -1e7 - chosen;
  const v = (2 * SKETCH_GAMMA ** index) / (SKETCH_GAMMA + 1);
  return chosen > 0 ? v : -v;
}
