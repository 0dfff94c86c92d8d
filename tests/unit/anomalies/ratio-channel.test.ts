import { describe, expect, it } from 'vitest';
import { createDetectorState, stepDetector } from '../../../src/anomalies/detectors/index.ts';
import type { DetectorConfigInput, StepResult } from '../../../src/anomalies/detectors/index.ts';
import type { OnsetState } from '../../../src/anomalies/detectors/onset.ts';
import { RATIO_TUNING } from '../../../src/anomalies/detectors/ratio-channel.ts';
import { createRng } from '../../fixtures/anomalies/generate-eval-set.ts';
import { START, flagged, withTuning } from './run-detector.ts';
import type { Series } from './run-detector.ts';

/**
 * onset's ratio channel (ratio-channel.ts): a relative change of level on a series that never goes
 * negative. The scenario is the recorded suite's traffic drop in miniature: a request rate of 20 a
 * second riding a 25-minute cycle (±25%, not an hourly, daily or weekly period, so the member does
 * not model it), noise 15% of the level, and bursts (3% of the rows, 1-3 times the rate) that widen
 * the member's band. At row `at` it falls to a fifth for 120 rows.
 */
const CADENCE = 2000;

function rateSeries(n: number, seed: number, drop?: { at: number; factor: number }): Series {
  const rng = createRng(seed);
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = Math.max(rng(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
    const low = drop && i >= drop.at && i < drop.at + 120 ? drop.factor : 1;
    const level = 20 * (1 + 0.25 * Math.sin((2 * Math.PI * i) / 750)) * low;
    const burst = rng() < 0.03 ? 1 + 2 * rng() : 1;
    timestamps.push(START + i * CADENCE);
    values.push(Math.max(0, Math.round(level * burst * (1 + 0.15 * z) * 10) / 10));
  }
  return { timestamps, values };
}

function run(series: Series, config: DetectorConfigInput = {}, state = createDetectorState(config)): StepResult[] {
  return series.values.map((value, i) => stepDetector(state, { timestamp: series.timestamps[i]!, value }));
}

const byRatio = (r: StepResult) => r.explanation.component === 'onset' && r.explanation.statistic === 'sustained';
const SEEDS = [1, 2, 5, 6];
const at = (seed: number) => 3000 + 7 * seed;

describe('onset ratio channel', () => {
  it.each(SEEDS)('pages a rate that falls to a fifth on its second row (seed %i)', (seed) => {
    const s = rateSeries(4000, seed, { at: at(seed), factor: 0.2 });
    const flags = flagged(run(s), at(seed) - 10, at(seed) + 10);
    expect(flags[0]).toBeGreaterThanOrEqual(at(seed));
    expect(flags[0]).toBeLessThanOrEqual(at(seed) + 1);
  });

  it.each(SEEDS)('without it the member alone pages that drop later or not at all (seed %i: the test above can fail)', (seed) => {
    withTuning({ ratioChannel: false }, () => {
      const s = rateSeries(4000, seed, { at: at(seed), factor: 0.2 });
      expect(flagged(run(s), at(seed) - 10, at(seed) + 2)).toEqual([]);
    });
  });

  it('explains its page: the member band, a sustained statistic, downwards', () => {
    const s = rateSeries(4000, 1, { at: at(1), factor: 0.2 });
    const r = run(s)[at(1) + 1]!;
    expect(r.anomalous).toBe(true);
    expect(r.explanation).toMatchObject({ detector: 'onset', component: 'onset', statistic: 'sustained', direction: 'down' });
    expect(r.explanation.deviation).toBeLessThan(-4);
    expect(r.explanation.lower).not.toBeNull();
  });

  it('keeps the clean rate quiet: at most two pages a series in 3,400 scored rows, six seeds', () => {
    for (let seed = 101; seed <= 106; seed++) {
      expect(flagged(run(rateSeries(4000, seed)), 600).length, `seed ${seed}`).toBeLessThanOrEqual(2);
    }
  });

  it('honours direction and minimum deviations', () => {
    const s = rateSeries(4000, 1, { at: at(1), factor: 0.2 });
    // The drop's first rows: a change of 80% of the level, about 16 requests a second.
    for (const config of [{ direction: 'up' as const }, { minRelDeviation: 0.9 }, { minAbsDeviation: 20 }]) {
      const results = run(s, config).slice(at(1), at(1) + 6);
      expect(results.filter(byRatio), JSON.stringify(config)).toEqual([]);
    }
    // Watching drops only, the channel still pages it.
    expect(run(s, { direction: 'down' })[at(1) + 1]!.explanation).toMatchObject({ component: 'onset', statistic: 'sustained' });
  });

  it('resumes exactly from JSON saved during the drop, and a state saved before the channel existed resumes', () => {
    const s = rateSeries(4000, 1, { at: at(1), factor: 0.2 });
    const straight = run(s).map((r) => r.score);
    // Three rows into the drop: the channel has paged (second row) and holds the level.
    const cut = at(1) + 3;
    const state = createDetectorState({});
    const head = run({ timestamps: s.timestamps.slice(0, cut), values: s.values.slice(0, cut) }, {}, state);
    expect((state as OnsetState).ratio).toMatchObject({ held: 1 });
    const resumed = JSON.parse(JSON.stringify(state)) as OnsetState;
    const tail = run({ timestamps: s.timestamps.slice(cut), values: s.values.slice(cut) }, {}, resumed);
    expect([...head, ...tail].map((r) => r.score)).toEqual(straight);

    const old = JSON.parse(JSON.stringify(state)) as OnsetState;
    old.ratio = undefined;
    const after = run({ timestamps: s.timestamps.slice(cut), values: s.values.slice(cut) }, {}, old);
    expect(old.ratio).toMatchObject({ n: s.values.length - cut });
    for (const r of after) expect(Number.isFinite(r.score)).toBe(true);
    // It learns from the next row and scores after its own warm-up: not this drop.
    expect(after.slice(0, RATIO_TUNING.warmup).some(byRatio)).toBe(false);
  });

  it('stops for good on a series that goes negative', () => {
    const s = rateSeries(4000, 1, { at: at(1), factor: 0.2 });
    s.values[100] = -1;
    const state = createDetectorState({}) as OnsetState;
    const results = run(s, {}, state);
    expect(state.ratio).toMatchObject({ off: true });
    expect(results.some(byRatio)).toBe(false);
  });
});
