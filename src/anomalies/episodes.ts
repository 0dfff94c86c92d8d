import type { Explanation } from './detectors/index.ts';

/**
 * Anomaly episodes as a pure state machine: advanceEpisode(open episode, minute, detector result)
 * -> (open episode, closed episode). No SQL and no clock: the scanner (detect-anomalies.ts) feeds it
 * each scored minute of a series in time order and writes what it returns through the episode store
 * (episode-store.ts). Alerting's rule states, grouping timers and escalations follow this shape.
 *
 * Invariants (docs/anomaly-detection.md; the scanner's invariant 5):
 * - an episode opens only at an anomalous minute (a row the detector's score pages for: exactly
 *   where `npm run -s detect` flags one); once open, a minute the detector says is still outside the
 *   series' normal band (`persisting`) keeps it going like an anomalous one, so an episode shows how
 *   long the anomaly lasted although only its onset paged;
 * - anomalous minutes separated by at most `gapMinutes` normal (or missing) minutes form one
 *   episode: an anomalous minute `gapMinutes + 2` or more minutes after the last anomalous one closes
 *   the open episode and starts a new one;
 * - a normal minute `recoveryMinutes` or more after the last anomalous one closes the open episode
 *   (recoveryMinutes = gapMinutes + 1, so both rules agree on where an episode ends);
 * - a closed episode ended at the end of its last anomalous minute (lastAnomalousAt + 1 minute);
 * - the peak is the highest score seen, its minute and its explanation (the first of equal scores);
 * - the input is never mutated: a step returns new values, so a caller can keep the old one.
 */
export interface Episode {
  /** The stored episode's id; null until the store has inserted it. */
  id: string | null;
  startedAt: number;
  lastAnomalousAt: number;
  peakScore: number;
  peakAt: number;
  explanation: Explanation;
  /** Changed since the store last wrote it. */
  changed: boolean;
}

/** What a detector said of one minute (StepResult's fields the episodes need). */
export interface MinuteResult {
  anomalous: boolean;
  score: number;
  explanation: Explanation;
  /** Still outside the normal band (keeps an open episode going); absent: as `anomalous`. */
  persisting?: boolean;
}

export interface EpisodeRules {
  /** Normal minutes an episode may contain between anomalous ones. */
  episodeGapMinutes: number;
  /** Normal minutes after which an episode closes. */
  recoveryMinutes: number;
}

export interface EpisodeStep {
  /** The episode open after this minute, or null. */
  open: Episode | null;
  /** The episode this minute closed, if any (to be written closed, ending at closedAt(closed)). */
  closed: Episode | null;
}

export const MINUTE_MS = 60_000;

/** When a closed episode ended: the end of its last anomalous minute. */
export const endOf = (e: Episode): number => e.lastAnomalousAt + MINUTE_MS;

export function advanceEpisode(open: Episode | null, t: number, r: MinuteResult, rules: EpisodeRules): EpisodeStep {
  const continues = r.anomalous || r.persisting === true;
  let closed: Episode | null = null;
  if (open && t - open.lastAnomalousAt >= (continues ? rules.episodeGapMinutes + 2 : rules.recoveryMinutes) * MINUTE_MS) {
    closed = open;
    open = null;
  }
  if (!(open ? continues : r.anomalous)) return { open, closed };
  if (!open) {
    return { open: { id: null, startedAt: t, lastAnomalousAt: t, peakScore: r.score, peakAt: t, explanation: r.explanation, changed: true }, closed };
  }
  const peak = r.score > open.peakScore;
  return {
    open: {
      ...open,
      lastAnomalousAt: t,
      changed: true,
      ...(peak ? { peakScore: r.score, peakAt: t, explanation: r.explanation } : {}),
    },
    closed,
  };
}
