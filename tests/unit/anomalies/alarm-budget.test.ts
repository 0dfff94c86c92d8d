import { describe, expect, it } from 'vitest';
import { createDetectorState, stepDetector } from '../../../src/anomalies/detectors/index.ts';
import type { StepResult } from '../../../src/anomalies/detectors/index.ts';
import { ONSET_TUNING } from '../../../src/anomalies/detectors/onset.ts';
import type { OnsetState } from '../../../src/anomalies/detectors/onset.ts';
import { MINUTE, START, noiseSeries, withTuning } from './run-detector.ts';

/**
 * The default detector's false-alarm budget (onset.ts budgetRaise): a series pages freely up to
 * ONSET_TUNING.budget times in a day of data time; past it, each further page needs twice the
 * surprise of the one before, and the rows this kept from paging are counted in the state (and
 * flagged `suppressed` in the step result), not dropped silently. It lives in the detector's
 * state, so the scanner and `npm run -s detect` enforce it alike and it resumes from JSON.
 */
const DAY_ROWS = 1440;
const BUDGET = ONSET_TUNING.budget;

/** Noise at 1-minute cadence with a spike every `every` rows from row 1000, each `growth` times the last (so each one is news). */
function spikes(n: number, every: number, growth: number, quietFrom = Infinity, quietRows = 0) {
  const s = noiseSeries(n, { sigma: 1, seed: 3 });
  const at: number[] = [];
  for (let i = 1000, k = 0; i < n; i += every, k++) {
    if (i >= quietFrom && i < quietFrom + quietRows) continue;
    s.values[i]! += 15 * Math.pow(growth, k);
    at.push(i);
  }
  return { series: s, at };
}

function run(s: { timestamps: number[]; values: number[] }) {
  const state = createDetectorState({}) as OnsetState;
  const results: StepResult[] = [];
  s.values.forEach((value, i) => {
    // Saved and resumed as the scanner does: the budget is part of the state.
    const step = stepDetector(state, { timestamp: s.timestamps[i]!, value });
    results.push(step);
    if (i % 250 === 0) Object.assign(state, JSON.parse(JSON.stringify(state)));
  });
  return { state, results };
}

const maxPagesInADay = (pages: number[]) => Math.max(...pages.map((p) => pages.filter((q) => q >= p && q < p + DAY_ROWS).length));

describe('false-alarm budget per series per day', () => {
  it.each<[string, number, number, { pages: number; suppressed: boolean }]>([
    // [case, spike every N rows, growth, expected: pages in the busiest day at most, any suppressed]
    // Twelve page-worthy spikes a day: the first six page, then the bar doubles with each page.
    ['twelve a day', 120, 1.25, { pages: BUDGET + 2, suppressed: true }],
    // Twenty-four a day: still at most budget + 2.
    ['twenty-four a day', 60, 1.3, { pages: BUDGET + 2, suppressed: true }],
    // Four a day is within the budget: nothing is held back.
    ['four a day', 360, 1.25, { pages: 4, suppressed: false }],
  ])('%s', (_name, every, growth, expected) => {
    const { series, at } = spikes(4400, every, growth);
    const { state, results } = run(series);
    const pages = at.filter((i) => results[i]!.anomalous);
    const held = at.filter((i) => results[i]!.suppressed === true);
    expect(maxPagesInADay(pages)).toBeLessThanOrEqual(expected.pages);
    expect(held.length > 0).toBe(expected.suppressed);
    // Every spike either paged or was held back by the budget: without it all of them would page
    // (so the limit above is the budget's doing), and the excess is counted in the state.
    expect(pages.length + held.length).toBe(at.length);
    expect(state.budget?.suppressed).toBe(results.filter((r) => r.suppressed).length);
    // The budget never touches the first pages of a day.
    for (const i of at.slice(0, BUDGET)) expect(results[i]!.anomalous).toBe(true);
  });

  it('refills after a quiet day', () => {
    const { series, at } = spikes(5200, 120, 1.2, 2200, DAY_ROWS + 200);
    const { results } = run(series);
    const after = at.filter((i) => i >= 2200 + DAY_ROWS + 200);
    expect(after.length).toBeGreaterThan(BUDGET);
    for (const i of after.slice(0, BUDGET)) expect(results[i]!.anomalous).toBe(true);
  });

  it("starts the day over when the calibration takes over, so pages while warming up do not spend the calibrated detector's budget", () => {
    // Eight spikes in the warm-up (the member's own score pages each), then six more the same day.
    const s = noiseSeries(1400, { sigma: 1, seed: 5 });
    const early = [60, 80, 100, 120, 140, 160, 180, 200];
    const later = [400, 520, 640, 760, 880, 1000];
    early.forEach((i, k) => (s.values[i]! += 15 * Math.pow(1.1, k)));
    later.forEach((i, k) => (s.values[i]! += 15 * Math.pow(1.25, k)));
    const { state, results } = run(s);
    expect(state.cal.n).toBeGreaterThan(ONSET_TUNING.calWarmup);
    expect(early.filter((i) => results[i]!.anomalous).length).toBeGreaterThan(BUDGET);
    for (const i of later) expect(results[i]!.anomalous).toBe(true);
    expect(state.budget?.suppressed).toBe(0);
    // Without the fresh start the warm-up's pages count, and the later spikes are held back.
    const spent = withTuning({ budgetFreshStart: false }, () => run(s));
    expect(later.filter((i) => spent.results[i]!.suppressed === true).length).toBeGreaterThan(0);
  });

  it('counts time from the data, so a replay of old data budgets the same', () => {
    const { series } = spikes(4400, 60, 1.3);
    const shifted = { timestamps: series.timestamps.map((t) => t - 400 * 86_400_000), values: series.values };
    expect(run(shifted).results.map((r) => r.score)).toEqual(run(series).results.map((r) => r.score));
    expect(START).toBeGreaterThan(MINUTE);
  });
});
