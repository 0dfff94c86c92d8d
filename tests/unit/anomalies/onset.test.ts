import { describe, expect, it } from 'vitest';
import { createDetectorState, stepDetector } from '../../../src/anomalies/detectors/index.ts';
import { gaussianSurprise, ONSET_TUNING } from '../../../src/anomalies/detectors/onset.ts';
import { createRng } from '../../fixtures/anomalies/generate-eval-set.ts';
import { MINUTE, START, flagged, noiseSeries, runDetector, withTuning } from './run-detector.ts';
import type { Series } from './run-detector.ts';

/**
 * The onset detector's score semantics: a row scores by how newly surprising it is. An anomaly
 * pages where it starts (or where it becomes newly visible), not for as long as it lasts; ordinary
 * rows of noisy, heavy-tailed or quantised series stay low because every series is measured
 * against its own history.
 */
const onset = (s: Series, extra: Record<string, unknown> = {}) => runDetector({ detector: 'onset', ...extra }, s);

/** Scores of `s` with the state saved as JSON at `row`, edited by `edit` (e.g. to look like an older version's), and resumed. */
function scoresResumedAt(s: Series, row: number, edit: (saved: Record<string, unknown>) => void): number[] {
  let state = createDetectorState({ detector: 'onset' });
  const scores: number[] = [];
  for (let i = 0; i < s.values.length; i++) {
    if (i === row) {
      const saved = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
      edit(saved);
      state = saved as unknown as typeof state;
    }
    scores.push(stepDetector(state, { timestamp: s.timestamps[i]!, value: s.values[i]! }).score);
  }
  return scores;
}

function heavyTailed(n: number, seed: number): Series {
  const rng = createRng(seed);
  const g = () => Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    let chi = 0;
    for (let k = 0; k < 3; k++) chi += g() ** 2;
    timestamps.push(START + i * MINUTE);
    values.push(50 + (2 * g()) / Math.sqrt(chi / 3));
  }
  return { timestamps, values };
}

