/**
 * Quantile accuracy of the sketch against exact nearest-rank values on skewed data, directly and
 * after merging many small sketches (what coarser rollups do).
 */
import { describe, expect, it } from 'vitest';
import { addToSketch, mergeSketches, mergeSketchText, ranksQuantile, type Sketch, sketchFromRanks, sketchCount, sketchKey, sketchQuantile, SKETCH_ALPHA } from '../../../src/metrics/sketch.ts';
import { normal, rng } from '../../helpers/random.ts';


const DATASETS: Array<[string, (r: () => number) => number]> = [
  ['log-normal latency (ms)', (r) => Math.exp(3 + 1.2 * normal(r))],
  ['bimodal (cache hit / miss)', (r) => (r() < 0.8 ? 2 + 0.3 * normal(r) : 250 + 40 * normal(r))],
  ['values around zero', (r) => normal(r) * 5],
  ['heavy tail (pareto)', (r) => 1 / Math.pow(1 - r(), 1 / 1.5)],
];

const exact = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;

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

  it('keys positive, negative and zero values apart; an empty sketch has no quantile', () => {
    expect(sketchKey(10)).toMatch(/^p\d+$/);
    expect(sketchKey(-10)).toMatch(/^n\d+$/);
    expect(sketchKey(0.5)).toMatch(/^p-\d+$/);
    expect(sketchKey(0)).toBe('z');
    expect(sketchQuantile({}, 0.5)).toBeNull();
    expect(SKETCH_ALPHA).toBeLessThan(0.01);
  });
});

describe('mergeSketchText (the query path)', () => {
  // Postgres prints jsonb as {"p1": 2, "z": 1}; the query joins one text per rollup row with spaces.
  const pgText = (s: Sketch) => `{${Object.entries(s).map(([k, v]) => `"${k}": ${v}`).join(', ')}}`;

  it.each(DATASETS)('%s: equals JSON.parse + mergeSketches', (_, gen) => {
    const r = rng(7);
    const parts: Sketch[] = Array.from({ length: 40 }, () => {
      const s: Sketch = {};
      for (let i = 0; i < 1 + Math.floor(r() * 200); i++) addToSketch(s, gen(r), 1 + Math.floor(r() * 3));
      return s;
    });
    const expected = parts.reduce((acc, p) => mergeSketches(acc, p), {} as Sketch);
    const text = parts.map(pgText).join(' ');
    const ranks = mergeSketchText(text);
    expect(sketchFromRanks(ranks)).toEqual(expected);
    for (const q of [0, 0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 1]) expect(ranksQuantile(ranks, q)).toBe(sketchQuantile(expected, q));
  });

  it.each([
    ['negative indices of both signs', '{"n-5": 2, "p-5": 3} {"n-5": 1, "z": 4, "p12": 1}', { 'n-5': 3, 'p-5': 3, z: 4, p12: 1 }],
    ['large counts', '{"p0": 9007199254740} {"p0": 1}', { p0: 9007199254741 }],
    ['empty text', '', {}],
    ['an empty sketch', '{}', {}],
  ] as const)('%s', (_, text, expected) => {
    expect(sketchFromRanks(mergeSketchText(text))).toEqual(expected);
  });

  it('ranksQuantile: empty and all-zero sketches have no quantile; negative, zero and positive buckets in value order', () => {
    expect(ranksQuantile(mergeSketchText(''), 0.5)).toBeNull();
    expect(ranksQuantile(mergeSketchText('{"p3": 0}'), 0.5)).toBeNull();
    const s: Sketch = {};
    const values = [-50, -2, 0, 0, 3, 40];
    for (const v of values) addToSketch(s, v);
    const ranks = mergeSketchText(pgText(s));
    values.forEach((v, i) => {
      const q = (i + 1) / values.length;
      expect(ranksQuantile(ranks, q)).toBe(sketchQuantile(s, q));
      if (v === 0) expect(ranksQuantile(ranks, q)).toBe(0);
      else expect(Math.abs(ranksQuantile(ranks, q)! - v) / Math.abs(v)).toBeLessThanOrEqual(SKETCH_ALPHA);
    });
  });

  it.each([
    ['an unknown key', '{"q1": 2}'],
    ['a key without index', '{"p": 2}'],
    ['a fractional count', '{"p1": 2.5}'],
    ['a negative count', '{"p1": -2}'],
    ['a string count', '{"p1": "2"}'],
  ])('refuses %s', (_, text) => {
    expect(() => mergeSketchText(text)).toThrow(/sketch text/);
  });
});
