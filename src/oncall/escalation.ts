import { z } from 'zod';

/**
 * Escalation policies and the escalation step as a pure function: stepEscalation(incident, now,
 * resolveTargets) -> (escalation state, pages due, next wake-up). No SQL and no clock: the escalation
 * job calls it for every open incident that is due, and the store writes what it returns (the pages
 * through the delivery log, whose unique key is the page key).
 *
 * Invariants:
 * - a policy is ordered levels, each {delayMinutes, targets}; `delayMinutes` is the wait before the
 *   level pages, counted from the page of the level before it (level 1: from the start of the cycle,
 *   and 0 pages at once). Levels after the first wait at least 1 minute: targets paged together
 *   belong in one level;
 * - `repeat` (0..9) runs the levels again: after the last level the policy waits the last level's
 *   delay (the last level gets as long to answer as it waited), then starts over as the first round
 *   did. A policy that would re-page without waiting (one level, delay 0, repeat > 0) is rejected,
 *   so every cycle is bounded: at most levels x (repeat + 1) steps, each at a later minute;
 * - the policy is snapshotted onto the incident when it opens: editing a policy never changes a
 *   running escalation (the core only ever sees the snapshot);
 * - only a triggered incident pages; acknowledged, resolved or held (maintenance) incidents page
 *   nobody. An acknowledgement carries an expiry (the ack timeout, or the end of a snooze): once it
 *   passes, the incident is triggered again and escalation restarts at level 1 with a new cycle
 *   number (`ackExpired`: the incident core records it);
 * - low urgency never escalates: it notifies level 1 once (its pages carry urgency 'low', which the
 *   personal notification rules deliver quietly, never by phone), with no further level or repeat;
 * - a page is due at cycleStartedAt + its offset; a late tick pages every step due by now, in order;
 * - every page has a unique key (incident, cycle, round, level, recipient): the delivery log creates
 *   each once, so a step is never paged twice, however often the job retries it. A recipient reached
 *   through two targets of one level (a user named and also on call) is paged once for that level;
 * - concurrency: the store applies a step only if the incident's version is the one the step was
 *   computed from (see incidents.ts, isCurrent): an acknowledgement that commits first wins, and the
 *   step, computed from the triggered incident, is dropped and pages nobody;
 * - the input is never mutated.
 */

const MINUTE_MS = 60_000;

export const ESCALATION_LIMITS = { levels: 10, targetsPerLevel: 20, maxDelayMinutes: 1440, maxRepeat: 9, maxAckTimeoutMinutes: 1440 } as const;

const Id = z.string().min(1).max(200);

export const EscalationTarget = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('user'), id: Id }),
  z.strictObject({ type: z.literal('schedule'), id: Id }),
  z.strictObject({ type: z.literal('contact_point'), id: Id }),
]);
export type EscalationTarget = z.infer<typeof EscalationTarget>;

export const targetKey = (t: { type: string; id: string }) => `${t.type}:${t.id}`;

/** Whole minutes within [min, max], with a message that says so. */
const minutes = (min: number, max: number) =>
  z
    .number()
    .int(`must be whole minutes from ${min} to ${max}`)
    .min(min, `must be whole minutes from ${min} to ${max}`)
    .max(max, `must be whole minutes from ${min} to ${max}`);

/** One level's targets (also a reassignment's): at least one, none twice. */
export const EscalationTargets = z
  .array(EscalationTarget)
  .min(1, 'give at least one target')
  .max(ESCALATION_LIMITS.targetsPerLevel)
  .superRefine((targets, ctx) => {
    const seen = new Set<string>();
    targets.forEach((t, i) => {
      if (seen.has(targetKey(t))) ctx.addIssue({ code: 'custom', path: [i], message: `${targetKey(t)} is listed twice` });
      seen.add(targetKey(t));
    });
  });

export const EscalationLevel = z.strictObject({
  delayMinutes: minutes(0, ESCALATION_LIMITS.maxDelayMinutes),
  targets: EscalationTargets,
});
export type EscalationLevel = z.infer<typeof EscalationLevel>;

