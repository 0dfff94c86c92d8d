import {
  type EscalationPolicy,
  type EscalationState,
  type EscalationTarget,
  NOT_STARTED,
  type Page,
  type Recipient,
  type ResolveTargets,
  startCycle,
  stepEscalation,
  stopEscalation,
  type Urgency,
} from './escalation.ts';

/**
 * The incident state machine as pure functions of (incident, input, now) -> (incident, timeline,
 * effects). No SQL and no clock: the incident store loads the incident, calls one of these, and
 * writes the result with a compare-and-set on `version`; the escalation job calls tickIncident.
 *
 * Invariants:
 * - states: triggered -> acknowledged -> resolved; acknowledged -> triggered when the ack expires
 *   (ack timeout or end of a snooze) or on un-acknowledge; resolved -> triggered only by a reopen
 *   (routeEvent decides it, within the reopen window). Resolved is otherwise final: acting on a
 *   resolved incident is rejected (a note is still recorded);
 * - one open (triggered or acknowledged) incident per (policy, group key): the store enforces it with
 *   a partial unique index; routeEvent decides whether an alert event opens one, reopens the last
 *   resolved one (resolved less than reopenWindowMs ago, not merged away), follows a merged one into
 *   the incident it was merged into, applies to the open one, or is dropped;
 * - events change state; only tickIncident pages (through stepEscalation), so the rules of who is
 *   paged when live in one place. A state change that makes paging due returns wakeAt <= now: the
 *   caller ticks at once;
 * - every event leaves a timeline entry: alert added, notified (whom, by which channel), escalated
 *   to level N, acknowledged/unacknowledged by, ack timed out, snoozed/snooze ended, reassigned,
 *   resolved (automatically: by null, or by whom), reopened, note, merged, held/released. Repeated
 *   no-op actions (ack of an acknowledged incident, resolve of a resolved one) change nothing and
 *   record nothing;
 * - urgency: high escalates through the policy; low is recorded and notified quietly (level 1 once,
 *   see escalation.ts), never paged, never escalated, no ack timeout;
 * - maintenance: an incident opened while its service is in maintenance is held (recorded, nobody
 *   notified); maintenance starting stops a running cycle and freezes ack expiries; when it ends, a
 *   triggered incident starts a new cycle from level 1 and an acknowledged one stays acknowledged
 *   (an ack expiry that passed during the hold expires at the end of the hold: a new cycle from then);
 * - version counts state changes (not notes or alert-added entries): a step applies only to the
 *   version it was computed from (isCurrent), so an acknowledgement that commits first wins and a
 *   racing escalation step pages nobody;
 * - the input is never mutated.
 */

export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';

export interface Incident {
  id: string;
  policyId: string;
  groupKey: string;
  title: string;
  urgency: Urgency;
  status: IncidentStatus;
  /** +1 on every state change: the store's compare-and-set column. */
  version: number;
  openedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  /** Set while a snooze holds the acknowledgement. */
  snoozedUntil: number | null;
  resolvedAt: number | null;
  /** Who resolved it; null with resolvedAt set means automatically (its alerts resolved). */
  resolvedBy: string | null;
  mergedInto: string | null;
  /** Its service is in maintenance: nobody is notified. */
  held: boolean;
  /** The escalation policy as it was when the incident opened (a reassignment replaces level 1). */
  policy: EscalationPolicy;
  escalation: EscalationState;
}

type Entry<K extends string, T = object> = { kind: K; at: number; by: string | null } & T;
export type TimelineEntry =
  | Entry<'opened', { urgency: Urgency; held: boolean }>
  | Entry<'reopened'>
  | Entry<'alert_added', { alert: string }>
  | Entry<'escalated', { cycle: number; round: number; level: number; unreachable: EscalationTarget[] }>
  | Entry<'notified', { cycle: number; round: number; level: number; recipient: Recipient; channel: 'contact_point' | 'notification_rules'; urgency: Urgency }>
  | Entry<'acknowledged'>
  | Entry<'unacknowledged'>
  | Entry<'ack_timed_out'>
  | Entry<'snoozed', { until: number }>
  | Entry<'snooze_ended'>
  | Entry<'reassigned', { targets: EscalationTarget[] }>
  | Entry<'resolved', { automatically: boolean }>
  | Entry<'note', { text: string }>
  | Entry<'merged_into', { incidentId: string }>
  | Entry<'merged_from', { incidentId: string }>
  | Entry<'held'>
  | Entry<'released'>;

export type Effect = { type: 'page'; page: Page } | { type: 'move_alerts'; from: string; to: string };

