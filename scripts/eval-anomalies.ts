/**
 * `npm run eval:anomalies [-- --detector NAME ...] [--suite synthetic|recorded|injected] [--seed N] [--types] [--original] [--series] [--tuning JSON]`
 *
 * Scores every detector (through createDetectorState + stepDetector, the path the detect CLI and
 * the scanner use) on three suites with window scoring (tests/fixtures/anomalies/window-score.ts:
 * NAB standard profile, 15% probation, one corpus-wide threshold, normalised null = 0 and
 * perfect = 100):
 * - synthetic: the seeded generated set (tests/fixtures/anomalies/generate-eval-set.ts); `--original`
 *   leaves out the series added for issue 21 (flatlines, variance drops, more drifts), to compare
 *   with figures from before them;
 * - recorded: real metrics recorded on this machine with injected faults
 *   (tests/fixtures/anomalies/recorded/, README.md there);
 * - injected: real public series (weather, climate normals, CO2, births) with the synthetic
 *   suite's anomaly types injected at seeded places (tests/fixtures/anomalies/injected/, README.md
 *   there; `--seed` moves the injections).
 * For each it prints the window score at the best corpus-wide threshold and at the product's
 * ANOMALY_THRESHOLD (for the recorded suite also per recording session, for the injected suite per
 * background family; with more than one suite, also all of them pooled under one threshold), precision (flag episodes starting in a window / all), recall, mean delay
 * (rows from the anomaly's onset to the first flag in its window), and false episodes per series
 * per day on clean stretches. The tables are in docs/anomaly-detection.md.
 *
 * `--tuning '{"holdCap":0}'` runs `onset` with some of its constants changed (ONSET_TUNING; keys
 * prefixed `spread.` set SPREAD_TUNING, `ratio.` RATIO_TUNING): how the variants in docs/anomaly-detection.md are measured.
 * It changes this process only, never the shipped defaults.
 */
import { parseArgs } from 'node:util';
import { ANOMALY_THRESHOLD, DEFAULT_DETECTOR, DETECTOR_NAMES, isDetectorName } from '../src/anomalies/detectors/index.ts';
import type { DetectorName } from '../src/anomalies/detectors/index.ts';
import { detectorRunner, injectedSuite, recordedSuite, scoreSuite, syntheticSuite } from '../tests/fixtures/anomalies/eval-suites.ts';
import type { EvalSeries } from '../tests/fixtures/anomalies/eval-suites.ts';
import { addCounts, bestThreshold, emptyCounts, PROBATION_FRACTION, scoreAt, scoreCorpus, summarize, thresholdCandidates } from '../tests/fixtures/anomalies/window-score.ts';
import type { ScoredSeries, Summary } from '../tests/fixtures/anomalies/window-score.ts';
import { ONSET_TUNING } from '../src/anomalies/detectors/onset.ts';
import { SPREAD_TUNING } from '../src/anomalies/detectors/spread-channel.ts';
import { RATIO_TUNING } from '../src/anomalies/detectors/ratio-channel.ts';

