/**
 * The incident state machine (src/oncall/incidents.ts), table-driven on a fake clock. Each case opens
 * an incident at minute 0 and feeds it steps (minute, event or 'tick'); after each step the status it
 * must be in and the timeline entries it must have produced, written compactly:
 * `notified user:alice (c1 L1)`, `escalated L2 (c1)`, `acknowledged by u1`, ...
 */
import { describe, expect, it } from 'vitest';
import { EscalationPolicy, onCallResolver } from '../../../src/oncall/escalation.ts';
import {
  applyEvent,
  type Incident,
  type IncidentEvent,
  type IncidentStatus,
  type IncidentStep,
  isCurrent,
  mergeIncidents,
  openIncident,
  reopenIncident,
  routeEvent,
  tickIncident,
  type TimelineEntry,
} from '../../../src/oncall/incidents.ts';
import type { Urgency } from '../../../src/oncall/escalation.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 6, 12, 0);
const at = (minute: number) => T0 + minute * MINUTE;

const resolve = onCallResolver({ primary: ['alice'], secondary: ['bob'] });
const POLICY = EscalationPolicy.parse({
  levels: [
    { delayMinutes: 0, targets: [{ type: 'schedule', id: 'primary' }] },
    { delayMinutes: 10, targets: [{ type: 'schedule', id: 'secondary' }] },
  ],
  ackTimeoutMinutes: 30,
});

function open(opts: { urgency?: Urgency; held?: boolean; id?: string; groupKey?: string } = {}): IncidentStep {
  return openIncident(
    { id: opts.id ?? 'inc1', policyId: 'pol1', groupKey: opts.groupKey ?? 'alertname=HighLatency', title: 'High latency', urgency: opts.urgency ?? 'high', policy: POLICY, alert: 'fp1' },
    at(0),
    opts.held ?? false,
  );
}

function show(e: TimelineEntry): string {
  const by = e.by ? ` by ${e.by}` : '';
  switch (e.kind) {
    case 'escalated':
      return `escalated L${e.level} (c${e.cycle})`;
    case 'notified':
      return `notified ${e.recipient.type}:${e.recipient.id} (c${e.cycle} L${e.level}${e.urgency === 'low' ? ' low' : ''})`;
    case 'resolved':
      return e.automatically ? 'resolved automatically' : `resolved${by}`;
    case 'alert_added':
      return `alert_added ${e.alert}`;
    default:
      return `${e.kind}${by}`;
  }
}

type Step = [number, IncidentEvent | 'tick', IncidentStatus, string[]];

function run(start: IncidentStep, steps: Step[]): Incident {
  let inc = start.incident;
  for (const [minute, input, status, timeline] of steps) {
    const before = structuredClone(inc);
    const step = input === 'tick' ? tickIncident(inc, at(minute), resolve) : applyEvent(inc, input, at(minute));
    expect(inc, `step at minute ${minute} mutated its input`).toEqual(before);
    expect(step.timeline.map(show), `timeline at minute ${minute}`).toEqual(timeline);
    expect(step.incident.status, `status after minute ${minute}`).toBe(status);
    // Pages are effects exactly when the timeline says someone was notified.
    expect(step.effects.filter((f) => f.type === 'page').length).toBe(timeline.filter((t) => t.startsWith('notified')).length);
    // The version moves exactly when the state changed.
    const stateChanged = JSON.stringify({ ...step.incident, version: 0 }) !== JSON.stringify({ ...inc, version: 0 });
    expect(step.incident.version).toBe(stateChanged ? inc.version + 1 : inc.version);
    inc = step.incident;
  }
  return inc;
}

const ack = (by = 'u1'): IncidentEvent => ({ type: 'acknowledge', by });