export interface IncidentStep {
  incident: Incident;
  /** The version this step was computed from: the store writes it only if that is still current. */
  basedOnVersion: number;
  timeline: TimelineEntry[];
  effects: Effect[];
  /** When tickIncident should next run for this incident, or null. */
  wakeAt: number | null;
  /** Why the input was refused (the incident is unchanged), or null. */
  rejected: string | null;
}

/** Alert-side events (keyed by policy and group key). */
export type AlertEvent = { type: 'fired'; alert: string } | { type: 'alert_added'; alert: string } | { type: 'alerts_resolved' };

/** Events applied to one incident. */
export type IncidentEvent =
  | AlertEvent
  | { type: 'acknowledge'; by: string }
  | { type: 'unacknowledge'; by: string }
  | { type: 'resolve'; by: string }
  /** targets validated with EscalationTargets (at least one, none twice). */
  | { type: 'reassign'; by: string; targets: EscalationTarget[] }
  | { type: 'snooze'; by: string; until: number }
  | { type: 'note'; by: string; text: string }
  | { type: 'maintenance'; on: boolean };

export const MAX_SNOOZE_MS = 24 * 60 * 60_000;

export interface NewIncident {
  id: string;
  policyId: string;
  groupKey: string;
  title: string;
  urgency: Urgency;
  /** The policy's current version, snapshotted (already validated with EscalationPolicy). */
  policy: EscalationPolicy;
  /** The first alert, for the timeline. */
  alert: string;
}

/** Whether a step computed from `step.basedOnVersion` may still be written over the stored incident. */
export function isCurrent(stored: { version: number }, step: { basedOnVersion: number }): boolean {
  return stored.version === step.basedOnVersion;
}

export function openIncident(init: NewIncident, now: number, held: boolean): IncidentStep {
  const { alert, ...fields } = init;
  const incident: Incident = {
    ...fields,
    status: 'triggered',
    version: 1,
    openedAt: now,
    acknowledgedAt: null,
    acknowledgedBy: null,
    snoozedUntil: null,
    resolvedAt: null,
    resolvedBy: null,
    mergedInto: null,
    held,
    escalation: held ? NOT_STARTED : startCycle(init.policy, NOT_STARTED, now),
  };
  const timeline: TimelineEntry[] = [
    { kind: 'opened', at: now, by: null, urgency: init.urgency, held },
    { kind: 'alert_added', at: now, by: null, alert },
  ];
  if (held) timeline.push({ kind: 'held', at: now, by: null });
  return { incident, basedOnVersion: 0, timeline, effects: [], wakeAt: wakeOf(incident), rejected: null };
}

/** A resolved incident triggered again (routeEvent said so); `held` is its service's maintenance now. */
export function reopenIncident(prev: Incident, now: number, held: boolean): IncidentStep {
  if (prev.status !== 'resolved' || prev.mergedInto !== null) return unchanged(prev, prev.mergedInto ? 'a merged incident is not reopened' : 'the incident is open');
  const incident: Incident = {
    ...prev,
    status: 'triggered',
    version: prev.version + 1,
    acknowledgedAt: null,
    acknowledgedBy: null,
    snoozedUntil: null,
    resolvedAt: null,
    resolvedBy: null,
    held,
    escalation: held ? stopEscalation(prev.escalation) : startCycle(prev.policy, prev.escalation, now),
  };
  const timeline: TimelineEntry[] = [{ kind: 'reopened', at: now, by: null }];
  if (held) timeline.push({ kind: 'held', at: now, by: null });
  return changed(prev, incident, timeline);
}

export type Route =
  | { action: 'open' }
  | { action: 'reopen'; incidentId: string }
  | { action: 'apply'; incidentId: string }
  /** The last incident was merged: apply to the one it was merged into if that is open, else open. */
  | { action: 'follow'; incidentId: string }
  | { action: 'drop'; reason: string };

/**
 * Where an alert event for one (policy, group key) goes, given the open incident for it (if any) and
 * the last resolved one. reopenWindowMs 0 never reopens (PagerDuty's semantics).
 */
export function routeEvent(open: Incident | null, lastResolved: Incident | null, event: AlertEvent, now: number, reopenWindowMs: number): Route {
  if (open) return { action: 'apply', incidentId: open.id };
  if (event.type === 'alerts_resolved') return { action: 'drop', reason: 'no open incident to resolve' };
  if (lastResolved?.mergedInto) return { action: 'follow', incidentId: lastResolved.mergedInto };
  if (lastResolved && lastResolved.resolvedAt !== null && now - lastResolved.resolvedAt < reopenWindowMs) {
    return { action: 'reopen', incidentId: lastResolved.id };
  }
  return { action: 'open' };
}

