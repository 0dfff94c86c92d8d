/**
 * A mergeable quantile sketch with relative-error guarantees (DDSketch's logarithmic mapping):
 * a positive value v falls in bucket i = ceil(log_g(v)) with g = (1 + a) / (1 - a), and bucket i is
 * represented by 2 g^i / (g + 1), which is within a relative error a of every value in the bucket.
 * So any quantile read from the sketch is within a of the exact value at that rank, at every
 * resolution, because merging adds bucket counts and loses nothing.
 *
 * Encoding: every bucket is one integer "rank", in value order: RANK_OFFSET + i for v > 0 in bucket
 * i, 0 for |v| <= MIN_MAGNITUDE, -RANK_OFFSET - i for v < 0 with |v| in bucket i (|i| stays far
 * below RANK_OFFSET: about 71,000 for 1e308). metric_rollups.sketch stores a sketch as a two-row
 * bigint array {{rank, ...}, {count, ...}} with ranks ascending ('{}' when empty); in memory a Sketch
 * maps rank to count. The same mapping is computed in SQL by the rollup job (SKETCH_RANK_SQL) and
 * here; both must stay identical.
 */
export const SKETCH_ALPHA = 0.005;
export const SKETCH_GAMMA = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA);
const LN_GAMMA = Math.log(SKETCH_GAMMA);
export const MIN_MAGNITUDE = 1e-9;
export const RANK_OFFSET = 1_000_000;

/** Count per bucket rank. */
export type Sketch = Record<number, number>;

/** The bucket rank of a value, as SQL computes it in SKETCH_RANK_SQL. */
export function sketchRank(v: number): number {
  if (v > MIN_MAGNITUDE) return RANK_OFFSET + Math.ceil(Math.log(v) / LN_GAMMA);
  if (v < -MIN_MAGNITUDE) return -RANK_OFFSET - Math.ceil(Math.log(-v) / LN_GAMMA);
  return 0;
}

/** SQL expression for the bucket rank of column `col` (must match sketchRank). */
export const SKETCH_RANK_SQL = (col: string) =>
  `case when ${col} > ${MIN_MAGNITUDE} then ${RANK_OFFSET} + ceil(ln(${col}) / ${LN_GAMMA})::int
        when ${col} < -${MIN_MAGNITUDE} then -${RANK_OFFSET} - ceil(ln(-${col}) / ${LN_GAMMA})::int
        else 0 end`;

/** SQL aggregate building the stored sketch of (rank, count) rows of one group, each rank once. */
export const SKETCH_AGG_SQL = (rank: string, count: string) =>
  `array[array_agg(${rank}::bigint order by ${rank}), array_agg(${count}::bigint order by ${rank})]`;

/** SQL set-returning expression giving the (rank, count) rows of a stored sketch. */
export const SKETCH_UNNEST_SQL = (col: string) => `unnest(${col}[1:1], ${col}[2:2])`;

export function addToSketch(sketch: Sketch, value: number, count = 1): Sketch {
  const k = sketchRank(value);
  sketch[k] = (sketch[k] ?? 0) + count;
  return sketch;
}

export function mergeSketches(into: Sketch, from: Sketch): Sketch {
  for (const [k, n] of Object.entries(from)) into[Number(k)] = (into[Number(k)] ?? 0) + n;
  return into;
}

export function sketchCount(sketch: Sketch): number {
  return Object.values(sketch).reduce((total, n) => total + n, 0);
}

/** The stored form as an array literal for a `::bigint[]` cast: `{{r1,r2},{n1,n2}}`, or `{}`. */
export function sketchLiteral(sketch: Sketch): string {
  const ranks = Object.keys(sketch)
    .map(Number)
    .filter((r) => sketch[r]! > 0)
    .sort((x, y) => x - y);
  return ranks.length === 0 ? '{}' : `{{${ranks.join(',')}},{${ranks.map((r) => sketch[r]!).join(',')}}}`;
}

/** A stored sketch as a driver returns the array ([[ranks], [counts]] or [], numbers or strings). */
export function sketchFromStored(stored: ReadonlyArray<ReadonlyArray<number | string | bigint>>): Sketch {
  const sketch: Sketch = {};
  if (stored.length === 0) return sketch;
  const [ranks, counts] = stored;
  if (stored.length !== 2 || !ranks || !counts || ranks.length !== counts.length) throw new Error('sketch: expected {{ranks}, {counts}} of equal length');
  ranks.forEach((r, i) => (sketch[Number(r)] = Number(counts[i])));
  return sketch;
}