describe('incident state machine', () => {
  it('opens triggered, with the first alert and a cycle due at once', () => {
    const s = open();
    expect(s.timeline.map(show)).toEqual(['opened', 'alert_added fp1']);
    expect(s.incident).toMatchObject({ status: 'triggered', version: 1, held: false, escalation: { cycle: 1, nextAt: at(0) } });
    expect(s.wakeAt).toBe(at(0));
  });

  it.each<[string, IncidentStep, Step[]]>([
    // Paged at once, acknowledged, resolved by a person: the basic life.
    ['triggered -> acknowledged -> resolved', open(), [
      [0, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1)']],
      [3, ack(), 'acknowledged', ['acknowledged by u1']],
      [10, 'tick', 'acknowledged', []],
      [12, { type: 'resolve', by: 'u1' }, 'resolved', ['resolved by u1']],
      [40, 'tick', 'resolved', []],
    ]],
    // Unanswered, level 2 after 10 minutes.
    ['escalates to level 2', open(), [
      [0, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1)']],
      [10, 'tick', 'triggered', ['escalated L2 (c1)', 'notified user:bob (c1 L2)']],
    ]],
    // Ack timeout 30: acknowledged at 5, triggered again at 35, re-paged from level 1 in cycle 2.
    ['an ack timeout re-pages from level 1', open(), [
      [0, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1)']],
      [5, ack(), 'acknowledged', ['acknowledged by u1']],
      [34, 'tick', 'acknowledged', []],
      [35, 'tick', 'triggered', ['ack_timed_out', 'escalated L1 (c2)', 'notified user:alice (c2 L1)']],
      [45, 'tick', 'triggered', ['escalated L2 (c2)', 'notified user:bob (c2 L2)']],
    ]],
    // Un-acknowledge: triggered again at once, new cycle.
    ['un-acknowledge restarts escalation', open(), [
      [0, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1)']],
      [2, ack(), 'acknowledged', ['acknowledged by u1']],
      [4, { type: 'unacknowledge', by: 'u1' }, 'triggered', ['unacknowledged by u1']],
      [4, 'tick', 'triggered', ['escalated L1 (c2)', 'notified user:alice (c2 L1)']],
    ]],
    // Snoozing a triggered incident acknowledges it until then; at the end it re-pages.
    ['a snooze holds until it ends, then re-pages', open(), [
      [0, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1)']],
      [1, { type: 'snooze', by: 'u1', until: at(60) }, 'acknowledged', ['acknowledged by u1', 'snoozed by u1']],
      [40, 'tick', 'acknowledged', []],
      [60, 'tick', 'triggered', ['snooze_ended', 'escalated L1 (c2)', 'notified user:alice (c2 L1)']],
    ]],
    // Reassigned to zed: zed is paged at once in a new cycle; unanswered, level 2 follows as before.
    ['a reassignment pages the new targets, then escalates as before', open(), [
      [0, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1)']],
      [2, ack(), 'acknowledged', ['acknowledged by u1']],
      [3, { type: 'reassign', by: 'u1', targets: [{ type: 'user', id: 'zed' }] }, 'triggered', ['reassigned by u1']],
      [3, 'tick', 'triggered', ['escalated L1 (c2)', 'notified user:zed (c2 L1)']],
      [13, 'tick', 'triggered', ['escalated L2 (c2)', 'notified user:bob (c2 L2)']],
    ]],
    // Low urgency: recorded and told quietly to level 1, never escalated, no ack timeout.
    ['low urgency never pages', open({ urgency: 'low' }), [
      [0, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1 low)']],
      [10, 'tick', 'triggered', []],
      [20, ack(), 'acknowledged', ['acknowledged by u1']],
      [600, 'tick', 'acknowledged', []],
    ]],
    // Opened during maintenance: recorded, held, nobody told; the end of the window starts a cycle.
    ['maintenance holds a new incident until it ends', open({ held: true }), [
      [0, 'tick', 'triggered', []],
      [30, 'tick', 'triggered', []],
      [40, { type: 'maintenance', on: false }, 'triggered', ['released']],
      [40, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1)']],
    ]],
    // Maintenance starting stops a running cycle: level 2 (due at 10) is not paged during it.
    ['maintenance stops a running cycle', open(), [
      [0, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1)']],
      [5, { type: 'maintenance', on: true }, 'triggered', ['held']],
      [10, 'tick', 'triggered', []],
      [25, { type: 'maintenance', on: false }, 'triggered', ['released']],
      [25, 'tick', 'triggered', ['escalated L1 (c2)', 'notified user:alice (c2 L1)']],
    ]],
    // An ack timeout (due at 31) does not fire during maintenance; it takes effect when the hold
    // ends, with a cycle from then (level 1 only, not level 2 as if it had started at 31).
    ['an ack expiry during maintenance waits for its end', open(), [
      [0, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1)']],
      [1, ack(), 'acknowledged', ['acknowledged by u1']],
      [2, { type: 'maintenance', on: true }, 'acknowledged', ['held']],
      [40, 'tick', 'acknowledged', []],
      [50, { type: 'maintenance', on: false }, 'acknowledged', ['released']],
      [50, 'tick', 'triggered', ['ack_timed_out', 'escalated L1 (c2)', 'notified user:alice (c2 L1)']],
    ]],
    // All alerts resolved: resolved automatically (by nobody); a later auto-resolve is a no-op.
    ['auto-resolve', open(), [
      [0, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1)']],
      [5, { type: 'alerts_resolved' }, 'resolved', ['resolved automatically']],
      [6, { type: 'alerts_resolved' }, 'resolved', []],
      [10, 'tick', 'resolved', []],
    ]],
    // More alerts, notes: recorded without a state change and without notifying anyone.
    ['alerts and notes are recorded, never notify', open(), [
      [0, 'tick', 'triggered', ['escalated L1 (c1)', 'notified user:alice (c1 L1)']],
      [1, { type: 'alert_added', alert: 'fp2' }, 'triggered', ['alert_added fp2']],
      [2, ack(), 'acknowledged', ['acknowledged by u1']],
      [3, { type: 'fired', alert: 'fp3' }, 'acknowledged', ['alert_added fp3']],
      [4, { type: 'note', by: 'u2', text: 'rolling back' }, 'acknowledged', ['note by u2']],
      [5, { type: 'resolve', by: 'u2' }, 'resolved', ['resolved by u2']],
      [6, { type: 'note', by: 'u2', text: 'postmortem: ...' }, 'resolved', ['note by u2']],
    ]],
    // Repeated actions change nothing and record nothing.
    ['repeated actions are no-ops', open(), [
      [1, ack(), 'acknowledged', ['acknowledged by u1']],
      [2, ack('u2'), 'acknowledged', []],
      [3, { type: 'resolve', by: 'u1' }, 'resolved', ['resolved by u1']],
      [4, { type: 'resolve', by: 'u2' }, 'resolved', []],
    ]],
  ])('%s', (_name, start, steps) => {
    run(start, steps);
  });

  it.each<[string, (i: Incident) => Incident, IncidentEvent, RegExp]>([
    ['acknowledging a resolved incident', (i) => applyEvent(i, { type: 'resolve', by: 'u1' }, at(1)).incident, ack(), /resolved/],
    ['un-acknowledging a triggered incident', (i) => i, { type: 'unacknowledge', by: 'u1' }, /not acknowledged/],
    ['snoozing into the past', (i) => i, { type: 'snooze', by: 'u1', until: at(-1) }, /24 hours/],
    ['snoozing for more than a day', (i) => i, { type: 'snooze', by: 'u1', until: at(24 * 60 + 3) }, /24 hours/],
    ['reassigning a resolved incident', (i) => applyEvent(i, { type: 'alerts_resolved' }, at(1)).incident, { type: 'reassign', by: 'u1', targets: [{ type: 'user', id: 'z' }] }, /resolved/],
    ['adding an alert to a resolved incident', (i) => applyEvent(i, { type: 'alerts_resolved' }, at(1)).incident, { type: 'alert_added', alert: 'x' }, /resolved/],
  ])('rejects %s, leaving it unchanged', (_name, prepare, event, reason) => {
    const inc = prepare(open().incident);
    const step = applyEvent(inc, event, at(2));
    expect(step.rejected).toMatch(reason);
    expect(step.incident).toBe(inc);
    expect(step.timeline).toEqual([]);
  });

  it('snapshots the policy: the incident escalates by the policy it opened with', () => {
    const s = open();
    const edited = { ...POLICY, levels: [POLICY.levels[0]!] };
    // The store never passes the edited policy to a running incident; its snapshot is what runs.
    expect(s.incident.policy).toEqual(POLICY);
    expect(s.incident.policy).not.toEqual(edited);
    const t = tickIncident(tickIncident(s.incident, at(0), resolve).incident, at(10), resolve);
    expect(t.timeline.map(show)).toContain('escalated L2 (c1)');
  });
});