/** Sets `onset`'s tuning constants for this run; an unknown key or a value of another type is an error. */
function applyTuning(json: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`--tuning: not JSON: ${json}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('--tuning: expected a JSON object');
  for (const [key, value] of Object.entries(parsed)) {
    const [target, name] = key.startsWith('spread.')
      ? [SPREAD_TUNING as Record<string, unknown>, key.slice(7)]
      : key.startsWith('ratio.')
        ? [RATIO_TUNING as Record<string, unknown>, key.slice(6)]
        : [ONSET_TUNING as Record<string, unknown>, key];
    if (!(name in target)) {
      const valid = [...Object.keys(ONSET_TUNING), ...Object.keys(SPREAD_TUNING).map((k) => `spread.${k}`), ...Object.keys(RATIO_TUNING).map((k) => `ratio.${k}`)];
      throw new Error(`--tuning: unknown key ${key}; valid: ${valid.join(', ')}`);
    }
    const current = target[name];
    if (Array.isArray(current) ? !Array.isArray(value) : typeof value !== typeof current) throw new Error(`--tuning: ${key} must be ${Array.isArray(current) ? 'an array' : `a ${typeof current}`}`);
    target[name] = value;
  }
}

const fmt = (x: number | null, d = 2) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

function line(name: string, s: Summary): string {
  return row([
    name, fmt(s.score, 1), s.threshold.toFixed(3), fmt(s.precision), `${fmt(s.recall)} (${s.detected}/${s.windows})`,
    fmt(s.meanDelay, 1), String(s.fpEpisodes), fmt(s.cleanEpisodesPerDay, 1), fmt(s.cleanEpisodesPer1440Rows, 2),
  ]);
}

/** One series at threshold t: each window's first flag and peak score, and the flags outside all windows. */
function seriesLine(s: ScoredSeries, t: number): string {
  const n = s.scores.length;
  const probation = Math.floor(PROBATION_FRACTION * n);
  const inWindow = new Uint8Array(n);
  for (const w of s.windows) for (let i = Math.max(0, w.start); i <= Math.min(n - 1, w.end); i++) inWindow[i] = 1;
  const windows = s.windows.map((w) => {
    let peak = 0;
    let first: number | null = null;
    for (let i = Math.max(w.start, probation); i <= w.end; i++) {
      peak = Math.max(peak, s.scores[i]!);
      if (first === null && s.scores[i]! >= t) first = i - w.onset;
    }
    const status = w.end < probation ? 'in probation' : first === null ? 'missed' : `first flag ${first >= 0 ? '+' : ''}${first}`;
    return `${w.type ?? 'window'} @${w.onset} [${w.start}-${w.end}]: ${status}, peak ${peak.toFixed(2)}`;
  });
  const outside: string[] = [];
  for (let i = probation; i < n; i++) if (!inWindow[i] && s.scores[i]! >= t) outside.push(`${i} (${s.scores[i]!.toFixed(2)})`);
  return `- ${s.id} (${n} rows): ${windows.length ? windows.join('; ') : 'no windows'}; flags outside windows: ${outside.length ? outside.join(', ') : 'none'}`;
}

/** Window score with each series at its own best threshold (not a detector's figure: an upper bound for calibration). */
function perSeriesOracle(scored: ScoredSeries[]): number {
  const candidates = thresholdCandidates(scored);
  let total = emptyCounts();
  for (const s of scored) {
    let best = scoreAt(s, Infinity);
    for (const t of candidates) {
      const c = scoreAt(s, t);
      if (c.raw > best.raw) best = c;
    }
    total = addCounts(total, best);
  }
  return summarize(total, Number.NaN, scored.length).score;
}

function main(): void {
  const { values } = parseArgs({
    options: { seed: { type: 'string' }, detector: { type: 'string', multiple: true }, suite: { type: 'string', multiple: true }, types: { type: 'boolean' }, original: { type: 'boolean' }, series: { type: 'boolean' }, tuning: { type: 'string' } },
  });
  if (values.tuning !== undefined) {
    applyTuning(values.tuning);
    console.log(`onset tuning for this run: ${values.tuning}\n`);
  }
  const names = (values.detector ?? [...DETECTOR_NAMES]).filter((n): n is DetectorName => {
    if (!isDetectorName(n)) throw new Error(`unknown detector ${n}; valid: ${DETECTOR_NAMES.join(', ')}`);
    return true;
  });
  const wanted = values.suite ?? ['synthetic', 'recorded', 'injected'];
  const suites: [string, EvalSeries[]][] = [];
  if (wanted.includes('synthetic')) suites.push(['synthetic', syntheticSuite(values.seed ? Number(values.seed) : undefined, { original: values.original === true })]);
  if (wanted.includes('recorded')) suites.push(['recorded', recordedSuite()]);
  if (wanted.includes('injected')) suites.push(['injected', injectedSuite(values.seed ? Number(values.seed) : undefined)]);

  // Every suite's scored series per detector, for the pooled table at the end.
  const pooled = new Map<string, ScoredSeries[]>();
  for (const [suiteName, suite] of suites) {
    const points = suite.reduce((n, s) => n + s.values.length, 0);
    const windows = suite.reduce((n, s) => n + s.windows.length, 0);
    console.log(`## ${suiteName}: ${suite.length} series, ${points} rows, ${windows} windows\n`);
    const header = ['detector', 'window score', 'threshold', 'precision', 'recall', 'mean delay (rows)', 'FP episodes', 'clean false episodes / series / day', 'same / 1440 rows'];
    const best: string[] = [];
    const fixed: string[] = [];
    const perType: string[] = [];
    const perSeries: string[] = [];
    const perSession: string[] = [];
    for (const name of names) {
      const t0 = performance.now();
      const scored: ScoredSeries[] = scoreSuite(suite, detectorRunner({ detector: name }));
      const ms = performance.now() - t0;
      pooled.set(name, [...(pooled.get(name) ?? []), ...scored]);
      const b = bestThreshold(scored);
      best.push(line(`${name}${name === DEFAULT_DETECTOR ? ' (default)' : ''}`, b));
      fixed.push(line(name, scoreCorpus(scored, ANOMALY_THRESHOLD)));
      process.stderr.write(`${suiteName}/${name}: ${(ms / 1000).toFixed(1)} s, ${((1000 * ms) / points).toFixed(2)} µs/row\n`);
      if (values.series) {
        perSeries.push(
          `${name} at ${b.threshold.toFixed(3)} (window score ${fmt(b.score, 1)}; with each series at its own best threshold: ${fmt(perSeriesOracle(scored), 1)}):`,
          ...scored.map((s) => seriesLine(s, b.threshold)),
        );
      }
      if (suiteName === 'recorded' || suiteName === 'injected') {
        // Each recording session (injected: each background family) on its own (the corpus-wide
        // threshold picked within it, and 0.5).
        const sessions = [...new Set(scored.map((x) => x.id.split('/')[0]!))];
        if (sessions.length > 1) {
          for (const sess of sessions) {
            const sub = scored.filter((x) => x.id.startsWith(`${sess}/`));
            perSession.push(line(`${name} ${sess}`, bestThreshold(sub)), line(`${name} ${sess} at ${ANOMALY_THRESHOLD}`, scoreCorpus(sub, ANOMALY_THRESHOLD)));
          }
        }
      }
      if (values.types) {
        const kinds = [...new Set(suite.map((s) => s.kind))].sort();
        for (const k of kinds) {
          const sub = scored.filter((s) => s.kind === k);
          const r = scoreCorpus(sub, b.threshold);
          perType.push(row([name, k, String(sub.length), fmt(r.score, 1), `${r.detected}/${r.windows}`, fmt(r.meanDelay, 1), String(r.fpEpisodes)]));
        }
      }
    }
    console.log(`Best corpus-wide threshold:\n`);
    console.log(row(header));
    console.log(row(header.map((_, i) => (i === 0 ? '---' : '---:'))));
    for (const l of best) console.log(l);
    console.log(`\nAt the product threshold ${ANOMALY_THRESHOLD}:\n`);
    console.log(row(header));
    console.log(row(header.map((_, i) => (i === 0 ? '---' : '---:'))));
    for (const l of fixed) console.log(l);
    if (perSession.length) {
      console.log(`\nPer ${suiteName === 'recorded' ? 'recording session' : 'background family'} (best threshold within it, then ${ANOMALY_THRESHOLD}):\n`);
      console.log(row(header));
      console.log(row(header.map((_, i) => (i === 0 ? '---' : '---:'))));
      for (const l of perSession) console.log(l);
    }
    if (perType.length) {
      console.log(`\nPer kind at each detector's best threshold:\n`);
      console.log(row(['detector', 'kind', 'series', 'window score', 'detected', 'mean delay', 'FP episodes']));
      console.log(row(['---', '---', '---:', '---:', '---:', '---:', '---:']));
      for (const l of perType) console.log(l);
    }
    if (perSeries.length) {
      console.log(`\nPer series at each detector's best threshold (window: onset row [first-last row]):\n`);
      for (const l of perSeries) console.log(l);
    }
    console.log('');
  }
  if (suites.length > 1) {
    // One threshold for everything, as a held-out benchmark picks it for its whole mixed corpus.
    const header = ['detector', 'window score', 'threshold', 'precision', 'recall', 'mean delay (rows)', 'FP episodes', 'clean false episodes / series / day', 'same / 1440 rows'];
    console.log(`## ${suites.map(([n]) => n).join(' + ')} pooled: one corpus-wide threshold for all of them\n`);
    console.log(row(header));
    console.log(row(header.map((_, i) => (i === 0 ? '---' : '---:'))));
    for (const [name, scored] of pooled) {
      console.log(line(`${name}${name === DEFAULT_DETECTOR ? ' (default)' : ''}`, bestThreshold(scored)));
      console.log(line(`${name} at ${ANOMALY_THRESHOLD}`, scoreCorpus(scored, ANOMALY_THRESHOLD)));
    }
    console.log('');
  }
}

try {
  main();
} catch (err) {
  // Bad arguments (an unknown detector, a bad --tuning): the message, not a stack.
  process.stderr.write(`eval-anomalies: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
