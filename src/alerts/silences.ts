import { type Matcher, matchesAll } from './matchers.ts';
import type { Labels } from './model.ts';

/**
 * Silences: matcher sets with a time window, created ad hoc ("mute db alerts during the migration").
 * Pure: the caller passes the time and the project's silences.
 *
 * Invariants:
 * - a silence is active on [startsAt, endsAt): from its start, up to but not at its end;
 * - it silences an alert when every matcher matches (a missing label is "");
 * - a silence without matchers silences nothing: matchesAll([]) is true, so it would silence every
 *   alert of the project, which no one means (Alertmanager refuses such silences when created);
 * - silencedBy keeps the silences' order, so the caller's "silenced by" list is stable.
 */
export interface Silence {
  id: string;
  matchers: Matcher[];
  /** Epoch milliseconds. */
  startsAt: number;
  endsAt: number;
}

export function isSilenceActive(s: Silence, nowMs: number): boolean {
  return s.startsAt <= nowMs && nowMs < s.endsAt;
}

/** Ids of the silences active at nowMs whose matchers all match these labels. */
export function silencedBy(labels: Labels, silences: readonly Silence[], nowMs: number): string[] {
  return silences.filter((s) => isSilenceActive(s, nowMs) && s.matchers.length > 0 && matchesAll(s.matchers, labels)).map((s) => s.id);
}
