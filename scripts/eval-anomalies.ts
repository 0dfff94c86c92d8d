/**
 * `npm run eval:anomalies [-- --detector NAME ...] [--suite synthetic|recorded] [--seed N] [--types] [--original]`
 *
 * Scores every detector (through createDetectorState + stepDetector, the path the detect CLI and
 * the scanner use) on two suites with window scoring (tests/fixtures/anomalies/window-score.ts:
 * NAB standard profile, 15% probation, one corpus-wide threshold, normalised null = 0 and
 * perfect = 100):
 * - synthetic: the seeded generated set (tests/fixtures/anomalies/generate-eval-set.ts); `--original`
 *   leaves out the series added for issue 21 (flatlines, variance drops, more drifts), to compare
 *   with figures from before them;
 * - recorded: real metrics recorded on this machine with injected faults
 *   (tests/fixtures/anomalies/recorded/, README.md there).
 * For each it prints the window score at the best corpus-wide threshold and at the product's
 * ANOMALY_THRESHOLD, precision (flag episodes starting in a window / all), recall, mean delay
 * (rows from the anomaly's onset to the first flag in its window), and false episodes per series
 * per day on clean stretches. The tables are in docs/anomaly-detection.md.
 */
import { parseArgs } from 'node:util';
import { ANOMALY_THRESHOLD, DEFAULT_DETECTOR, DETECTOR_NAMES, isDetectorName } from '../src/anomalies/detectors/index.ts';
import type { DetectorName } from '../src/anomalies/detectors/index.ts';
import { detectorRunner, recordedSuite, scoreSuite, syntheticSuite } from '../tests/fixtures/anomalies/eval-suites.ts';
import type { EvalSeries } from '../tests/fixtures/anomalies/eval-suites.ts';
import { bestThreshold, scoreCorpus } from '../tests/fixtures/anomalies/window-score.ts';
import type { ScoredSeries, Summary } from '../tests/fixtures/anomalies/window-score.ts';

const fmt = (x: number | null, d = 2) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

function line(name: string, s: Summary): string {
  return row([
    name, fmt(s.score, 1), s.threshold.toFixed(3), fmt(s.precision), `${fmt(s.recall)} (${s.detected}/${s.windows})`,
    fmt(s.meanDelay, 1), String(s.fpEpisodes), fmt(s.cleanEpisodesPerDay, 1), fmt(s.cleanEpisodesPer1440Rows, 2),
  ]);
}

function main(): void {
  const { values } = parseArgs({
    options: { seed: { type: 'string' }, detector: { type: 'string', multiple: true }, suite: { type: 'string', multiple: true }, types: { type: 'boolean' }, original: { type: 'boolean' } },
  });
  const names = (values.detector ?? [...DETECTOR_NAMES]).filter((n): n is DetectorName => {
    if (!isDetectorName(n)) throw new Error(`unknown detector ${n}; valid: ${DETECTOR_NAMES.join(', ')}`);
    return true;
  });
  const wanted = values.suite ?? ['synthetic', 'recorded'];
  const suites: [string, EvalSeries[]][] = [];
  if (wanted.includes('synthetic')) suites.push(['synthetic', syntheticSuite(values.seed ? Number(values.seed) : undefined, { original: values.original === true })]);
  if (wanted.includes('recorded')) suites.push(['recorded', recordedSuite()]);

  for (const [suiteName, suite] of suites) {
    const points = suite.reduce((n, s) => n + s.values.length, 0);
    const windows = suite.reduce((n, s) => n + s.windows.length, 0);
    console.log(`## ${suiteName}: ${suite.length} series, ${points} rows, ${windows} windows\n`);
    const header = ['detector', 'window score', 'threshold', 'precision', 'recall', 'mean delay (rows)', 'FP episodes', 'clean false episodes / series / day', 'same / 1440 rows'];
    const best: string[] = [];
    const fixed: string[] = [];
    const perType: string[] = [];
    for (const name of names) {
      const t0 = performance.now();
      const scored: ScoredSeries[] = scoreSuite(suite, detectorRunner({ detector: name }));
      const ms = performance.now() - t0;
      const b = bestThreshold(scored);
      best.push(line(`${name}${name === DEFAULT_DETECTOR ? ' (default)' : ''}`, b));
      fixed.push(line(name, scoreCorpus(scored, ANOMALY_THRESHOLD)));
      process.stderr.write(`${suiteName}/${name}: ${(ms / 1000).toFixed(1)} s, ${((1000 * ms) / points).toFixed(2)} µs/row\n`);
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
    if (perType.length) {
      console.log(`\nPer kind at each detector's best threshold:\n`);
      console.log(row(['detector', 'kind', 'series', 'window score', 'detected', 'mean delay', 'FP episodes']));
      console.log(row(['---', '---', '---:', '---:', '---:', '---:', '---:']));
      for (const l of perType) console.log(l);
    }
    console.log('');
  }
}

main();
