import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DETECTOR,
  DETECTOR_NAMES,
  applyFeedback,
  createDetectorState,
  detectors,
  stepDetector,
} from '../../../src/anomalies/detectors/index.ts';
import type { DetectorName, DetectorState } from '../../../src/anomalies/detectors/index.ts';
import { findSeriesKind, generateSeries } from '../../fixtures/anomalies/generate-eval-set.ts';
import { MINUTE, START, flagged, noiseSeries, runDetector } from './run-detector.ts';

const ALL = [...DETECTOR_NAMES];

describe('registry and config', () => {
  it('exposes every detector by name and a default among them', () => {
    expect(Object.keys(detectors).sort()).toEqual([...DETECTOR_NAMES].sort());
    expect(DETECTOR_NAMES).toContain(DEFAULT_DETECTOR);
    expect(createDetectorState().detector).toBe(DEFAULT_DETECTOR);
  });

  it.each([
    // Each case is a config the zod schema must refuse.
    [{ detector: 'prophet' }],
    [{ sensitivity: 'extreme' }],
    [{ sensitivity: 0 }],
    [{ direction: 'sideways' }],
    [{ minRelDeviation: -1 }],
    [{ window: 2 }],
    [{ seasonality: 'monthly' }],
    [{ adaptAfterMs: 0 }],
    [{ threshold: 3 }],
  ])('rejects %j', (config) => {
    expect(() => createDetectorState(config as never)).toThrow();
  });
});

describe('warm-up', () => {
  it.each(ALL)('%s emits score 0 during warm-up, however wild the values', (detector) => {
    const series = noiseSeries(200);
    series.values[10] = 1e6;
    series.values[20] = -1e6;
    const results = runDetector({ detector, warmup: 40 }, series);
    for (const r of results.slice(0, 40)) {
      expect(r.score).toBe(0);
      expect(r.explanation.status).toBe('warmup');
    }
    expect(results[40]!.explanation.status).toBe('scored');
  });
});

describe('level-shift adaptation', () => {
  // A +15 sigma step at point 400 that stays: flagged at once, normal after adaptAfterMs.
  const shifted = () => {
    const s = noiseSeries(900, { sigma: 2 });
    for (let i = 400; i < s.values.length; i++) s.values[i]! += 30;
    return s;
  };

  it.each(ALL)('%s stops flagging a sustained shift after adaptAfterMs', (detector) => {
    const results = runDetector({ detector, adaptAfterMs: 20 * MINUTE }, shifted());
    expect(results[400]!.score).toBeGreaterThanOrEqual(0.5);
    expect(flagged(results, 400 + 20 + 5)).toEqual([]);
  });

  // The level detectors score "is this point abnormal": a shift stays flagged until adopted.
  it.each(ALL.filter((d) => d !== 'onset'))('%s keeps flagging while the shift is younger than adaptAfterMs', (detector) => {
    const results = runDetector({ detector, adaptAfterMs: 120 * MINUTE }, shifted());
    // The episode is still open 60 points in: the longer setting must not have adapted yet.
    expect(flagged(results, 455, 465).length).toBeGreaterThan(0);
  });

  // onset scores "does an anomaly start here": the shift pages at its start, and its persistence
  // (nothing new happening) does not page again, however long the member takes to adopt it.
  it.each([20, 120])('onset flags the shift at its start only (adaptAfterMs %i minutes)', (minutes) => {
    const results = runDetector({ detector: 'onset', adaptAfterMs: minutes * MINUTE }, shifted());
    const flags = flagged(results);
    expect(flags.length).toBeGreaterThan(0);
    expect(flags[0]).toBeGreaterThanOrEqual(400);
    expect(flags[0]).toBeLessThanOrEqual(402);
    expect(flagged(results, 410)).toEqual([]);
  });
});