describe('onset scores', () => {
  it('pages a sustained shift at its start, then stays quiet while it persists', () => {
    const s = noiseSeries(3000, { sigma: 2, seed: 3 });
    for (let i = 1500; i < s.values.length; i++) s.values[i]! += 16;
    const r = onset(s);
    const flags = flagged(r, 1000);
    expect(flags[0]).toBeGreaterThanOrEqual(1500);
    expect(flags[0]).toBeLessThanOrEqual(1503);
    // Persistence is not news: nothing more once the onset has been reported.
    expect(flagged(r, 1510)).toEqual([]);
    // Scores fall back below the threshold within a few rows.
    expect(Math.max(...r.slice(1510, 1600).map((x) => x.score))).toBeLessThan(0.5);
  });

  it('pages a second, larger change on top of the first (something new)', () => {
    const s = noiseSeries(3000, { sigma: 2, seed: 4 });
    for (let i = 1500; i < s.values.length; i++) s.values[i]! += 16;
    for (let i = 1700; i < s.values.length; i++) s.values[i]! += 60;
    const flags = flagged(onset(s), 1000);
    expect(flags.some((i) => i >= 1500 && i <= 1503)).toBe(true);
    expect(flags.some((i) => i >= 1700 && i <= 1703)).toBe(true);
  });

  it('does not page when a dip recovers to the level it had before', () => {
    const s = noiseSeries(3000, { sigma: 2, seed: 5 });
    for (let i = 1500; i < 1560; i++) s.values[i]! -= 30;
    const flags = flagged(onset(s), 1000);
    expect(flags.some((i) => i >= 1500 && i <= 1503)).toBe(true);
    expect(flags.filter((i) => i > 1505)).toEqual([]);
  });

  it('keeps heavy-tailed noise quiet but still pages an outlier far beyond its tails', () => {
    const s = heavyTailed(4000, 6);
    expect(flagged(onset(s), 600).length).toBeLessThanOrEqual(2);
    s.values[3000] = 50 + 400;
    expect(flagged(onset(s))).toContain(3000);
  });

  it('gives smooth, rankable scores in [0, 1] (not just 0 and 1)', () => {
    const s = noiseSeries(2000, { sigma: 2, seed: 7 });
    s.values[1500]! += 9; // 4.5 sigma: notable, not extreme
    s.values[1800]! += 40;
    const r = onset(s).map((x) => x.score);
    for (const x of r) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    // Rows that are not newly surprising score 0; the others spread over (0, 1).
    expect(new Set(r.filter((x) => x > 0 && x < 1)).size).toBeGreaterThan(20);
    expect(r[1800]!).toBeGreaterThan(r[1500]!);
  });

  // The climb gate: evidence that grows a little on every row never beats the memory of the row
  // before it by the gate's margin, so before the gate a drift paged nowhere however far it went.
  const drift = (seed: number) => {
    const s = noiseSeries(3000, { sigma: 2, seed });
    for (let i = 1500; i < s.values.length; i++) s.values[i]! += 16 * Math.min(1, (i - 1500 + 1) / 200); // 8 sigma over 200 rows
    return s;
  };
  it.each([1, 2, 3])('pages a slow drift once its evidence has built up, and not on every row while it persists (seed %i)', (seed) => {
    const flags = flagged(onset(drift(seed)), 1000);
    expect(flags.filter((i) => i < 1500)).toEqual([]);
    const during = flags.filter((i) => i >= 1500 && i < 1700);
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(flags.filter((i) => i >= 1500).length).toBeLessThanOrEqual(3);
  });

  it('never paged that drift through the memory gate alone (no climb gate, no calibration hold)', () => {
    withTuning({ climbGate: false, holdCap: 0 }, () => {
      expect(flagged(onset(drift(1)), 1000)).toEqual([]);
    });
  });

  it('resumes a state saved before the climb gate existed', () => {
    const s = drift(1);
    const resumed = scoresResumedAt(s, 1200, (saved) => {
      expect(saved.climb).toMatchObject({ on: false, reported: 0 });
      delete saved.climb;
    });
    // Created on the next row; nothing was on at row 1200, so the scores are the same.
    expect(resumed).toEqual(onset(s).map((r) => r.score));
  });

  // The memory cap: an extreme event is remembered as 10 decades, not 20, so the series is not blind
  // to the next notable event for the ~200 rows a 20-decade memory takes to decay.
  const twoSpikes = (seed: number) => {
    const s = noiseSeries(3000, { sigma: 2, seed });
    s.values[1500]! += 400; // 200 sigma
    s.values[1650]! += 30; // 15 sigma, 150 rows later
    return s;
  };
  it.each([1, 2, 3, 4, 5])('pages a 15-sigma spike 150 rows after a 200-sigma one (seed %i)', (seed) => {
    const r = onset(twoSpikes(seed));
    expect(r[1500]!.score).toBeGreaterThan(0.9);
    expect(r[1650]!.score).toBeGreaterThanOrEqual(0.5);
  });

  it('missed that second spike when the memory held the whole 20-decade surprise (and was not forgotten)', () => {
    withTuning({ memoryCap: 20, forgetRows: 0 }, () => {
      expect(onset(twoSpikes(1))[1650]!.score).toBeLessThan(0.5);
    });
  });

  // Forgetting (ONSET_TUNING.forgetRows): once the series has been quiet for a while, the first
  // event is over and the memory of it no longer hides a second one of a smaller size.
  const spikeAfter = (seed: number) => {
    const s = noiseSeries(3000, { sigma: 2, seed });
    s.values[1500]! += 400; // 200 sigma
    s.values[1620]! += 18; // 9 sigma, 120 rows later
    return s;
  };
  it.each([1, 2, 3, 4, 5])('pages a 9-sigma spike 120 rows after a 200-sigma one, the first forgotten (seed %i)', (seed) => {
    expect(onset(spikeAfter(seed))[1620]!.score).toBeGreaterThanOrEqual(0.5);
  });
  it('missed most of those second spikes while the memory of the first decayed by its half-life alone', () => {
    const seeds = [1, 2, 3, 4, 5];
    const now = seeds.map((seed) => onset(spikeAfter(seed))[1620]!.score);
    const before = withTuning({ forgetRows: 0 }, () => seeds.map((seed) => onset(spikeAfter(seed))[1620]!.score));
    expect(before.filter((x) => x >= 0.5).length).toBeLessThanOrEqual(1);
    for (let i = 0; i < seeds.length; i++) expect(before[i]!).toBeLessThan(now[i]!);
  });

  // The calibration hold: rows the calibration finds surprising are learned winsorized tighter, so
  // one long anomaly does not teach it that such stretches are ordinary, and the same anomaly a
  // while later still pages; a return to the previous normal that began inside the recovery window
  // keeps its discount while the longer averages settle.
  const twoRamps = (seed: number) => {
    const s = noiseSeries(3200, { sigma: 2, seed });
    for (let i = 1200; i < 1500; i++) s.values[i]! += 16 * Math.min(1, (i - 1200 + 1) / 200); // 8 sigma over 200 rows, back at 1500
    for (let i = 2300; i < 2500; i++) s.values[i]! += 16 * Math.min(1, (i - 2300 + 1) / 200); // the same ramp again
    return s;
  };
  const peak = (r: { score: number }[], from: number, to: number) => Math.max(...r.slice(from, to).map((x) => x.score));
  it.each([1, 2, 3, 5])('pages the same ramp again 800 rows after the first (seed %i)', (seed) => {
    const r = onset(twoRamps(seed));
    expect(peak(r, 2300, 2500)).toBeGreaterThanOrEqual(0.5);
  });

  it('found the second ramp less surprising when the calibration learned the first one (seeds 1-5)', () => {
    const before = [1, 2, 3, 4, 5].map((seed) => peak(onset(twoRamps(seed)), 2300, 2500));
    const without = withTuning({ holdCap: 0 }, () => [1, 2, 3, 4, 5].map((seed) => peak(onset(twoRamps(seed)), 2300, 2500)));
    for (let i = 0; i < 5; i++) expect(without[i]!).toBeLessThan(before[i]!);
    expect(without.filter((x) => x >= 0.5).length).toBe(0);
  });

  it.each([1, 2, 3, 4, 5])('does not page while a return to the previous level settles (seed %i)', (seed) => {
    const flags = flagged(onset(twoRamps(seed)), 1000, 2300);
    expect(flags.some((i) => i >= 1200 && i < 1500)).toBe(true);
    expect(flags.filter((i) => i >= 1500)).toEqual([]);
  });

  it('paged those returns again ~30 rows later, when the recovery window ran out, without the settling return', () => {
    const late = withTuning({ recoverySettle: false }, () => [1, 2, 3, 4, 5].map((seed) => flagged(onset(twoRamps(seed)), 1500, 2300)));
    expect(late.filter((flags) => flags.some((i) => i > 1505)).length).toBeGreaterThanOrEqual(4);
  });

  it('resumes a state saved before the calibration hold and the settling return existed', () => {
    const s = twoRamps(1);
    const resumed = scoresResumedAt(s, 1100, (saved) => {
      const cal = saved.cal as Record<string, unknown>;
      expect(cal.held).toBe(0);
      delete cal.held;
      if (saved.ref) delete (saved.ref as Record<string, unknown>).back;
    });
    // Nothing was held or settling at row 1100: the scores are the same.
    expect(resumed).toEqual(onset(s).map((r) => r.score));
  });

  it('uses the Gaussian upper tail for its surprise', () => {
    expect(gaussianSurprise(0)).toBe(0);
    expect(gaussianSurprise(1.2816)).toBeCloseTo(1, 3); // Q = 0.1
    expect(gaussianSurprise(3.0902)).toBeCloseTo(3, 2); // Q = 0.001
    expect(gaussianSurprise(5.9978)).toBeCloseTo(9, 1); // Q = 1e-9, asymptotic branch
  });
});
