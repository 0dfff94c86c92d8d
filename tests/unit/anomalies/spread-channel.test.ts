import { describe, expect, it } from 'vitest';
import { createDetectorState, stepDetector } from '../../../src/anomalies/detectors/index.ts';
import type { DetectorConfigInput, DetectorState, StepResult } from '../../../src/anomalies/detectors/index.ts';
import { gateExcursion } from '../../../src/anomalies/detectors/calibration.ts';
import type { OnsetState } from '../../../src/anomalies/detectors/onset.ts';
import { createRng } from '../../fixtures/anomalies/generate-eval-set.ts';
import { MINUTE, START, flagged, runDetector } from './run-detector.ts';
import type { Series } from './run-detector.ts';

/**
 * The default detector's spread channel (spread-channel.ts): flatlines (a stuck sensor, a dead
 * exporter repeating its last value) and variance drops (noise that collapses while the level goes
 * on) page once, near where they start; series that are often still by nature (low counts, stepped
 * gauges, mostly-zero error counts, quiet nights) do not page for it. Nothing in the detectors saw
 * either kind before, so every "is found" case below fails on the previous code.
 */

type Gen = (rng: () => number, i: number, memo: { x?: number }) => number;

const gauss = (rng: () => number) => Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
function poisson(rng: () => number, mean: number): number {
  let k = 0;
  let p = Math.exp(-mean);
  let sum = p;
  const u = rng();
  while (u > sum && k < 1000) {
    k++;
    p *= mean / k;
    sum += p;
  }
  return k;
}

const white: Gen = (rng) => 100 + 5 * gauss(rng);
const cpuLike: Gen = (rng, _i, memo) => {
  memo.x = 0.8 * (memo.x ?? 0) + 0.6 * gauss(rng);
  return Math.round((40 + 2 * memo.x) * 10) / 10;
};
const counts: Gen = (rng) => poisson(rng, 20);
const daily5m: Gen = (rng, i) => 50 + 15 * Math.sin((2 * Math.PI * i) / 288) + 2 * gauss(rng);

function series(n: number, gen: Gen, seed: number, cadenceMs = MINUTE): Series {
  const rng = createRng(seed);
  const memo = {};
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    timestamps.push(START + i * cadenceMs);
    values.push(gen(rng, i, memo));
  }
  return { timestamps, values };
}

/** The value before `from` repeated exactly for `rows` rows. */
function stick(s: Series, from: number, rows: number): Series {
  const values = [...s.values];
  for (let i = from; i < from + rows; i++) values[i] = values[from - 1]!;
  return { ...s, values };
}

/** The noise around the series' level (its mean over the stretch) scaled by `factor` for `rows` rows. */
function quieten(s: Series, level: (i: number) => number, from: number, rows: number, factor: number): Series {
  const values = s.values.map((v, i) => (i >= from && i < from + rows ? level(i) + factor * (v - level(i)) : v));
  return { ...s, values };
}

const onset = (s: Series, config: DetectorConfigInput = {}) => runDetector({ detector: 'onset', ...config }, s);
const spreadFlags = (r: StepResult[], from = 0) => flagged(r, from).filter((i) => r[i]!.explanation.statistic === 'spread');

describe('excursion gate (pure)', () => {
  const opts = { start: 2, end: 1, ratio: 2 };
  it.each<[string, number[], number[]]>([
    // A climbing surprise reports at its first crossing, then only at each doubling of the last report.
    ['climbing evidence', [0.5, 1.5, 2.2, 3, 4.5, 8, 9, 20, 20], [0, 0, 2.2, 0, 4.5, 0, 9, 20, 0]],
    // Hovering around `start` without falling below `end` is one excursion.
    ['hovering at the start level', [2.1, 1.5, 2.1, 1.9], [2.1, 0, 0, 0]],
    // Falling below `end` ends the excursion: the next crossing reports again.
    ['two excursions', [2.1, 0.5, 2.1], [2.1, 0, 2.1]],
    ['never surprising', [0, 1, 1.9, 0.2], [0, 0, 0, 0]],
  ])('%s', (_name, surprises, reports) => {
    const gate = { reported: 0 };
    expect(surprises.map((s) => gateExcursion(gate, s, opts.start, opts.end, opts.ratio))).toEqual(reports);
  });
});