describe('a series that sat still before it started moving', () => {
  // 300 rows at 0 (a metric before its service had traffic), then noise around 100 (sigma 5), and
  // a +5 sigma shift from row 2000. The sustained statistics' spreads, learned as 0 on the still
  // start, used to stay far too small: the ewma member found every later row anomalous (so learned
  // nothing more) and onset, calibrated on that, missed the shift.
  // With `blip`, a lone 1 at row 100 (flagged, never learned) first: the member then had no scale
  // at all to widen when it adopted the traffic, and stayed at 0 (every row anomalous again).
  const series = (blip = false) => {
    const s = noiseSeries(2400, { sigma: 5, seed: 3 });
    for (let i = 0; i < 300; i++) s.values[i] = blip && i === 100 ? 1 : 0;
    for (let i = 2000; i < s.values.length; i++) s.values[i]! += 25;
    return s;
  };

  it.each([
    ['ewma', false],
    ['onset', false],
    ['ewma', true],
    ['onset', true],
  ] as const)('%s settles on the noise and finds the later shift (blip first: %s)', (detector, blip) => {
    const results = runDetector({ detector }, series(blip));
    expect(flagged(results, 800, 2000).length).toBeLessThanOrEqual(2);
    expect(flagged(results, 2000, 2030).length).toBeGreaterThan(0);
  });
});

describe('a series that stood still, or was much quieter, then came alive', () => {
  // 150 rows at 0 ('still') or of noise a tenth as large ('quiet'), then noise around 100 (sigma 5)
  // with a 12-sigma spike every 300 to 500 rows. The ewma member flags every row of the first change
  // until it adopts the new level; the calibration used to learn those rows as ordinary, which left
  // its single-row tail so heavy that such spikes scored 0.0-0.5 for some 2,000 rows. A still
  // series' calibration now starts over once that first episode is adopted; a quieter one's is set
  // back to what it was when the episode began.
  // With `blip`, a lone 1 at row 60 (flagged, not adopted) comes first: it does not use up the restart.
  const spikes = [450, 750, 1150, 1650, 2150];
  const series = (seed: number, start: 'still' | 'quiet', blip = false) => {
    const s = noiseSeries(2400, { sigma: 5, seed });
    for (let i = 0; i < 150; i++) s.values[i] = start === 'quiet' ? 100 + (s.values[i]! - 100) / 10 : blip && i === 60 ? 1 : 0;
    for (const i of spikes) s.values[i]! += 60;
    return s;
  };

  it.each([
    [1, 'still', false],
    [2, 'still', false],
    [3, 'still', false],
    [1, 'still', true],
    [2, 'still', true],
    [1, 'quiet', false],
    [2, 'quiet', false],
    [3, 'quiet', false],
  ] as const)('onset finds every later spike (seed %i, %s start, blip first: %s)', (seed, start, blip) => {
    const results = runDetector({ detector: 'onset' }, series(seed, start, blip));
    // Spikes alone in 2,000 rows of noise score 0.6-0.9 at 12 sigma; before the fix 0.0-0.5 here.
    const scores = spikes.map((i) => results[i]!.score);
    expect(Math.min(...scores)).toBeGreaterThanOrEqual(0.4);
    expect(scores.reduce((a, b) => a + b, 0) / scores.length).toBeGreaterThanOrEqual(0.55);
    expect(flagged(results, 400, 2400).filter((i) => !spikes.includes(i)).length).toBeLessThanOrEqual(3);
  });

  it.each(['still', 'quiet'] as const)('onset resumes exactly from JSON saved while the %s series comes alive', (start) => {
    const s = series(1, start);
    const uninterrupted = runDetector({ detector: 'onset' }, s).map((r) => r.score);
    let state: DetectorState = createDetectorState({ detector: 'onset' });
    const resumed = s.values.map((value, i) => {
      // Saved on every row of the first change and its adoption (the copy of the calibration included).
      if ((i >= 140 && i <= 200) || i % 97 === 0) state = JSON.parse(JSON.stringify(state)) as DetectorState;
      return stepDetector(state, { timestamp: s.timestamps[i]!, value }).score;
    });
    expect(resumed).toEqual(uninterrupted);
  });

  it('the restart needs an adopted change: a single blip of a series at 0 changes nothing', () => {
    const s = noiseSeries(1200, { sigma: 0, seed: 1 });
    for (let i = 0; i < s.values.length; i++) s.values[i] = i === 400 ? 1 : 0;
    const state = createDetectorState({ detector: 'onset' });
    runDetector({ detector: 'onset' }, s, state);
    const cal = (state as Extract<DetectorState, { detector: 'onset' }>).cal;
    expect(cal.n).toBeGreaterThan(1000);
  });
});

