/**
 * Quantile accuracy of the sketch against exact nearest-rank values on skewed data, directly and
 * after merging many small sketches (what coarser rollups do).
 */
import { describe, expect, it } from 'vitest';
import { addToSketch, MergedSketch, mergeSketches, mergeSketchText, RANK_OFFSET, type Sketch, sketchCount, sketchFromStored, sketchLiteral, sketchQuantile, sketchRank, SKETCH_ALPHA } from '../../../src/metrics/sketch.ts';
import { normal, rng } from '../../helpers/random.ts';

const DATASETS: Array<[string, (r: () => number) => number]> = [
  ['log-normal latency (ms)', (r) => Math.exp(3 + 1.2 * normal(r))],
  ['bimodal (cache hit / miss)', (r) => (r() < 0.8 ? 2 + 0.3 * normal(r) : 250 + 40 * normal(r))],
  ['values around zero', (r) => normal(r) * 5],
  ['heavy tail (pareto)', (r) => 1 / Math.pow(1 - r(), 1 / 1.5)],
];

const exact = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;

/** Nearest-rank quantile of a sketch, independent of MergedSketch: its buckets sorted by the value each stands for. */
function referenceQuantile(sketch: Sketch, q: number): number | null {
  const gamma = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA);
  const valueOf = (rank: number) => (rank === 0 ? 0 : (rank < 0 ? -1 : 1) * ((2 * gamma ** (Math.abs(rank) - RANK_OFFSET)) / (gamma + 1)));
  const buckets = Object.entries(sketch).map(([k, n]) => [valueOf(Number(k)), n] as const).sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((t, [, n]) => t + n, 0);
  if (total === 0) return null;
  const target = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  return buckets.find(([, n]) => (seen += n) >= target)![0];
}

describe('sketch accuracy', () => {
  it.each(DATASETS)('%s: p50/p90/p95/p99 within 1%% relative error, merged or not', (_, gen) => {
    const r = rng(42);
    const values = Array.from({ length: 50_000 }, () => gen(r));
    const whole: Sketch = {};
    const parts: Sketch[] = [];
    values.forEach((v, i) => {
      addToSketch(whole, v);
      addToSketch((parts[i % 60] ??= {}), v);
    });
    const merged = parts.reduce((acc, p) => mergeSketches(acc, p), {} as Sketch);
    expect(sketchCount(merged)).toBe(values.length);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const truth = exact(sorted, q);
      for (const sk of [whole, merged]) {
        const est = sketchQuantile(sk, q)!;
        const tolerance = Math.abs(truth) < 1e-9 ? 1e-9 : 0.01 * Math.abs(truth);
        expect(Math.abs(est - truth)).toBeLessThanOrEqual(tolerance + 1e-12);
      }
    }
  });

  it('ranks buckets in value order, positive, negative and zero apart; an empty sketch has no quantile', () => {
    const values = [-1e300, -1e6, -10, -0.5, -1e-8, 0, 1e-8, 0.5, 10, 1e6, 1e300];
    const ranks = values.map(sketchRank);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(sketchRank(0)).toBe(0);
    expect(sketchRank(1e-10)).toBe(0);
    expect(sketchRank(10)).toBeGreaterThan(RANK_OFFSET);
    expect(sketchRank(0.5)).toBeLessThan(RANK_OFFSET);
    expect(sketchRank(0.5)).toBeGreaterThan(0);
    expect(sketchRank(-10)).toBeLessThan(-RANK_OFFSET);
    expect(sketchQuantile({}, 0.5)).toBeNull();
    expect(SKETCH_ALPHA).toBeLessThan(0.01);
  });
});

