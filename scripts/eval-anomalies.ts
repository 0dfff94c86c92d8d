/**
 * Scores every detector on the synthetic labeled set (tests/fixtures/anomalies) and prints, per
 * detector and anomaly type, precision / recall / F1 / mean detection delay / NAB-style score,
 * plus an overall comparison. Used to pick DEFAULT_DETECTOR; the table is in docs/anomaly-detection.md.
 *
 *   npm run eval:anomalies [-- --seed N] [-- --detector NAME]
 */
import { parseArgs } from 'node:util';
import { ANOMALY_THRESHOLD, DETECTOR_NAMES, createDetectorState, isDetectorName, stepDetector } from '../src/anomalies/detectors/index.ts';
import type { DetectorName } from '../src/anomalies/detectors/index.ts';
import { ANOMALY_TYPES, generateEvalSet } from '../tests/fixtures/anomalies/generate-eval-set.ts';
import type { LabeledSeries } from '../tests/fixtures/anomalies/generate-eval-set.ts';
import { addCounts, emptyCounts, scoreSeries, summarize } from '../tests/fixtures/anomalies/score-detections.ts';
import type { SeriesCounts, Summary } from '../tests/fixtures/anomalies/score-detections.ts';

const THRESHOLD_GRID = Array.from({ length: 19 }, (_, i) => (i + 1) * 0.05);

function runDetector(name: DetectorName, series: LabeledSeries): number[] {
  const state = createDetectorState({ detector: name });
  return series.values.map((value, i) => stepDetector(state, { timestamp: series.timestamps[i]!, value }).score);
}

function fmt(x: number | null, digits = 2): string {
  return x === null ? '-' : x.toFixed(digits);
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function countsAt(set: LabeledSeries[], scores: Map<string, number[]>, threshold: number, filter: (s: LabeledSeries) => boolean): SeriesCounts {
  return set.filter(filter).reduce((acc, s) => addCounts(acc, scoreSeries(s, scores.get(s.id)!, threshold)), emptyCounts());
}

function main(): void {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, detector: { type: 'string', multiple: true } } });
  const seed = values.seed ? Number(values.seed) : undefined;
  const names = (values.detector ?? [...DETECTOR_NAMES]).filter((n): n is DetectorName => {
    if (!isDetectorName(n)) throw new Error(`unknown detector ${n}; valid: ${DETECTOR_NAMES.join(', ')}`);
    return true;
  });
  const set = generateEvalSet(seed);
  const points = set.reduce((n, s) => n + s.values.length, 0);
  const labeled = set.filter((s) => s.anomalyType !== 'none');
  console.log(`Eval set: ${set.length} series (${labeled.length} labeled, ${set.length - labeled.length} clean), ${points} points, ${labeled.reduce((n, s) => n + s.labels.length, 0)} anomaly windows; threshold ${ANOMALY_THRESHOLD}.\n`);

  const overall: { name: DetectorName; s: Summary; clean: Summary; best: { t: number; nab: number } }[] = [];
  for (const name of names) {
    const scores = new Map(set.map((s) => [s.id, runDetector(name, s)] as const));
    console.log(`### ${name}\n`);
    console.log(row(['type', 'windows', 'precision', 'recall', 'F1', 'mean delay (points)', 'NAB']));
    console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const type of ANOMALY_TYPES) {
      const s = summarize(countsAt(set, scores, ANOMALY_THRESHOLD, (x) => x.anomalyType === type));
      if (s.windows === 0) continue;
      console.log(row([type, String(s.windows), fmt(s.precision), fmt(s.recall), fmt(s.f1), fmt(s.meanDelay, 1), fmt(s.nab, 1)]));
    }
    const clean = summarize(countsAt(set, scores, ANOMALY_THRESHOLD, (x) => x.anomalyType === 'none'));
    const all = summarize(countsAt(set, scores, ANOMALY_THRESHOLD, () => true));
    console.log(row(['clean (FP alarms / 10k points)', '0', '-', '-', '-', '-', fmt(clean.fpPer10k, 2)]));
    console.log(row(['**overall**', String(all.windows), fmt(all.precision), fmt(all.recall), fmt(all.f1), fmt(all.meanDelay, 1), fmt(all.nab, 1)]));
    console.log('');
    let best = { t: ANOMALY_THRESHOLD, nab: all.nab };
    for (const t of THRESHOLD_GRID) {
      const nab = summarize(countsAt(set, scores, t, () => true)).nab;
      if (nab > best.nab) best = { t, nab };
    }
    overall.push({ name, s: all, clean, best });
  }

  console.log('### overall\n');
  console.log(row(['detector', 'precision', 'recall', 'F1', 'mean delay (points)', `NAB @${ANOMALY_THRESHOLD}`, 'NAB @best threshold', 'clean FP / 10k']));
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const o of overall) {
    console.log(row([o.name, fmt(o.s.precision), fmt(o.s.recall), fmt(o.s.f1), fmt(o.s.meanDelay, 1), fmt(o.s.nab, 1), `${fmt(o.best.nab, 1)} (@${o.best.t.toFixed(2)})`, fmt(o.clean.fpPer10k, 2)]));
  }
}

main();
