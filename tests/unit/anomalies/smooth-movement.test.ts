import { describe, expect, it } from 'vitest';
import { createDetectorState, stepDetector } from '../../../src/anomalies/detectors/index.ts';
import type { DetectorState, EwmaState, SeasonalState } from '../../../src/anomalies/detectors/index.ts';
import { createRng, findSeriesKind, generateSeries } from '../../fixtures/anomalies/generate-eval-set.ts';
import { scoreSeries } from '../../fixtures/anomalies/score-detections.ts';
import { MINUTE, START, flagged, runDetector } from './run-detector.ts';
import type { Series } from './run-detector.ts';

/**
 * Smooth, slow, ordinary movement (a daily cycle before its period can be detected, a slow trend,
 * a random walk) must not page with the default detector, while real anomalies on the same
 * series still do. See "Slow movement" in docs/anomaly-detection.md.
 */

const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

type Shape = { amplitude: number; phase: number; sigma?: number; periodMs?: number; ar?: number };

/** level 100 + amplitude * sin(daily phase) + (AR) Gaussian noise, one point per cadence. */
function cycleSeries(hours: number, shape: Shape, seed: number, cadenceMs = MINUTE): Series {
  const rng = createRng(seed);
  const { amplitude, phase, sigma = 1, periodMs = DAY, ar = 0 } = shape;
  const timestamps: number[] = [];
  const values: number[] = [];
  let noise = 0;
  for (let t = START; t < START + hours * HOUR; t += cadenceMs) {
    noise = ar * noise + Math.sqrt(1 - ar * ar) * gaussian(rng);
    timestamps.push(t);
    values.push(100 + amplitude * Math.sin((2 * Math.PI * (t % periodMs)) / periodMs + phase) + sigma * noise);
  }
  return { timestamps, values };
}

/** The scanner's episodes: anomalous points, closed after 3 normal ones. */
function episodes(scores: number[]): number {
  let count = 0;
  let normals = 3;
  for (const s of scores) {
    if (s >= 0.5) {
      if (normals >= 3) count++;
      normals = 0;
    } else normals++;
  }
  return count;
}

const defaultScores = (series: Series) => runDetector({}, series).map((r) => r.score);

// Daily cycles from 5 to 25 noise sigmas of amplitude, starting anywhere in the day (the first
// ramp of a series is the hardest case: nothing before it says that ramps are normal).
const CYCLES: [number, number, number][] = [];
for (const amplitude of [5, 10, 15, 25]) for (const phase of [0, 1.5, 3, 4.5]) CYCLES.push([amplitude, phase, CYCLES.length + 1]);

describe('an unseen daily cycle (first 36 hours, 1-minute cadence)', () => {
  it.each(CYCLES)('amplitude %i sigma, phase %f: at most 3 anomalous points', (amplitude, phase, seed) => {
    const series = cycleSeries(36, { amplitude, phase }, seed);
    expect(flagged(runDetector({}, series)).length).toBeLessThanOrEqual(3);
  });

  it('all of them together open at most 2 episodes', () => {
    const total = CYCLES.reduce((n, [amplitude, phase, seed]) => n + episodes(defaultScores(cycleSeries(36, { amplitude, phase }, seed))), 0);
    expect(total).toBeLessThanOrEqual(2);
  });

  // The budget above is tight enough to fail: the same kind of series with a ramp that is not part
  // of the cycle (12 sigma over an hour on the second day, on top of it) breaks it. ewma (the
  // default's member) flags the ramp for as long as it lasts; the default (onset) pages where it
  // becomes visible and then stays quiet while it persists.
  const withRamp = () => {
    const series = cycleSeries(36, { amplitude: 5, phase: 0 }, 99);
    const from = series.timestamps.findIndex((t) => t >= START + 30 * HOUR);
    for (let i = from; i < series.values.length; i++) series.values[i]! += 12 * Math.min(1, (i - from) / 60);
    return { series, from };
  };
  it('a ramp that is not part of the cycle still breaks that budget (the tests above can fail)', () => {
    const { series, from } = withRamp();
    expect(flagged(runDetector({ detector: 'ewma' }, series), from).length).toBeGreaterThan(3);
    const onsets = flagged(runDetector({}, series), from);
    expect(onsets.length).toBeGreaterThan(0);
    expect(onsets[0]! - from).toBeLessThanOrEqual(60);
  });
});

