/**
 * A notification group's timers as a pure step (Alertmanager's aggregation group and its `decide`):
 * advanceGroup(group, members, now, timers, muted) -> (group, flush). No SQL and no clock: the
 * dispatcher (dispatch-notifications.ts) calls it for every group of a project on each tick and writes
 * what it returns through the dispatch store, creating one notification per contact point for a flush.
 *
 * Invariants:
 * - a group is created by an alert that could notify (firing, not silenced or inhibited); it first
 *   flushes `groupWait` after it was created, then at most every `groupInterval` (changes that arrive
 *   between ticks wait for the next tick, as in Alertmanager);
 * - a flush happens when an alert fires that was not in the last notification, when an alert notified
 *   as firing has since resolved, or, with the same firing alerts, once `repeatInterval` has passed
 *   since the last notification;
 * - resolved notices: an alert notified as firing is remembered (notifiedFiring) until a notification
 *   has carried its resolution, even when a silence or inhibition began meanwhile (Alertmanager drops
 *   those: prometheus/alertmanager#226); an alert never notified as firing is never notified as
 *   resolved;
 * - a silenced or inhibited alert is left out of a notification's firing alerts, but a remembered one
 *   stays remembered, so that its resolution is still told;
 * - while `muted` (a mute time interval, or outside the active ones) nothing flushes and nothing is
 *   forgotten: the first tick after the mute tells what changed;
 * - a group with no firing alert and nothing left to tell is deleted (next = null);
 * - seq counts flushes: (group key, contact point, seq) names a notification once;
 * - the input is never mutated.
 */

export interface GroupTimers {
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

export interface GroupState {
  firstSeenAt: number;
  nextFlushAt: number;
  lastNotifiedAt: number | null;
  /** Fingerprints last notified as firing (sorted): each owes a resolved notice when it resolves. */
  notifiedFiring: string[];
  seq: number;
}

export interface GroupMember {
  fingerprint: string;
  status: 'firing' | 'resolved';
  /** Silenced or inhibited now. */
  suppressed: boolean;
}

export interface Flush {
  seq: number;
  /** Firing alerts to tell (sorted fingerprints). */
  firing: string[];
  /** Alerts that were told as firing and have resolved since (sorted fingerprints). */
  resolved: string[];
}

export interface GroupStep {
  next: GroupState | null;
  flush: Flush | null;
}

export function advanceGroup(prev: GroupState | null, members: readonly GroupMember[], now: number, timers: GroupTimers, muted = false): GroupStep {
  const firing = members.filter((m) => m.status === 'firing' && !m.suppressed).map((m) => m.fingerprint).sort();
  if (!prev) {
    if (firing.length === 0) return { next: null, flush: null };
    return { next: { firstSeenAt: now, nextFlushAt: now + timers.groupWaitMs, lastNotifiedAt: null, notifiedFiring: [], seq: 0 }, flush: null };
  }
  const byFp = new Map(members.map((m) => [m.fingerprint, m]));
  // A remembered alert that is no longer a member at all cannot be described: the store keeps resolved
  // instances while a group remembers them, so this only drops alerts whose rows were deleted.
  const remembered = prev.notifiedFiring.filter((fp) => byFp.has(fp));
  if (now < prev.nextFlushAt || muted) {
    const next = { ...prev, notifiedFiring: remembered, nextFlushAt: now < prev.nextFlushAt ? prev.nextFlushAt : now + timers.groupIntervalMs };
    return { next: done(next, firing) ? null : next, flush: null };
  }
  const told = new Set(remembered);
  const resolved = remembered.filter((fp) => byFp.get(fp)!.status === 'resolved');
  const stillOwed = remembered.filter((fp) => byFp.get(fp)!.status === 'firing' && byFp.get(fp)!.suppressed);
  const newFiring = firing.some((fp) => !told.has(fp));
  const repeatDue = firing.length > 0 && prev.lastNotifiedAt !== null && now - prev.lastNotifiedAt >= timers.repeatIntervalMs;
  const nextFlushAt = now + timers.groupIntervalMs;
  if (!newFiring && resolved.length === 0 && !repeatDue) {
    const next = { ...prev, notifiedFiring: remembered, nextFlushAt };
    return { next: done(next, firing) ? null : next, flush: null };
  }
  const seq = prev.seq + 1;
  const next: GroupState = {
    firstSeenAt: prev.firstSeenAt,
    nextFlushAt,
    lastNotifiedAt: now,
    notifiedFiring: [...new Set([...firing, ...stillOwed])].sort(),
    seq,
  };
  return { next: done(next, firing) ? null : next, flush: { seq, firing, resolved } };
}

/** Nothing fires that could notify and nothing is owed: the group ends. */
const done = (g: GroupState, firing: string[]) => firing.length === 0 && g.notifiedFiring.length === 0;