describe('flatlines and variance drops are found', () => {
  const AT = 2000;
  it.each<[string, () => Series, number]>([
    // [case, series with the anomaly at row AT, most rows from AT to the first flag]
    ['white noise stuck at its last value', () => stick(series(3000, white, 1), AT, 200), 12],
    ['a CPU-like AR(0.8) series quantised to 0.1, stuck', () => stick(series(3000, cpuLike, 2), AT, 200), 12],
    ['a count (Poisson, mean 20) stuck', () => stick(series(3000, counts, 3), AT, 200), 12],
    ['a daily cycle at 5-minute cadence, stuck', () => stick(series(3000, daily5m, 4, 5 * MINUTE), AT, 200), 12],
    ['white noise whose noise falls to a tenth', () => quieten(series(3000, white, 5), () => 100, AT, 300, 0.1), 30],
    ['a daily cycle whose noise falls to a fifth', () => quieten(series(3000, daily5m, 6, 5 * MINUTE), (i) => 50 + 15 * Math.sin((2 * Math.PI * i) / 288), AT, 300, 0.2), 40],
  ])('%s', (_name, make, maxDelay) => {
    const r = onset(make());
    const flags = flagged(r, 1000);
    expect(flags.length).toBeGreaterThan(0);
    expect(flags[0]).toBeGreaterThanOrEqual(AT);
    expect(flags[0]! - AT).toBeLessThanOrEqual(maxDelay);
    // It pages as an onset: a few rows while the evidence doubles, not for as long as it lasts.
    expect(flagged(r, AT, AT + 300).length).toBeLessThanOrEqual(3);
    expect(r[flags[0]!]!.explanation).toMatchObject({ detector: 'onset', component: 'onset', statistic: 'spread', direction: 'none' });
    expect(r[flags[0]!]!.explanation.deviation).toBeLessThan(-3);
  });

  it('finds a second flatline of the same series (the first does not teach it that flatlines are normal)', () => {
    const s = stick(stick(series(4000, white, 7), 1500, 300), 3000, 300);
    const flags = spreadFlags(onset(s), 1000);
    expect(flags.some((i) => i >= 1500 && i <= 1512)).toBe(true);
    expect(flags.some((i) => i >= 3000 && i <= 3012)).toBe(true);
  });

  it('finds a flatline on a series that started with a repeated value (a counter at 0, a reading taken twice)', () => {
    // Before the channel waited for the first change, the repeated start was learned as w = ln(1e-12)
    // and the channel stayed blind for thousands of rows: this flatline went unseen.
    const s = series(3000, white, 9);
    s.values[1] = s.values[0]!;
    s.values[2] = s.values[0]!;
    const flags = spreadFlags(onset(stick(s, AT, 200)), 1000);
    expect(flags.some((i) => i >= AT && i <= AT + 12)).toBe(true);
  });

  it('keeps the episode open while the series stays still (persisting), not paging', () => {
    const r = onset(stick(series(3000, white, 8), 2000, 200));
    const first = flagged(r, 1000)[0]!;
    expect(first).toBeGreaterThanOrEqual(2000);
    expect(first).toBeLessThanOrEqual(2012);
    expect(r.slice(first, 2190).every((x) => x.persisting === true || x.anomalous)).toBe(true);
  });
});

describe('the return of ordinary noise after a flatline is not an anomaly', () => {
  // 400 rows: longer than the recovery discount (300 rows after an onset), so only the held
  // member spreads keep the return quiet (without them each of ten seeds flagged it once).
  const s = stick(series(3000, white, 9), 2000, 400);

  it('onset stays quiet when the noise comes back', () => {
    expect(flagged(onset(s), 2400, 2700)).toEqual([]);
  });

  it('the member alone, whose spreads shrink during the flatline, flags it (the test above can fail)', () => {
    expect(flagged(runDetector({ detector: 'ewma' }, s), 2400, 2700).length).toBeGreaterThan(0);
  });
});