describe('other smooth movement', () => {
  it.each([
    // name, series, max anomalous points
    ['a 12-hour cycle (no candidate period) over 3 days', () => cycleSeries(72, { amplitude: 10, phase: 1, periodMs: 12 * HOUR }, 7), 10],
    ['a daily cycle with AR(0.7) noise at 5-minute cadence over 12 days', () => cycleSeries(288, { amplitude: 15, phase: 2, sigma: 3, ar: 0.7 }, 8, 5 * MINUTE), 6],
    ['a slow trend with AR(0.8) noise', () => {
      const rng = createRng(9);
      let ar = 0;
      const values = Array.from({ length: 3000 }, (_, i) => (ar = 0.8 * ar + 0.6 * gaussian(rng)) + 20 + 0.01 * i);
      return { timestamps: values.map((_, i) => START + i * MINUTE), values };
    }, 3],
  ] as [string, () => Series, number][])('%s stays quiet', (_name, make, max) => {
    expect(flagged(runDetector({}, make())).length).toBeLessThanOrEqual(max);
  });

  it('random walks page rarely (fewer than 1 episode per series on average)', () => {
    let total = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const rng = createRng(seed * 31);
      let x = 500;
      const values = Array.from({ length: 3000 }, () => (x += gaussian(rng)) + 0.5 * gaussian(rng));
      total += episodes(defaultScores({ timestamps: values.map((_, i) => START + i * 5 * MINUTE), values }));
    }
    expect(total).toBeLessThan(10);
  });
});

describe('real anomalies during the first day are still caught', () => {
  // Injected between hours 4 and 22 of an unseen daily cycle: single-point spikes and dips of 10
  // sigma at once (cycles up to 8 noise sigmas), a 6-sigma level shift within a few points (up to
  // 5). Steeper unseen cycles hide them: see Known limits in docs/anomaly-detection.md.
  const CASES: ['spike' | 'dip' | 'level_shift', number, number, number][] = [];
  for (const amplitude of [3, 5, 8]) {
    for (const phase of [0, 1.5, 3, 4.5]) {
      for (const type of ['spike', 'dip', 'level_shift'] as const) {
        // A 6-sigma shift on the steepest ramp of an 8-sigma cycle can stay under the threshold.
        if (type === 'level_shift' && amplitude > 5) continue;
        CASES.push([type, amplitude, phase, CASES.length + 100]);
      }
    }
  }
  const inject = (type: 'spike' | 'dip' | 'level_shift', amplitude: number, phase: number, seed: number) => {
    const series = cycleSeries(24, { amplitude, phase }, seed);
    const at = 4 * 60 + ((seed * 97) % (18 * 60));
    const size = type === 'spike' ? 10 : type === 'dip' ? -10 : 6;
    const end = type === 'level_shift' ? series.values.length : at + 1;
    for (let i = at; i < end; i++) series.values[i]! += size;
    return { series, at };
  };
  it.each(CASES)('ewma: %s on a %i-sigma cycle, phase %f (seed %i)', (type, amplitude, phase, seed) => {
    const { series, at } = inject(type, amplitude, phase, seed);
    const first = flagged(runDetector({ detector: 'ewma' }, series), at)[0];
    expect(first).toBeDefined();
    expect(first! - at).toBeLessThanOrEqual(type === 'level_shift' ? 5 : 0);
  });
  // The default (onset) needs 200 scored rows (3.3 hours here) before it pages at all, and a
  // single point on the steep ramp of an unseen 8-sigma cycle is not surprising enough for it
  // (known limit, docs/anomaly-detection.md): those cases are ewma's only.
  // Its averages are also widened while few have been seen (the first day is all it has), so a
  // 6-sigma shift can take a few more points (up to 8) than with ewma.
  it.each(CASES.filter(([, amplitude]) => amplitude <= 5))('default: %s on a %i-sigma cycle, phase %f (seed %i)', (type, amplitude, phase, seed) => {
    const { series, at } = inject(type, amplitude, phase, seed);
    const first = flagged(runDetector({}, series), at)[0];
    expect(first).toBeDefined();
    expect(first! - at).toBeLessThanOrEqual(type === 'level_shift' ? 8 : 0);
  });
});

describe('when the daily period is first detected', () => {
  // ewma: detection re-deseasonalizes the level; counting the new profile's offset twice used to
  // flag the hours after detection on every daily series. seasonal rebuilds its window from the raw
  // values minus the new profile, so it never had that bug; the case pins it down.
  const CASES: Array<['ewma' | 'seasonal' | 'onset', number]> = [];
  for (const detector of ['ewma', 'seasonal', 'onset'] as const) for (const phase of [0, 1.5, 3, 4.5]) CASES.push([detector, phase]);
  it.each(CASES)('%s: nothing is flagged around the detection (phase %f)', (detector, phase) => {
    const series = cycleSeries(96, { amplitude: 15, phase }, 3);
    const state = createDetectorState({ detector });
    const season = () => (state.detector === 'onset' ? state.parts.ewma : (state as EwmaState | SeasonalState)).model.season;
    let detectedAt: number | null = null;
    const scores = series.values.map((value, i) => {
      const r = stepDetector(state, { timestamp: series.timestamps[i]!, value });
      if (detectedAt === null && season().periodMs === DAY) detectedAt = i;
      return r.score;
    });
    expect(detectedAt).not.toBeNull();
    expect(scores.slice(detectedAt! - 60, detectedAt! + 6 * 60).filter((s) => s >= 0.5)).toEqual([]);
  });
});