/**
 * Bucket counts of one sign by bucket index, in a dense window that grows to cover what is added:
 * the sketches merged by one query share a value range (hundreds of indices), so adding is an array
 * store, not a hash-map update, and reading in value order needs no sort.
 */
/** Widest bucket window IndexCounts.clear keeps: 4,096 indices span values over 17 orders of magnitude. */
const KEEP_WINDOW = 4096;

class IndexCounts {
  /** Bucket index of counts[0]. */
  private lo = 0;
  private counts = new Float64Array(0);
  /** Positions in counts of the lowest and highest non-empty buckets (first > last when empty). */
  private first = 0;
  private last = -1;
  total = 0;

  add(index: number, n: number): void {
    let at = index - this.lo;
    if (at < 0 || at >= this.counts.length) at = this.grow(index);
    this.counts[at]! += n;
    this.total += n;
    if (this.first > this.last) this.first = this.last = at;
    else if (at < this.first) this.first = at;
    else if (at > this.last) this.last = at;
  }

  /** Widens the window to hold `index`, at least doubling it; returns the index's position. */
  private grow(index: number): number {
    const len = this.counts.length;
    if (len === 0) {
      this.counts = new Float64Array(64);
      this.lo = index - 32;
      return 32;
    }
    const lo = index < this.lo ? index - len : this.lo;
    const hi = index >= this.lo + len ? index + len : this.lo + len - 1;
    const counts = new Float64Array(hi - lo + 1);
    counts.set(this.counts, this.lo - lo);
    this.first += this.lo - lo;
    this.last += this.lo - lo;
    this.counts = counts;
    this.lo = lo;
    return index - lo;
  }

  /**
   * Empties the buckets. A window of ordinary width is kept for reuse (only its used span is zeroed);
   * a wide one (values over many orders of magnitude) is dropped, so one wide bucket does not make
   * every later one scan thousands of empty entries.
   */
  clear(): void {
    if (this.counts.length > KEEP_WINDOW) {
      this.counts = new Float64Array(0);
      this.lo = 0;
    } else if (this.first <= this.last) {
      this.counts.fill(0, this.first, this.last + 1);
    }
    this.first = 0;
    this.last = -1;
    this.total = 0;
  }

  /** Calls fn for each non-empty bucket. */
  each(fn: (index: number, n: number) => void): void {
    const c = this.counts;
    for (let i = this.first; i <= this.last; i++) if (c[i]! > 0) fn(this.lo + i, c[i]!);
  }

  /**
   * Walks the buckets (ascending, or descending with `down`) adding their counts to `seen` until it
   * reaches `target`: returns that bucket's index, or null with `seen` plus this side's total.
   * Only the used span is walked, and a side whose total cannot reach the target is skipped whole.
   */
  reach(target: number, seen: number, down: boolean): { index: number | null; seen: number } {
    if (seen + this.total < target) return { index: null, seen: seen + this.total };
    const c = this.counts;
    if (down) {
      for (let i = this.last; i >= this.first; i--) {
        if (c[i]! <= 0) continue;
        seen += c[i]!;
        if (seen >= target) return { index: this.lo + i, seen };
      }
    } else {
      for (let i = this.first; i <= this.last; i++) {
        if (c[i]! <= 0) continue;
        seen += c[i]!;
        if (seen >= target) return { index: this.lo + i, seen };
      }
    }
    return { index: null, seen };
  }
}

/** |bucket index| beyond this cannot come from a finite double (1e308 is about 71,000). */
const MAX_INDEX = 100_000;

/** The value a bucket represents (within SKETCH_ALPHA of every value in it). */
function bucketValue(index: number): number {
  return (2 * SKETCH_GAMMA ** index) / (SKETCH_GAMMA + 1);
}

/** Many sketches merged, for reading quantiles: positive, negative and zero buckets apart. */
export class MergedSketch {
  private readonly pos = new IndexCounts();
  /** Buckets of negative values, by the index of |v|. */
  private readonly neg = new IndexCounts();
  private zero = 0;

  /** Adds n values to the bucket of a rank (see the encoding above). */
  addRank(rank: number, n: number): this {
    if (rank === 0) {
      this.zero += n;
      return this;
    }
    const index = rank > 0 ? rank - RANK_OFFSET : -RANK_OFFSET - rank;
    if (!(index >= -MAX_INDEX && index <= MAX_INDEX)) throw new Error(`sketch: rank ${rank} out of range`);
    (rank > 0 ? this.pos : this.neg).add(index, n);
    return this;
  }

  /** Empties the sketch, keeping its memory: one MergedSketch can read many buckets in turn. */
  clear(): this {
    this.pos.clear();
    this.neg.clear();
    this.zero = 0;
    return this;
  }