export function applyEvent(prev: Incident, event: IncidentEvent, now: number): IncidentStep {
  if (!Number.isFinite(now)) throw new RangeError(`applyEvent: now must be a finite time, got ${now}`);
  const open = prev.status !== 'resolved';
  switch (event.type) {
    case 'note':
      return recorded(prev, [{ kind: 'note', at: now, by: event.by, text: event.text }]);
    case 'fired':
    case 'alert_added':
      // A new alert never notifies by itself: a triggered incident is escalating, an acknowledged one
      // is being worked on (PagerDuty: no notifications while acknowledged).
      if (!open) return unchanged(prev, 'the incident is resolved');
      return recorded(prev, [{ kind: 'alert_added', at: now, by: null, alert: event.alert }]);
    case 'alerts_resolved':
      if (!open) return unchanged(prev, null);
      return resolve(prev, now, null);
    case 'resolve':
      if (!open) return unchanged(prev, null);
      return resolve(prev, now, event.by);
    case 'acknowledge': {
      if (!open) return unchanged(prev, 'the incident is resolved');
      if (prev.status === 'acknowledged') return unchanged(prev, null);
      const timeout = prev.urgency === 'high' ? prev.policy.ackTimeoutMinutes : null;
      const incident: Incident = {
        ...prev,
        status: 'acknowledged',
        version: prev.version + 1,
        acknowledgedAt: now,
        acknowledgedBy: event.by,
        escalation: stopEscalation(prev.escalation, timeout === null ? null : now + timeout * 60_000),
      };
      return changed(prev, incident, [{ kind: 'acknowledged', at: now, by: event.by }]);
    }
    case 'unacknowledge': {
      if (prev.status !== 'acknowledged') return unchanged(prev, 'the incident is not acknowledged');
      return changed(prev, retrigger(prev, now), [{ kind: 'unacknowledged', at: now, by: event.by }]);
    }
    case 'snooze': {
      if (!open) return unchanged(prev, 'the incident is resolved');
      if (event.until <= now || event.until - now > MAX_SNOOZE_MS) return unchanged(prev, 'snooze until a time within the next 24 hours');
      const incident: Incident = {
        ...prev,
        status: 'acknowledged',
        version: prev.version + 1,
        acknowledgedAt: prev.acknowledgedAt ?? now,
        acknowledgedBy: prev.acknowledgedBy ?? event.by,
        snoozedUntil: event.until,
        escalation: stopEscalation(prev.escalation, event.until),
      };
      const snoozed: TimelineEntry = { kind: 'snoozed', at: now, by: event.by, until: event.until };
      // Snoozing a triggered incident acknowledges it (PagerDuty snoozes acknowledged incidents only).
      return changed(prev, incident, prev.status === 'triggered' ? [{ kind: 'acknowledged', at: now, by: event.by }, snoozed] : [snoozed]);
    }
    case 'reassign': {
      if (!open) return unchanged(prev, 'the incident is resolved');
      // The new targets take level 1's place for the rest of the incident; a new cycle pages them at
      // once and, unanswered, escalates through the policy's later levels as before.
      const [, ...rest] = prev.policy.levels;
      const policy: EscalationPolicy = { ...prev.policy, levels: [{ delayMinutes: 0, targets: event.targets }, ...rest] };
      return changed(prev, retrigger({ ...prev, policy }, now), [{ kind: 'reassigned', at: now, by: event.by, targets: event.targets }]);
    }
    case 'maintenance': {
      if (!open || prev.held === event.on) return unchanged(prev, null);
      if (event.on) {
        const incident: Incident = { ...prev, held: true, version: prev.version + 1, escalation: stopEscalation(prev.escalation, prev.escalation.ackExpiresAt) };
        return changed(prev, incident, [{ kind: 'held', at: now, by: null }]);
      }
      const released: Incident = { ...prev, held: false, version: prev.version + 1 };
      const e = prev.escalation;
      // An ack expiry that passed during the hold takes effect now, so its new cycle starts now (not
      // in the past, which would page several levels at once).
      const incident =
        prev.status === 'triggered'
          ? { ...released, escalation: startCycle(prev.policy, e, now) }
          : { ...released, escalation: { ...e, ackExpiresAt: e.ackExpiresAt === null ? null : Math.max(e.ackExpiresAt, now) } };
      return changed(prev, incident, [{ kind: 'released', at: now, by: null }]);
    }
  }
}

/**
 * The timers: an expired acknowledgement or snooze, and the escalation steps due by `now`. The store
 * writes the result only if isCurrent(stored, step); otherwise it drops it (the next tick recomputes).
 */