/** level 20 + slope per point + AR(0.6) unit noise, plus an optional ramp of `size` over `length` points from `at`. */
function trendSeries(n: number, slope: number, seed: number, ramp?: { at: number; size: number; length: number }, cadenceMs = MINUTE, ar = 0.6): Series {
  const rng = createRng(seed);
  let noise = 0;
  const values = Array.from({ length: n }, (_, i) => {
    noise = ar * noise + Math.sqrt(1 - ar * ar) * gaussian(rng);
    const drift = ramp && i >= ramp.at ? ramp.size * Math.min(1, (i - ramp.at + 1) / ramp.length) : 0;
    return 20 + slope * i + noise + drift;
  });
  return { timestamps: values.map((_, i) => START + i * cadenceMs), values };
}

describe('drifts on a steadily trending series', () => {
  // A steady trend keeps the drift statistic (fast - slow) at slope x lag; that usual value is
  // subtracted (shrunk by its standard error), so it no longer counts as slow movement.
  // ewma's drift statistic (the default, onset, calibrates it: see the eval's drift rows).
  it('the eval generator\'s trend-ar drifts: at least 8 of 24 windows found by ewma (1 before the change)', () => {
    let found = 0;
    let windows = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const series = generateSeries(findSeriesKind('trend-ar'), 'drift', seed);
      const counts = scoreSeries(series, runDetector({ detector: 'ewma' }, series).map((r) => r.score), 0.5);
      found += counts.detected;
      windows += counts.windows;
      expect(counts.fpEvents).toBe(0);
    }
    expect(windows).toBe(24);
    expect(found).toBeGreaterThanOrEqual(8);
  });

  // 18 series of 2000 points (25 series-days at 1-minute cadence). Before the usual value was
  // subtracted, each flagged hundreds of points; now the trend is not a drift, and what may remain
  // is a rare noise cluster reported by the climb gate (onset.ts: one sustained 3.6-sigma run in
  // seed 5, found on slopes 0.004 and 0.01). The ratio channel (ratio-channel.ts) adds one flag on
  // three of the six slope -0.01 series, which drain from 20 to 0: with the level 3-8 noise sigmas
  // above zero, a two-row dip of 3.5 sigmas is a large relative change (its additive-noise guard
  // does not fully cover a level falling this far). At most one per series and five in all: five
  // times under the product's target of fewer than one false episode per series per day.
  it('slopes 0.004, 0.01, -0.01 (seeds 1-6) with AR(0.6) noise: at most one flag a series, five in all, in 2000 points each', () => {
    const flags: string[] = [];
    for (const slope of [0.004, 0.01, -0.01]) {
      for (let seed = 1; seed <= 6; seed++) {
        const rows = flagged(runDetector({}, trendSeries(2000, slope, seed)));
        expect(rows.length, `slope ${slope} seed ${seed}: ${rows.join(', ')}`).toBeLessThanOrEqual(1);
        flags.push(...rows.map((r) => `slope ${slope} seed ${seed} row ${r}`));
      }
    }
    expect(flags.length, flags.join('; ')).toBeLessThanOrEqual(5);
  });

  // Adopting an episode restarts the drift statistic at its usual value; restarting it at zero
  // made seeds 5 and 8 below flag hundreds of points after the shift was adopted.
  const STEEP: [number, number][] = [];
  for (const slope of [0.05, 0.2]) for (let seed = 1; seed <= 8; seed++) STEEP.push([slope, seed]);
  it.each(STEEP)('slope %f (seed %i) with AR(0.8) noise stays quiet around an adopted level shift', (slope, seed) => {
    const series = trendSeries(4000, slope, seed, { at: 1500, size: 8, length: 1 }, 5 * MINUTE, 0.8);
    const results = runDetector({}, series);
    expect(flagged(results, 600, 1500).length + flagged(results, 1600).length).toBeLessThanOrEqual(6);
  });
});

describe('states saved before the slow-movement fields existed', () => {
  it('resume with finite scores and keep catching spikes', () => {
    const series = cycleSeries(30, { amplitude: 10, phase: 1 }, 5);
    const state = createDetectorState({ detector: 'ewma' }) as EwmaState;
    series.values.slice(0, 1000).forEach((value, i) => stepDetector(state, { timestamp: series.timestamps[i]!, value }));
    const old = JSON.parse(JSON.stringify(state)) as EwmaState;
    delete old.model.absDiff;
    delete old.model.prevY;
    delete old.model.driftMean;
    const rest = series.values.slice(1000).map((value, i) => stepDetector(old as DetectorState, { timestamp: series.timestamps[1000 + i]!, value: i === 300 ? value + 15 : value }));
    for (const r of rest) expect(Number.isFinite(r.score)).toBe(true);
    expect(rest[300]!.score).toBeGreaterThanOrEqual(0.5);
  });
});