  addSketch(sketch: Sketch): this {
    for (const [k, n] of Object.entries(sketch)) this.addRank(Number(k), n);
    return this;
  }

  /**
   * The value at quantile q (0..1) by the nearest-rank definition: the smallest value with at
   * least ceil(q * n) values at or below it. Null for an empty sketch. Buckets are walked in value
   * order: negative values from the largest magnitude down, zero, then positive values up.
   */
  quantile(q: number): number | null {
    const total = this.neg.total + this.zero + this.pos.total;
    if (!(total > 0)) return null;
    // At most the total, so the walk below always reaches it.
    const target = Math.min(total, Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * total)));
    const neg = this.neg.reach(target, 0, true);
    if (neg.index !== null) return -bucketValue(neg.index);
    const seen = neg.seen + this.zero;
    if (this.zero > 0 && seen >= target) return 0;
    const pos = this.pos.reach(target, seen, false);
    return pos.index === null ? null : bucketValue(pos.index);
  }

  /** The merged buckets as a Sketch (non-empty buckets only). */
  toSketch(): Sketch {
    const sketch: Sketch = {};
    this.neg.each((index, n) => void (sketch[-RANK_OFFSET - index] = n));
    if (this.zero > 0) sketch[0] = this.zero;
    this.pos.each((index, n) => void (sketch[RANK_OFFSET + index] = n));
    return sketch;
  }
}

/**
 * The value at quantile q (0..1) by the nearest-rank definition: the smallest value with at least
 * ceil(q * n) values at or below it. Null for an empty sketch.
 */
export function sketchQuantile(sketch: Sketch, q: number): number | null {
  return new MergedSketch().addSketch(sketch).quantile(q);
}

/**
 * Merges the sketches in `text` into one MergedSketch, reading the text once. Each sketch is its
 * array as Postgres prints it, `{{1000003,1000007},{2,1}}` (ranks, then counts), or `{}` when empty;
 * sketches are separated by anything outside the braces (the query joins them with spaces). No array
 * or object is built per sketch: a query merging hundreds of thousands of buckets spent most of its
 * time parsing (bench:query, type d). Only our own encoding is accepted (integer ranks within
 * MAX_INDEX of RANK_OFFSET or 0, as many non-negative integer counts as ranks); anything else
 * throws, so a format change cannot be misread silently. A throw may leave `into` partly merged.
 */
export function mergeSketchText(text: string, into: MergedSketch = new MergedSketch()): MergedSketch {
  const n = text.length;
  let ranks = scratchRanks;
  let i = 0;
  const bad = (at: number): never => {
    throw new Error(`sketch text: unexpected entry near ${JSON.stringify(text.slice(Math.max(0, at - 8), at + 8))}`);
  };
  // One loop per list, written out (no callbacks): this runs once per character of megabytes of text.
  while (i < n) {
    if (text.charCodeAt(i) !== 123 /* { */) {
      i++;
      continue;
    }
    let c = text.charCodeAt(++i);
    if (c === 125 /* } */) {
      i++; // an empty sketch: {}
      continue;
    }
    if (c !== 123) bad(i);
    // {rank,rank,...}
    let r = 0;
    for (;;) {
      c = text.charCodeAt(++i);
      const negative = c === 45; /* - */
      if (negative) c = text.charCodeAt(++i);
      const from = i;
      let v = 0;
      while (c >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        c = text.charCodeAt(++i);
      }
      if (i === from || i - from > 16) bad(i);
      if (r === ranks.length) {
        const grown = new Float64Array(ranks.length * 2);
        grown.set(ranks);
        ranks = scratchRanks = grown;
      }
      ranks[r++] = negative ? -v : v;
      if (c === 125) break;
      if (c !== 44 /* , */) bad(i);
    }
    if (text.charCodeAt(++i) !== 44 || text.charCodeAt(++i) !== 123) bad(i);
    // {count,count,...}: as many as ranks, each added to its rank's bucket
    let k = 0;
    for (;;) {
      c = text.charCodeAt(++i);
      const from = i;
      let v = 0;
      while (c >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        c = text.charCodeAt(++i);
      }
      if (i === from || i - from > 16 || k === r) bad(i);
      into.addRank(ranks[k++]!, v);
      if (c === 125) break;
      if (c !== 44) bad(i);
    }
    if (k !== r || text.charCodeAt(++i) !== 125) bad(i);
    i++;
  }
  return into;
}

/** mergeSketchText's buffer of one sketch's ranks, kept between calls. */
let scratchRanks = new Float64Array(1024);