export function tickIncident(prev: Incident, now: number, resolveTargets: ResolveTargets): IncidentStep {
  const step = stepEscalation(prev, now, resolveTargets);
  if (!step.ackExpired && step.levels.length === 0) {
    return { ...unchanged(prev, null), wakeAt: step.wakeAt };
  }
  const timeline: TimelineEntry[] = [];
  let incident: Incident = { ...prev, version: prev.version + 1, escalation: step.escalation };
  if (step.ackExpired) {
    const at = prev.escalation.ackExpiresAt!;
    timeline.push({ kind: prev.snoozedUntil !== null ? 'snooze_ended' : 'ack_timed_out', at, by: null });
    incident = { ...incident, status: 'triggered', acknowledgedAt: null, acknowledgedBy: null, snoozedUntil: null };
  }
  for (const l of step.levels) {
    timeline.push({ kind: 'escalated', at: l.at, by: null, cycle: l.cycle, round: l.round, level: l.level, unreachable: l.unreachable });
  }
  for (const p of step.pages) {
    const channel = p.recipient.type === 'contact_point' ? 'contact_point' : 'notification_rules';
    timeline.push({ kind: 'notified', at: p.at, by: null, cycle: p.cycle, round: p.round, level: p.level, recipient: p.recipient, channel, urgency: p.urgency });
  }
  return {
    incident,
    basedOnVersion: prev.version,
    timeline,
    effects: step.pages.map((page) => ({ type: 'page', page })),
    wakeAt: step.wakeAt,
    rejected: null,
  };
}

/**
 * Merges `source` into `target` (both open, different): the source is resolved by `by` and points at
 * the target, its alerts move there (the store does it), and both timelines say so. The target's
 * state is unchanged: it goes on escalating (or staying acknowledged) as it was.
 */
export function mergeIncidents(source: Incident, target: Incident, by: string, now: number): { source: IncidentStep; target: IncidentStep } {
  const refuse = (reason: string) => ({ source: unchanged(source, reason), target: unchanged(target, reason) });
  if (source.id === target.id) return refuse('an incident cannot be merged into itself');
  if (source.status === 'resolved' || target.status === 'resolved') return refuse('only open incidents can be merged');
  const resolved = resolve(source, now, by);
  return {
    source: {
      ...resolved,
      incident: { ...resolved.incident, mergedInto: target.id },
      timeline: [{ kind: 'merged_into', at: now, by, incidentId: target.id }, ...resolved.timeline],
      effects: [{ type: 'move_alerts', from: source.id, to: target.id }],
    },
    target: recorded(target, [{ kind: 'merged_from', at: now, by, incidentId: source.id }]),
  };
}

function resolve(prev: Incident, now: number, by: string | null): IncidentStep {
  const incident: Incident = {
    ...prev,
    status: 'resolved',
    version: prev.version + 1,
    resolvedAt: now,
    resolvedBy: by,
    snoozedUntil: null,
    escalation: stopEscalation(prev.escalation),
  };
  return changed(prev, incident, [{ kind: 'resolved', at: now, by, automatically: by === null }]);
}

/** Back to triggered with a new cycle from level 1 (held: no cycle until the hold ends). */
function retrigger(prev: Incident, now: number): Incident {
  return {
    ...prev,
    status: 'triggered',
    version: prev.version + 1,
    acknowledgedAt: null,
    acknowledgedBy: null,
    snoozedUntil: null,
    escalation: prev.held ? stopEscalation(prev.escalation) : startCycle(prev.policy, prev.escalation, now),
  };
}

function changed(prev: Incident, incident: Incident, timeline: TimelineEntry[]): IncidentStep {
  return { incident, basedOnVersion: prev.version, timeline, effects: [], wakeAt: wakeOf(incident), rejected: null };
}

/** When the incident's timers next need a tick: a page due (triggered) or an ack expiry (acknowledged). */
function wakeOf(i: Incident): number | null {
  if (i.held || i.status === 'resolved') return null;
  return i.status === 'triggered' ? i.escalation.nextAt : i.escalation.ackExpiresAt;
}

/** A timeline entry without a state change (the version stays). */
function recorded(prev: Incident, timeline: TimelineEntry[]): IncidentStep {
  return { incident: prev, basedOnVersion: prev.version, timeline, effects: [], wakeAt: null, rejected: null };
}

function unchanged(prev: Incident, rejected: string | null): IncidentStep {
  return { incident: prev, basedOnVersion: prev.version, timeline: [], effects: [], wakeAt: null, rejected };
}