describe('the version guard (an acknowledgement racing an escalation step)', () => {
  it('drops a step computed before an acknowledgement that committed first', () => {
    const paged = tickIncident(open().incident, at(0), resolve).incident; // stored at version 2
    // The job loads the incident at minute 10 and computes level 2's page...
    const step = tickIncident(paged, at(10), resolve);
    expect(step.effects).toHaveLength(1);
    // ...meanwhile the acknowledgement commits.
    const acked = applyEvent(paged, ack(), at(10));
    expect(isCurrent(paged, acked)).toBe(true);
    const stored = acked.incident;
    // The step was computed from version 2; the stored incident is version 3: it is not written and
    // its page is never created.
    expect(step.basedOnVersion).toBe(2);
    expect(isCurrent(stored, step)).toBe(false);
    // Recomputed from the stored incident, the tick pages nobody.
    expect(tickIncident(stored, at(10), resolve).effects).toEqual([]);
  });

  it('lets the acknowledgement win the other way round too: it is recomputed, the step stays', () => {
    const paged = tickIncident(open().incident, at(0), resolve).incident;
    const step = tickIncident(paged, at(10), resolve);
    const ackFromOld = applyEvent(paged, ack(), at(10));
    // The step commits first: the ack computed from the old version is refused by the guard, and the
    // store retries it on the new version, where it still acknowledges (and stops what follows).
    expect(isCurrent(step.incident, ackFromOld)).toBe(false);
    const retried = applyEvent(step.incident, ack(), at(10));
    expect(isCurrent(step.incident, retried)).toBe(true);
    expect(retried.incident.status).toBe('acknowledged');
    expect(tickIncident(retried.incident, at(20), resolve).effects).toEqual([]);
  });

  it('does not move the version for a tick with nothing due', () => {
    const paged = tickIncident(open().incident, at(0), resolve).incident;
    const idle = tickIncident(paged, at(5), resolve);
    expect(idle.incident).toBe(paged);
    expect(idle.wakeAt).toBe(at(10));
  });
});