describe('series that are often still by nature do not page for it', () => {
  it.each<[string, Gen]>([
    // Runs of zeros are the norm for a low count: stillness is measured down to "no change at all".
    ['a low count (Poisson, mean 0.3)', (rng) => poisson(rng, 0.3)],
    ['a count (Poisson, mean 1)', (rng) => poisson(rng, 1)],
    ['a gauge that moves in steps (10% of rows)', (rng, _i, memo) => {
      if (memo.x === undefined || rng() < 0.1) memo.x = Math.round((memo.x ?? 50) + 2 * gauss(rng));
      return memo.x;
    }],
    ['a mostly-zero error count', (rng) => (rng() < 0.03 ? 1 : 0)],
    ['a constant', () => 7],
    // Quieter at night (Poisson noise follows the level): the first nights are new, not anomalous.
    ['a count with a daily cycle, quiet at night', (rng, i) => poisson(rng, 10 * (1 + 0.9 * Math.sin((2 * Math.PI * i) / 1440)))],
    ['multiplicative noise on a daily cycle', (rng, i) => (100 + 80 * Math.sin((2 * Math.PI * i) / 1440)) * (1 + 0.05 * gauss(rng))],
    ['a random walk', (rng, _i, memo) => (memo.x = (memo.x ?? 100) + gauss(rng))],
  ])('%s (three days at 1-minute cadence, five seeds)', (_name, gen) => {
    for (const seed of [1, 2, 3, 4, 5]) expect(spreadFlags(onset(series(4320, gen, seed)))).toEqual([]);
  });
});

describe('configuration', () => {
  const s = stick(series(3000, white, 10), 2000, 200);
  it.each<[string, DetectorConfigInput, boolean]>([
    ['both directions (the default)', {}, true],
    // A flatline has no direction: a detector watching one direction only does not page for it.
    ['direction up', { direction: 'up' }, false],
    ['direction down', { direction: 'down' }, false],
    // The noise that vanished (sd 5) is below the smallest change that may page.
    ['minAbsDeviation above the noise', { minAbsDeviation: 6 }, false],
    ['minRelDeviation above the noise', { minRelDeviation: 0.1 }, false],
    ['minAbsDeviation below the noise', { minAbsDeviation: 2 }, true],
  ])('%s', (_name, config, pages) => {
    expect(spreadFlags(onset(s, config), 2000).length > 0).toBe(pages);
  });
});

describe('saved state', () => {
  const s = stick(series(3000, cpuLike, 11), 2000, 200);

  it('resumes exactly through a flatline (JSON round trips)', () => {
    const uninterrupted = onset(s).map((r) => r.score);
    let state: DetectorState = createDetectorState({ detector: 'onset' });
    const resumed = s.values.map((value, i) => {
      if (i % 97 === 0) state = JSON.parse(JSON.stringify(state)) as DetectorState;
      return stepDetector(state, { timestamp: s.timestamps[i]!, value }).score;
    });
    expect(resumed).toEqual(uninterrupted);
  });

  it('a state saved before the spread channel existed resumes, and the channel starts learning', () => {
    const state = createDetectorState({ detector: 'onset' }) as OnsetState;
    runDetector({}, { timestamps: s.timestamps.slice(0, 1000), values: s.values.slice(0, 1000) }, state);
    const old = JSON.parse(JSON.stringify(state)) as Partial<OnsetState>;
    delete old.spread;
    delete old.spreadGate;
    delete old.pin;
    delete old.budget;
    const rest = runDetector({}, { timestamps: s.timestamps.slice(1000), values: s.values.slice(1000) }, old as OnsetState);
    for (const r of rest) expect(Number.isFinite(r.score)).toBe(true);
    expect((old as OnsetState).spread?.n).toBeGreaterThan(900);
    // 1000 rows after the restart the channel is calibrated again and finds the flatline.
    expect(spreadFlags(rest).some((i) => i >= 1000 && i <= 1012)).toBe(true);
  });
});