export const EscalationPolicy = z
  .strictObject({
    levels: z.array(EscalationLevel).min(1, 'a policy needs at least one level').max(ESCALATION_LIMITS.levels),
    repeat: z
      .number()
      .int()
      .min(0, `must be 0 to ${ESCALATION_LIMITS.maxRepeat}`)
      .max(ESCALATION_LIMITS.maxRepeat, `must be 0 to ${ESCALATION_LIMITS.maxRepeat} (a policy repeats a bounded number of times)`)
      .default(0),
    /** An acknowledgement older than this returns the incident to triggered (null: never). */
    ackTimeoutMinutes: minutes(1, ESCALATION_LIMITS.maxAckTimeoutMinutes).nullable().default(null),
  })
  .superRefine((p, ctx) => {
    p.levels.forEach((l, i) => {
      if (i > 0 && l.delayMinutes < 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', i, 'delayMinutes'],
          message: 'a level after the first must wait at least 1 minute (targets paged together belong in one level)',
        });
      }
    });
    if (p.repeat > 0 && roundMinutes(p) === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['repeat'],
        message: 'this policy would re-page at once without end: give its level a delay of at least 1 minute to repeat it',
      });
    }
  });
export type EscalationPolicy = z.infer<typeof EscalationPolicy>;

/** Minutes one round takes before the next starts: every level's delay, then the last level's again. */
function roundMinutes(p: Pick<EscalationPolicy, 'levels'>): number {
  return p.levels.reduce((s, l) => s + l.delayMinutes, 0) + p.levels[p.levels.length - 1]!.delayMinutes;
}

/** Milliseconds from the start of a cycle to step `step` (round = step / levels, level = step % levels). */
export function stepOffsetMs(p: EscalationPolicy, step: number): number {
  const n = p.levels.length;
  const round = Math.floor(step / n);
  const within = p.levels.slice(0, (step % n) + 1).reduce((s, l) => s + l.delayMinutes, 0);
  return (round * roundMinutes(p) + within) * MINUTE_MS;
}

export interface EscalationState {
  /** 1, 2, ...: a new cycle at every restart (ack expired, un-ack, reassign, reopen, end of a hold); 0 = never started. */
  cycle: number;
  cycleStartedAt: number | null;
  /** The next step of this cycle to page (round * levels + level index). */
  nextStep: number;
  /** When that step is due; null when nothing is to be paged (stopped, exhausted or held). */
  nextAt: number | null;
  /** When the current acknowledgement (or snooze) expires; null when it does not. */
  ackExpiresAt: number | null;
}

export const NOT_STARTED: Readonly<EscalationState> = Object.freeze({ cycle: 0, cycleStartedAt: null, nextStep: 0, nextAt: null, ackExpiresAt: null });

/** A new cycle from level 1, starting at `at`. */
export function startCycle(p: EscalationPolicy, prev: EscalationState, at: number): EscalationState {
  return { cycle: prev.cycle + 1, cycleStartedAt: at, nextStep: 0, nextAt: at + stepOffsetMs(p, 0), ackExpiresAt: null };
}

/** Paging stops (ack, resolve, hold); the ack expiry is kept only when given. */
export function stopEscalation(e: EscalationState, ackExpiresAt: number | null = null): EscalationState {
  return { ...e, nextAt: null, ackExpiresAt };
}

export type Urgency = 'high' | 'low';

/** Who a target resolves to now: users (directly, or on call for a schedule) and contact points. */
export interface Recipient {
  type: 'user' | 'contact_point';
  id: string;
}
export type ResolveTargets = (target: EscalationTarget) => readonly Recipient[];

/** A resolver from the on-call users of each schedule (computed by the caller, e.g. with onCallAt). */
export function onCallResolver(onCall: Readonly<Record<string, readonly string[]>>): ResolveTargets {
  return (t) => {
    if (t.type === 'schedule') return (onCall[t.id] ?? []).map((id) => ({ type: 'user' as const, id }));
    return [{ type: t.type, id: t.id }];
  };
}