describe('routeEvent (one open incident per policy and group key)', () => {
  const openInc = open().incident;
  const resolvedAt = (minute: number) => applyEvent(openInc, { type: 'alerts_resolved' }, at(minute)).incident;
  const merged = mergeIncidents(openInc, open({ id: 'inc2', groupKey: 'other' }).incident, 'u1', at(1)).source.incident;
  const fired = { type: 'fired', alert: 'fp9' } as const;
  const WINDOW = 30 * MINUTE;

  it.each<[string, Incident | null, Incident | null, Parameters<typeof routeEvent>[2], number, number, ReturnType<typeof routeEvent>]>([
    ['an alert with an open incident applies to it', openInc, null, fired, 5, WINDOW, { action: 'apply', incidentId: 'inc1' }],
    ['an auto-resolve applies to the open incident', openInc, null, { type: 'alerts_resolved' }, 5, WINDOW, { action: 'apply', incidentId: 'inc1' }],
    ['a first alert opens one', null, null, fired, 5, WINDOW, { action: 'open' }],
    // Resolved at 10, fired again at 39: inside the 30-minute window.
    ['a re-fire within the window reopens', null, resolvedAt(10), fired, 39, WINDOW, { action: 'reopen', incidentId: 'inc1' }],
    // At exactly 30 minutes the window has closed.
    ['a re-fire after the window opens a new one', null, resolvedAt(10), fired, 40, WINDOW, { action: 'open' }],
    ['a zero window never reopens (PagerDuty semantics)', null, resolvedAt(10), fired, 10, 0, { action: 'open' }],
    ['an auto-resolve with nothing open is dropped', null, resolvedAt(10), { type: 'alerts_resolved' }, 12, WINDOW, { action: 'drop', reason: 'no open incident to resolve' }],
    ['an alert of a merged incident follows it', null, merged, { type: 'alert_added', alert: 'fp4' }, 2, WINDOW, { action: 'follow', incidentId: 'inc2' }],
  ])('%s', (_name, openIncident, lastResolved, event, minute, window, route) => {
    expect(routeEvent(openIncident, lastResolved, event, at(minute), window)).toEqual(route);
  });

  it('reopens as triggered in a new cycle, and pages again', () => {
    const resolved = resolvedAt(10);
    const re = reopenIncident(resolved, at(20), false);
    expect(re.timeline.map(show)).toEqual(['reopened']);
    expect(re.incident).toMatchObject({ status: 'triggered', resolvedAt: null, resolvedBy: null, version: resolved.version + 1, escalation: { cycle: 2 } });
    expect(tickIncident(re.incident, at(20), resolve).timeline.map(show)).toEqual(['escalated L1 (c2)', 'notified user:alice (c2 L1)']);
    expect(reopenIncident(re.incident, at(21), false).rejected).toMatch(/open/);
  });

  it('reopens held during maintenance', () => {
    const re = reopenIncident(resolvedAt(10), at(20), true);
    expect(re.timeline.map(show)).toEqual(['reopened', 'held']);
    expect(tickIncident(re.incident, at(20), resolve).effects).toEqual([]);
  });
});