describe('resuming from saved state', () => {
  // Seasonal, gappy, irregular, with NaNs and spikes: every piece of state gets exercised.
  const series = generateSeries(findSeriesKind('irregular-gaps'), 'spike', 5);

  it.each(ALL)('%s gives identical scores after JSON round-trips mid-series', (detector) => {
    const uninterrupted = runDetector({ detector }, series).map((r) => r.score);
    let state: DetectorState = createDetectorState({ detector });
    const resumed: number[] = [];
    series.values.forEach((value, i) => {
      // Save and reload often, including right after warm-up and inside anomalies.
      if (i % 337 === 0 || i === 31) state = JSON.parse(JSON.stringify(state)) as DetectorState;
      resumed.push(stepDetector(state, { timestamp: series.timestamps[i]!, value }).score);
    });
    expect(resumed).toEqual(uninterrupted);
  });

  it.each(ALL)('%s state is plain JSON (survives a round-trip unchanged)', (detector) => {
    const state = createDetectorState({ detector });
    runDetector({ detector }, series, state);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});

describe('bad input and irregular time', () => {
  it.each(ALL)('%s skips NaN and Infinity with score 0 and without touching the state', (detector) => {
    const clean = noiseSeries(300, { seed: 3 });
    const dirty = { timestamps: [...clean.timestamps], values: [...clean.values] };
    const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    const inserted: number[] = [];
    for (let k = 0; k < 3; k++) {
      const at = 100 + 50 * k + k;
      dirty.timestamps.splice(at, 0, dirty.timestamps[at - 1]! + 1);
      dirty.values.splice(at, 0, bad[k]!);
      inserted.push(at);
    }
    const a = runDetector({ detector }, clean).map((r) => r.score);
    const results = runDetector({ detector }, dirty);
    for (const at of inserted) {
      expect(results[at]!.score).toBe(0);
      expect(results[at]!.explanation.status).toBe('skipped');
    }
    expect(results.filter((_, i) => !inserted.includes(i)).map((r) => r.score)).toEqual(a);
  });

  it.each(ALL)('%s survives gaps, duplicates and out-of-order timestamps with finite scores', (detector) => {
    const s = noiseSeries(1500, { seed: 4 });
    for (let i = 300; i < s.timestamps.length; i++) s.timestamps[i]! += 3 * 86_400_000; // three-day gap
    s.timestamps[700] = s.timestamps[699]!; // duplicate
    s.timestamps[900] = s.timestamps[899]! - 10 * MINUTE; // out of order
    s.timestamps[1000] = Number.NaN; // unusable time
    const results = runDetector({ detector }, s);
    for (const r of results) {
      expect(Number.isFinite(r.score)).toBe(true);
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(1);
      expect(Number.isNaN(r.explanation.deviation)).toBe(false);
    }
  });
});

describe('MAD floor', () => {
  /** 0 most of the time, 1 about 3% of the time: MAD is 0 in almost every window. */
  const mostlyZero = () => {
    const s = noiseSeries(1500, { seed: 9 });
    s.values = s.values.map((_, i) => ((i * 7919) % 33 === 0 ? 1 : 0));
    return s;
  };

  it.each(['mad', 'seasonal', 'ewma', 'ensemble'] as const)('%s does not flag the usual 1 in a mostly-zero series', (detector) => {
    expect(flagged(runDetector({ detector }, mostlyZero()))).toEqual([]);
  });

  it.each(['mad', 'seasonal', 'ewma', 'ensemble'] as const)('%s still flags a jump to 10 there', (detector) => {
    const s = mostlyZero();
    s.values[1200] = 10;
    expect(flagged(runDetector({ detector }, s))).toContain(1200);
  });

  it('keeps the band finite on a perfectly constant series and flags the first change', () => {
    const s = noiseSeries(300);
    s.values = s.values.map((_, i) => (i === 250 ? 5.5 : 5));
    const results = runDetector({ detector: 'mad' }, s);
    const r = results[250]!;
    expect(r.score).toBeGreaterThanOrEqual(0.5);
    expect(Number.isFinite(r.explanation.deviation)).toBe(true);
    expect(Number.isFinite(r.explanation.upper!)).toBe(true);
    expect(flagged(results, 0, 250)).toEqual([]);
  });

  it('quantized counters keep a band of at least half a step', () => {
    const s = noiseSeries(600, { seed: 2 });
    s.values = s.values.map((_, i) => (i % 50 === 0 ? 4 : 3));
    const results = runDetector({ detector: 'mad' }, s);
    const r = results[550]!;
    expect(r.explanation.upper! - r.explanation.expected!).toBeGreaterThanOrEqual(0.5);
    expect(flagged(results)).toEqual([]);
  });
});

describe('thresholds, direction and minimum deviations', () => {
  const withSpikes = () => {
    const s = noiseSeries(800, { sigma: 2, seed: 6 });
    s.values[300]! += 20; // 10 sigma up
    s.values[500]! -= 20; // 10 sigma down
    s.values[650] = 111; // 5.5 sigma above the level of 100
    return s;
  };

  it.each(ALL)('%s honours direction', (detector) => {
    const up = flagged(runDetector({ detector, direction: 'up' }, withSpikes()));
    const down = flagged(runDetector({ detector, direction: 'down' }, withSpikes()));
    expect(up).toContain(300);
    expect(up).not.toContain(500);
    expect(down).toContain(500);
    expect(down).not.toContain(300);
  });

  it.each(ALL)('%s ignores changes under minAbsDeviation', (detector) => {
    expect(flagged(runDetector({ detector, minAbsDeviation: 25 }, withSpikes()))).toEqual([]);
  });

  it.each(ALL)('%s ignores changes under minRelDeviation', (detector) => {
    // The spikes are 20% of the level at most.
    expect(flagged(runDetector({ detector, minRelDeviation: 0.25 }, withSpikes()))).toEqual([]);
  });

  // onset's sensitivity moves the surprise (tail probability against the series' own history)
  // that pages, not a number of sigmas: its counterpart is the monotonicity test below.
  it.each(ALL.filter((d) => d !== 'onset'))('%s flags the moderate spike on high sensitivity only', (detector) => {
    expect(flagged(runDetector({ detector, sensitivity: 'high' }, withSpikes()))).toContain(650);
    expect(flagged(runDetector({ detector, sensitivity: 'low' }, withSpikes()))).not.toContain(650);
  });

  it('onset flags more on higher sensitivity, and the first 10-sigma spike on every setting', () => {
    const at = (sensitivity: 'low' | 'medium' | 'high') => runDetector({ detector: 'onset', sensitivity }, withSpikes());
    const [low, medium, high] = [at('low'), at('medium'), at('high')];
    for (let i = 0; i < low.length; i++) {
      expect(medium[i]!.score).toBeGreaterThanOrEqual(low[i]!.score);
      expect(high[i]!.score).toBeGreaterThanOrEqual(medium[i]!.score);
    }
    for (const r of [low, medium, high]) expect(flagged(r)).toContain(300);
    // The dip 200 rows later scores lower than the spike (0.62 against 0.75 at medium): the memory
    // of the spike is forgotten by then (forgetRows), but the calibration has learned it.
    expect(high[500]!.score).toBeGreaterThan(low[500]!.score);
    expect(medium[500]!.score).toBeGreaterThan(0);
  });

  it.each(ALL)('%s explains a flag with a band that excludes the observation', (detector) => {
    const r = runDetector({ detector }, withSpikes())[300]!;
    const e = r.explanation;
    expect(e.detector).toBe(detector);
    expect(e.status).toBe('scored');
    expect(e.observed).toBe(withSpikes().values[300]);
    expect(e.lower!).toBeLessThan(e.expected!);
    expect(e.expected!).toBeLessThan(e.upper!);
    expect(e.observed!).toBeGreaterThan(e.upper!);
    expect(e.direction).toBe('up');
    expect(e.deviation).toBeGreaterThan(4);
  });
});

describe('seasonality', () => {
  const daily = generateSeries(findSeriesKind('daily-5m'), 'none', 21);
  const seasonOf = (state: DetectorState) =>
    state.detector === 'ensemble' ? state.parts.seasonal.model.season : state.detector === 'onset' ? state.parts.ewma.model.season : 'season' in state.model ? state.model.season : null;

  it.each(['seasonal', 'ewma', 'ensemble', 'onset'] as const)('%s detects a daily period from the data', (detector) => {
    const state = createDetectorState({ detector });
    runDetector({ detector }, daily, state);
    expect(seasonOf(state)?.periodMs).toBe(86_400_000);
  });

  it('finds no period in plain noise', () => {
    const state = createDetectorState({ detector: 'seasonal' });
    runDetector({ detector: 'seasonal' }, noiseSeries(5000, { cadenceMs: 5 * MINUTE }), state);
    expect(seasonOf(state)?.periodMs).toBeNull();
  });

  it('honours an override to no seasonality', () => {
    const state = createDetectorState({ detector: 'seasonal', seasonality: 'none' });
    runDetector({ detector: 'seasonal' }, daily, state);
    expect(seasonOf(state)?.periodMs).toBeNull();
  });

  it('honours an explicit period from the first point', () => {
    const state = createDetectorState({ detector: 'seasonal', seasonality: 'daily' });
    runDetector({ detector: 'seasonal' }, { timestamps: daily.timestamps.slice(0, 50), values: daily.values.slice(0, 50) }, state);
    expect(seasonOf(state)?.periodMs).toBe(86_400_000);
  });

  it('the seasonal baseline beats the plain MAD on a seasonal series', () => {
    // Same clean daily series: the profile should keep the band narrow, so fewer flags.
    const seasonalFlags = flagged(runDetector({ detector: 'seasonal' }, daily), 1000).length;
    const tight = flagged(runDetector({ detector: 'mad', sensitivity: 'high' }, daily), 1000).length;
    expect(seasonalFlags).toBeLessThan(tight);
  });
});

describe('feedback', () => {
  const repeated = () => {
    const s = noiseSeries(1200, { sigma: 2, seed: 8 });
    s.values[400]! += 16; // 8 sigma: flagged
    s.values[800]! += 16; // the same again after feedback: should not be
    s.values[1000]! += 40; // much bigger: still flagged
    return s;
  };

  it.each(ALL)('%s stops flagging an episode like one marked "not an anomaly"', (detector) => {
    const s = repeated();
    const state = createDetectorState({ detector });
    const first = runDetector({ detector }, { timestamps: s.timestamps.slice(0, 450), values: s.values.slice(0, 450) }, state);
    expect(first[400]!.score).toBeGreaterThanOrEqual(0.5);
    applyFeedback(state, { kind: 'not_anomaly', from: s.timestamps[395]!, to: s.timestamps[405]! });
    const rest = runDetector({ detector }, { timestamps: s.timestamps.slice(450), values: s.values.slice(450) }, state);
    expect(rest[800 - 450]!.score).toBeLessThan(0.5);
    expect(rest[1000 - 450]!.score).toBeGreaterThanOrEqual(0.5);
  });

  it('without feedback the repeat would have been flagged (the test above can fail)', () => {
    const results = runDetector({ detector: 'mad' }, repeated());
    expect(results[800]!.score).toBeGreaterThanOrEqual(0.5);
  });

  it('rejects malformed feedback', () => {
    const state = createDetectorState({ detector: 'mad' });
    expect(() => applyFeedback(state, { kind: 'not_anomaly', from: 10, to: 5 })).toThrow();
  });
});

describe('time comes from the data', () => {
  it.each(ALL)('%s scores identically whatever the wall clock (shifted epoch)', (detector) => {
    const a = noiseSeries(500, { seed: 12 });
    a.values[300]! += 30;
    const shift = 7 * 86_400_000; // whole weeks keep the seasonal phase
    const b = { timestamps: a.timestamps.map((t) => t + shift), values: a.values };
    expect(runDetector({ detector }, b).map((r) => r.score)).toEqual(runDetector({ detector }, a).map((r) => r.score));
    expect(START).toBeGreaterThan(0);
  });
});

// Type-level guard: every registry entry accepts the name it is registered under.
const _names: DetectorName[] = ALL;
void _names;

describe('heavy tails', () => {
  // Isolated bursts every 40 points: the first ones are news, the fortieth is the series' normal.
  const bursty = () => {
    const s = noiseSeries(3000, { sigma: 1, seed: 14 });
    for (let i = 100; i < s.values.length; i += 40) s.values[i]! += 15;
    return s;
  };

  it.each(ALL)('%s stops paging for bursts that keep recurring', (detector) => {
    const results = runDetector({ detector }, bursty());
    const early = flagged(results, 0, 1000).length;
    const late = flagged(results, 2000, 3000).length;
    if (detector === 'onset') {
      // The bursts began during its calibration warm-up, so onset knew them as normal from the start.
      expect(late).toBe(0);
      return;
    }
    expect(early).toBeGreaterThan(5);
    expect(late).toBeLessThan(early / 3);
  });

  it.each(ALL)('%s still flags a burst far bigger than the usual ones', (detector) => {
    const s = bursty();
    s.values[2901] = 100 + 200;
    expect(flagged(runDetector({ detector }, s))).toContain(2901);
  });
});