/** The fields of an incident that escalation reads (incidents.ts' Incident has them). */
export interface Escalating {
  id: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  urgency: Urgency;
  /** Held by a maintenance window of its service. */
  held: boolean;
  policy: EscalationPolicy;
  escalation: EscalationState;
}

export interface Page {
  /** Unique per (incident, cycle, round, level, recipient): the delivery log's key. */
  key: string;
  incidentId: string;
  cycle: number;
  /** 0 for the first round, 1.. for repeats. */
  round: number;
  /** 1-based level. */
  level: number;
  /** The policy target that led to the recipient. */
  target: EscalationTarget;
  recipient: Recipient;
  urgency: Urgency;
  /** When the step was due (personal notification rules count their delays from here). */
  at: number;
}

/** One level paged: for the timeline ("escalated to level N"), with the targets that reached nobody. */
export interface SteppedLevel {
  cycle: number;
  round: number;
  level: number;
  at: number;
  recipients: Recipient[];
  unreachable: EscalationTarget[];
}

export interface EscalationStep {
  escalation: EscalationState;
  pages: Page[];
  levels: SteppedLevel[];
  /** The acknowledgement (or snooze) expired: the incident is triggered again, in a new cycle. */
  ackExpired: boolean;
  /** When to run the next step, or null when nothing is pending. */
  wakeAt: number | null;
}

export const pageKey = (incidentId: string, cycle: number, round: number, level: number, r: Recipient) =>
  `${incidentId}/${cycle}/${round}/${level}/${targetKey(r)}`;

export function stepEscalation(inc: Escalating, now: number, resolveTargets: ResolveTargets): EscalationStep {
  if (!Number.isFinite(now)) throw new RangeError(`stepEscalation: now must be a finite time, got ${now}`);
  const idle = (escalation: EscalationState, wakeAt: number | null): EscalationStep => ({ escalation, pages: [], levels: [], ackExpired: false, wakeAt });
  if (inc.status === 'resolved' || inc.held) return idle(inc.escalation, null);

  let e = inc.escalation;
  let ackExpired = false;
  if (inc.status === 'acknowledged') {
    if (e.ackExpiresAt === null || now < e.ackExpiresAt) return idle(e, e.ackExpiresAt);
    e = startCycle(inc.policy, e, e.ackExpiresAt);
    ackExpired = true;
  }

  const n = inc.policy.levels.length;
  const steps = inc.urgency === 'high' ? n * (inc.policy.repeat + 1) : 1;
  const pages: Page[] = [];
  const levels: SteppedLevel[] = [];
  while (e.nextAt !== null && e.nextAt <= now && e.nextStep < steps) {
    const round = Math.floor(e.nextStep / n);
    const level = (e.nextStep % n) + 1;
    const seen = new Set<string>();
    const stepped: SteppedLevel = { cycle: e.cycle, round, level, at: e.nextAt, recipients: [], unreachable: [] };
    for (const target of inc.policy.levels[level - 1]!.targets) {
      const recipients = resolveTargets(target);
      if (recipients.length === 0) stepped.unreachable.push(target);
      for (const recipient of recipients) {
        if (seen.has(targetKey(recipient))) continue;
        seen.add(targetKey(recipient));
        stepped.recipients.push(recipient);
        pages.push({
          key: pageKey(inc.id, e.cycle, round, level, recipient),
          incidentId: inc.id,
          cycle: e.cycle,
          round,
          level,
          target,
          recipient,
          urgency: inc.urgency,
          at: e.nextAt,
        });
      }
    }
    levels.push(stepped);
    const following = e.nextStep + 1;
    e = { ...e, nextStep: following, nextAt: following < steps ? e.cycleStartedAt! + stepOffsetMs(inc.policy, following) : null };
  }
  return { escalation: e, pages, levels, ackExpired, wakeAt: e.nextAt };
}