describe('mergeIncidents', () => {
  it('resolves the source into the target and moves its alerts; the target goes on as it was', () => {
    const source = tickIncident(open().incident, at(0), resolve).incident;
    const target = applyEvent(open({ id: 'inc2', groupKey: 'other' }).incident, ack('u9'), at(1)).incident;
    const m = mergeIncidents(source, target, 'u1', at(5));
    expect(m.source.incident).toMatchObject({ status: 'resolved', resolvedBy: 'u1', mergedInto: 'inc2', version: source.version + 1 });
    expect(m.source.timeline.map(show)).toEqual(['merged_into by u1', 'resolved by u1']);
    expect(m.source.effects).toEqual([{ type: 'move_alerts', from: 'inc1', to: 'inc2' }]);
    expect(m.target.incident).toBe(target);
    expect(m.target.timeline.map(show)).toEqual(['merged_from by u1']);
    // The merged incident pages nobody and is never reopened.
    expect(tickIncident(m.source.incident, at(10), resolve).effects).toEqual([]);
    expect(reopenIncident(m.source.incident, at(6), false).rejected).toMatch(/merged/);
  });

  it.each([
    ['into itself', 'inc1', false, /itself/],
    ['a resolved incident', 'inc2', true, /open/],
  ])('refuses to merge %s', (_name, targetId, resolved, reason) => {
    const source = open().incident;
    let target = open({ id: targetId, groupKey: 'other' }).incident;
    if (resolved) target = applyEvent(target, { type: 'alerts_resolved' }, at(1)).incident;
    const m = mergeIncidents(source, target, 'u1', at(2));
    expect(m.source.rejected).toMatch(reason);
    expect(m.source.incident).toBe(source);
  });
});
