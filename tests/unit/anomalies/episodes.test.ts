/**
 * The episode state machine (src/anomalies/episodes.ts), table-driven on a fake timeline: each case
 * is a series of minutes, each anomalous (with its score) or normal, and the episodes that must come
 * out, as [start minute, last anomalous minute, peak minute] and whether they are still open.
 */
import { describe, expect, it } from 'vitest';
import { advanceEpisode, endOf, type Episode, MINUTE_MS, type MinuteResult } from '../../../src/anomalies/episodes.ts';

const RULES = { episodeGapMinutes: 2, recoveryMinutes: 3 };
const T0 = Date.UTC(2026, 11, 6, 12, 0);
const at = (minute: number) => T0 + minute * MINUTE_MS;
const explanation = (minute: number) => ({ expected: 0, deviation: minute, reason: `minute ${minute}` }) as unknown as MinuteResult['explanation'];

/** A timeline: minute -> score (anomalous) or '.' (normal); minutes not listed are missing. */
type Timeline = Array<[number, number | '.']>;
type Out = { minutes: [number, number, number]; open: boolean };

function run(timeline: Timeline): Out[] {
  const out: Out[] = [];
  const view = (e: Episode, open: boolean): Out => ({
    minutes: [(e.startedAt - T0) / MINUTE_MS, (e.lastAnomalousAt - T0) / MINUTE_MS, (e.peakAt - T0) / MINUTE_MS],
    open,
  });
  let open: Episode | null = null;
  for (const [minute, v] of timeline) {
    const r: MinuteResult = v === '.' ? { anomalous: false, score: 0.1, explanation: explanation(minute) } : { anomalous: true, score: v, explanation: explanation(minute) };
    const step = advanceEpisode(open, at(minute), r, RULES);
    if (step.closed) out.push(view(step.closed, false));
    open = step.open;
  }
  if (open) out.push(view(open, true));
  return out;
}

describe('advanceEpisode', () => {
  it.each<[string, Timeline, Out[]]>([
    ['normal minutes open nothing', [[0, '.'], [1, '.'], [2, '.']], []],
    ['one anomalous minute opens an episode that stays open', [[0, '.'], [1, 0.9]], [{ minutes: [1, 1, 1], open: true }]],
    // recoveryMinutes (3) normal minutes after the last anomalous one close it.
    ['three normal minutes close it', [[1, 0.9], [2, '.'], [3, '.'], [4, '.']], [{ minutes: [1, 1, 1], open: false }]],
    ['two normal minutes do not', [[1, 0.9], [2, '.'], [3, '.']], [{ minutes: [1, 1, 1], open: true }]],
    // Up to episodeGapMinutes (2) normal minutes between anomalous ones stay one episode.
    ['a gap of two normal minutes stays one episode', [[1, 0.9], [2, '.'], [3, '.'], [4, 0.95]], [{ minutes: [1, 4, 4], open: true }]],
    // A gap of three closes the first (recovery) before the next anomalous minute opens a second.
    ['a gap of three makes two episodes', [[1, 0.9], [2, '.'], [3, '.'], [4, '.'], [5, 0.95]], [
      { minutes: [1, 1, 1], open: false },
      { minutes: [5, 5, 5], open: true },
    ]],
    // Missing minutes count as normal: an anomalous minute 4+ minutes later starts a new episode.
    ['missing minutes: 4 minutes later is a new episode', [[1, 0.9], [5, 0.95]], [
      { minutes: [1, 1, 1], open: false },
      { minutes: [5, 5, 5], open: true },
    ]],
    ['missing minutes: 3 minutes later is the same episode', [[1, 0.9], [4, 0.95]], [{ minutes: [1, 4, 4], open: true }]],
    ['the peak is the highest score, the first of equal ones', [[1, 0.9], [2, 0.99], [3, 0.99], [4, 0.95]], [{ minutes: [1, 4, 2], open: true }]],
    ['a normal minute after a closed one opens nothing', [[1, 0.9], [4, '.'], [5, '.']], [{ minutes: [1, 1, 1], open: false }]],
  ])('%s', (_, timeline, expected) => {
    expect(run(timeline)).toEqual(expected);
  });

  it('never changes the episode it is given, and marks what it returns as changed', () => {
    const first = advanceEpisode(null, at(1), { anomalous: true, score: 0.9, explanation: explanation(1) }, RULES).open!;
    const stored = { ...first, id: 'e1', changed: false };
    const frozen = structuredClone(stored);
    const next = advanceEpisode(stored, at(2), { anomalous: true, score: 0.99, explanation: explanation(2) }, RULES).open!;
    expect(stored).toEqual(frozen);
    expect(next).toMatchObject({ id: 'e1', changed: true, peakScore: 0.99, peakAt: at(2), lastAnomalousAt: at(2), explanation: explanation(2) });
    // A normal minute that closes nothing leaves the open episode as it was (nothing to write).
    expect(advanceEpisode(stored, at(2), { anomalous: false, score: 0.1, explanation: explanation(2) }, RULES)).toEqual({ open: stored, closed: null });
  });

  it('a closed episode ends at the end of its last anomalous minute', () => {
    const open = advanceEpisode(null, at(1), { anomalous: true, score: 0.9, explanation: explanation(1) }, RULES).open!;
    const { closed } = advanceEpisode(open, at(4), { anomalous: false, score: 0.1, explanation: explanation(4) }, RULES);
    expect(endOf(closed!)).toBe(at(2));
  });
});