describe('mergeSketchText (the query path)', () => {
  // Postgres prints a stored sketch as {{r1,r2},{n1,n2}} (the literal we write), or {} when empty;
  // the query joins those of every rollup row with spaces.
  const pgText = sketchLiteral;
  const P = (i: number) => RANK_OFFSET + i;
  const N = (i: number) => -RANK_OFFSET - i;

  it.each(DATASETS)('%s: equals merging the sketches one by one', (_, gen) => {
    const r = rng(7);
    const parts: Sketch[] = Array.from({ length: 40 }, () => {
      const s: Sketch = {};
      for (let i = 0; i < 1 + Math.floor(r() * 200); i++) addToSketch(s, gen(r), 1 + Math.floor(r() * 3));
      return s;
    });
    const expected = parts.reduce((acc, p) => mergeSketches(acc, p), {} as Sketch);
    const text = parts.map(pgText).join(' ');
    const merged = mergeSketchText(text);
    expect(merged.toSketch()).toEqual(expected);
    for (const q of [0, 0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 1]) expect(merged.quantile(q)).toBe(sketchQuantile(expected, q));
  });

  it.each([
    ['negative indices of both signs', `{{${N(-5)},${P(-5)}},{2,3}} {{${N(-5)},0,${P(12)}},{1,4,1}}`, { [N(-5)]: 3, [P(-5)]: 3, 0: 4, [P(12)]: 1 }],
    ['large counts', `{{${P(0)}},{9007199254740}} {{${P(0)}},{1}}`, { [P(0)]: 9007199254741 }],
    ['empty text', '', {}],
    ['an empty sketch among others', `{} {{${P(1)}},{2}} {}`, { [P(1)]: 2 }],
  ] as const)('%s', (_, text, expected) => {
    expect(mergeSketchText(text).toSketch()).toEqual(expected);
  });

  it('sketchLiteral writes ranks ascending with their counts; sketchFromStored reads them back (numbers or strings)', () => {
    const s: Sketch = {};
    for (const v of [40, -2, 0, 3, -50, 0, 3]) addToSketch(s, v);
    const literal = sketchLiteral(s);
    const [ranks, counts] = literal.slice(2, -2).split('},{').map((part) => part.split(',').map(Number)) as [number[], number[]];
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(counts).toEqual([1, 1, 2, 2, 1]);
    expect(sketchFromStored([ranks, counts])).toEqual(s);
    expect(sketchFromStored([ranks.map(String), counts.map(String)])).toEqual(s);
    expect(sketchLiteral({})).toBe('{}');
    expect(sketchFromStored([])).toEqual({});
    expect(() => sketchFromStored([[1], []])).toThrow(/equal length/);
  });

  it('quantile: empty and all-zero sketches have no quantile; negative, zero and positive buckets in value order', () => {
    expect(mergeSketchText('').quantile(0.5)).toBeNull();
    expect(mergeSketchText(`{{${P(3)}},{0}}`).quantile(0.5)).toBeNull();
    const s: Sketch = {};
    const values = [-50, -2, 0, 0, 3, 40];
    for (const v of values) addToSketch(s, v);
    const merged = mergeSketchText(pgText(s));
    values.forEach((v, i) => {
      const q = (i + 1) / values.length;
      expect(merged.quantile(q)).toBe(sketchQuantile(s, q));
      if (v === 0) expect(merged.quantile(q)).toBe(0);
      else expect(Math.abs(merged.quantile(q)! - v) / Math.abs(v)).toBeLessThanOrEqual(SKETCH_ALPHA);
    });
  });

  it('a MergedSketch cleared between texts reads each as a fresh one does, after narrow and very wide ones alike', () => {
    const r = rng(5);
    const reused = new MergedSketch();
    const texts = [
      ...Array.from({ length: 20 }, () => sketchLiteral(Array.from({ length: 30 }, () => 10 + 5 * r()).reduce((s, v) => addToSketch(s, v), {} as Sketch))),
      sketchLiteral(addToSketch(addToSketch(addToSketch({}, 1e-200), 1e200), -1e150)),
      sketchLiteral(addToSketch(addToSketch({}, 3), 4)),
      '{}',
    ];
    for (const text of texts) {
      const fresh = mergeSketchText(text);
      mergeSketchText(text, reused.clear());
      for (const q of [0, 0.5, 0.99, 1]) expect(reused.quantile(q), `${text.slice(0, 40)} q${q}`).toBe(fresh.quantile(q));
      expect(reused.toSketch()).toEqual(fresh.toSketch());
    }
  });

  it('MergedSketch grows its bucket window both ways and keeps every count (random order, wide spread)', () => {
    const r = rng(11);
    const expected: Sketch = {};
    const merged = new MergedSketch();
    for (let i = 0; i < 5_000; i++) {
      // Clusters far apart force the window to widen downwards and upwards, several times.
      const index = Math.floor((r() < 0.5 ? -2_000 : 60_000) + (r() - 0.5) * 400 * (1 + (i % 7)));
      const sign = r() < 0.3 ? -1 : 1;
      const n = 1 + Math.floor(r() * 5);
      const rank = sign > 0 ? P(index) : N(index);
      merged.addRank(rank, n);
      expected[rank] = (expected[rank] ?? 0) + n;
    }
    expect(merged.toSketch()).toEqual(expected);
    for (const q of [0, 0.1, 0.3, 0.31, 0.5, 0.99, 1]) expect(merged.quantile(q)).toBe(referenceQuantile(expected, q));
  });

  it('one MergedSketch cleared between random sketches reads each as the reference walk does (signs, zeros, shifting windows)', () => {
    const r = rng(17);
    const merged = new MergedSketch();
    for (let round = 0; round < 300; round++) {
      const expected: Sketch = {};
      // Each round's values sit around a centre that wanders, so the kept window is reused, shifted
      // and grown; some rounds have one sign only, some zeros, some a single bucket.
      const centre = Math.floor((r() - 0.5) * 3_000);
      const spread = 1 + Math.floor(r() * (round % 5 === 0 ? 2_000 : 60));
      const entries = 1 + Math.floor(r() * (round % 7 === 0 ? 1 : 40));
      const signs = r();
      for (let i = 0; i < entries; i++) {
        const index = centre + Math.floor((r() - 0.5) * spread);
        const pick = r();
        const rank = pick < 0.05 ? 0 : pick < signs ? N(index) : P(index);
        const n = 1 + Math.floor(r() * 3);
        merged.addRank(rank, n);
        expected[rank] = (expected[rank] ?? 0) + n;
      }
      for (const q of [0, 0.01, 0.5, 0.95, 0.99, 1]) expect(merged.quantile(q), `round ${round} q${q}`).toBe(referenceQuantile(expected, q));
      expect(merged.toSketch()).toEqual(expected);
      merged.clear();
      expect(merged.quantile(0.5)).toBeNull();
    }
  });

  it.each([
    ['a rank past any double', `{{${P(100_001)}},{1}}`],
    ['a rank between the zero bucket and the smallest index', '{{5},{1}}'],
  ])('refuses %s without allocating for it', (_, text) => {
    expect(() => mergeSketchText(text)).toThrow(/sketch/);
  });

  it.each([
    ['fewer counts than ranks', `{{${P(1)},${P(2)}},{2}}`],
    ['more counts than ranks', `{{${P(1)}},{2,3}}`],
    ['ranks without counts', `{{${P(1)}}}`],
    ['an unclosed sketch', `{{${P(1)}},{2}`],
    ['a one-dimensional array', `{${P(1)},2}`],
    ['a fractional count', `{{${P(1)}},{2.5}}`],
    ['a negative count', `{{${P(1)}},{-2}}`],
    ['a quoted count', `{{${P(1)}},{"2"}}`],
    ['a non-numeric rank', '{{p1},{2}}'],
    ['the old jsonb text', '{"p1": 2}'],
  ])('refuses %s', (_, text) => {
    expect(() => mergeSketchText(text)).toThrow(/sketch text/);
  });
});
