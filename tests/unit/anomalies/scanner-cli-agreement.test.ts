import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createDetectorState, stepDetector } from '../../../src/anomalies/detectors/index.ts';
import type { DetectorState } from '../../../src/anomalies/detectors/index.ts';
import { advanceEpisode } from '../../../src/anomalies/episodes.ts';
import type { Episode } from '../../../src/anomalies/episodes.ts';
import { SCANNER } from '../../../src/anomalies/scanner-config.ts';
import { findSeriesKind, generateSeries } from '../../fixtures/anomalies/generate-eval-set.ts';
import type { AnomalyType } from '../../fixtures/anomalies/generate-eval-set.ts';

/**
 * The product path and the offline CLI agree: the scanner opens an episode only at a row
 * `npm run -s detect` flags (score >= 0.5 as printed), and every flagged row is in an episode: it
 * opens one, or continues the open one (the scanner's gap rule, and minutes the detector says are
 * still outside the normal band keep an episode going). The scanner side is its per-series loop (detect-anomalies.ts scanSeries):
 * the default detector's state, JSON-saved and resumed between runs, each minute's StepResult fed
 * to advanceEpisode with the scanner's rules.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MINUTE = 60_000;

function cliScores(timestamps: number[], values: number[]): number[] {
  const csv = `timestamp,value\n${timestamps.map((t, i) => `${new Date(t).toISOString()},${Number.isFinite(values[i]!) ? values[i] : ''}`).join('\n')}\n`;
  const r = spawnSync('npx', ['tsx', 'scripts/detect.ts'], { cwd: ROOT, input: csv, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.trim().split('\n').map(Number);
}

/** The scanner loop's episodes ([start, last anomalous minute]), saving and resuming the state every `batch` minutes. */
function scannerEpisodes(timestamps: number[], values: number[], batch: number): Array<[number, number]> {
  let saved = JSON.stringify(createDetectorState({}));
  let episode: Episode | null = null;
  const episodes: Array<[number, number]> = [];
  for (let from = 0; from < timestamps.length; from += batch) {
    const state = JSON.parse(saved) as DetectorState;
    for (let i = from; i < Math.min(timestamps.length, from + batch); i++) {
      if (!Number.isFinite(values[i]!)) continue;
      const step = advanceEpisode(episode, timestamps[i]!, stepDetector(state, { timestamp: timestamps[i]!, value: values[i]! }), SCANNER);
      if (step.closed) episodes.push([step.closed.startedAt, step.closed.lastAnomalousAt]);
      episode = step.open;
    }
    saved = JSON.stringify(state);
  }
  if (episode) episodes.push([episode.startedAt, episode.lastAnomalousAt]);
  return episodes;
}

const flagged = (timestamps: number[], scores: number[]) => timestamps.filter((_, i) => scores[i]! >= 0.5);

/** One-minute cadence, as the scanner sees rollups. */
function series(kind: string, type: AnomalyType | 'none', seed: number) {
  const s = generateSeries({ ...findSeriesKind(kind), cadenceMs: MINUTE, jitter: 0, gaps: 0 }, type, seed);
  return { timestamps: s.timestamps, values: s.values };
}

describe('scanner and detect CLI agree on onsets (default detector)', { timeout: 60_000 }, () => {
  it.each<[string, AnomalyType | 'none', number]>([
    ['flat-noise', 'level_shift', 1],
    ['heavy-tail', 'spike', 2],
    ['daily-5m', 'variance_change', 3],
    ['counter', 'dip', 4],
    ['cpu-ar', 'spike', 5],
    ['heavy-tail', 'none', 6],
    // The spread channel's pages and its "still still" minutes (persisting) agree too.
    ['cpu-ar', 'flatline', 7],
    ['flat-noise', 'variance_drop', 8],
  ])('%s with %s (seed %i)', (kind, type, seed) => {
    const { timestamps, values } = series(kind, type, seed);
    const scores = cliScores(timestamps, values);
    expect(scores).toHaveLength(values.length);
    const flags = flagged(timestamps, scores);
    const episodes = scannerEpisodes(timestamps, values, 97);
    // Resuming from saved state changes nothing.
    expect(scannerEpisodes(timestamps, values, 1440)).toEqual(episodes);
    // Every episode opens at a flagged row; every flagged row is in an episode.
    for (const [start] of episodes) expect(flags).toContain(start);
    for (const t of flags) expect(episodes.some(([start, end]) => start <= t && t <= end), `flagged ${t}`).toBe(true);
    // Not vacuous: the spikes, shifts and flatlines page (a counter's dips to 0 and the variance change may not).
    if (type === 'spike' || type === 'level_shift' || type === 'flatline') expect(flags.length).toBeGreaterThan(0);
  });
});
