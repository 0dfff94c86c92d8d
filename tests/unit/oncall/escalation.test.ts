/**
 * Escalation policies (src/oncall/escalation.ts): validation with the field named, and the step
 * table-driven on a fake clock. Each case is a series of ticks (minute, status change, expected pages
 * written `cycle/round/level/recipient`), starting from a triggered incident at minute 0.
 */
import { describe, expect, it } from 'vitest';
import {
  type Escalating,
  EscalationPolicy,
  type EscalationState,
  NOT_STARTED,
  onCallResolver,
  type ResolveTargets,
  startCycle,
  stepEscalation,
  stopEscalation,
} from '../../../src/oncall/escalation.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 6, 12, 0);
const at = (minute: number) => T0 + minute * MINUTE;

const user = (id: string) => ({ type: 'user' as const, id });
const schedule = (id: string) => ({ type: 'schedule' as const, id });
const cp = (id: string) => ({ type: 'contact_point' as const, id });

/** `alice` is on call for the primary schedule, `bob` for the secondary; nobody for `empty`. */
const resolve: ResolveTargets = onCallResolver({ primary: ['alice'], secondary: ['bob'], empty: [] });

const policy = (p: unknown) => EscalationPolicy.parse(p);
/** Level 1 at once, level 2 after 10 minutes, level 3 after 15 more. */
const THREE_LEVELS = {
  levels: [
    { delayMinutes: 0, targets: [schedule('primary')] },
    { delayMinutes: 10, targets: [schedule('secondary')] },
    { delayMinutes: 15, targets: [user('carol'), cp('slack-ops')] },
  ],
};

function incident(p: EscalationPolicy, overrides: Partial<Escalating> = {}): Escalating {
  return { id: 'inc1', status: 'triggered', urgency: 'high', held: false, policy: p, escalation: startCycle(p, NOT_STARTED, at(0)), ...overrides };
}

/** [minute, pages expected at this tick, optional change applied before the tick] */
type Tick = [number, string[], ((i: Escalating, now: number) => Escalating)?];

function run(inc: Escalating, ticks: Tick[]): void {
  for (const [minute, expected, change] of ticks) {
    if (change) inc = change(inc, at(minute));
    const before = structuredClone(inc);
    const step = stepEscalation(inc, at(minute), resolve);
    expect(inc, `tick at minute ${minute} mutated its input`).toEqual(before);
    expect(step.pages.map((p) => `${p.cycle}/${p.round}/${p.level}/${p.recipient.type}:${p.recipient.id}`), `pages at minute ${minute}`).toEqual(expected);
    for (const p of step.pages) expect(p.key).toBe(`inc1/${p.cycle}/${p.round}/${p.level}/${p.recipient.type}:${p.recipient.id}`);
    inc = { ...inc, escalation: step.escalation, ...(step.ackExpired ? { status: 'triggered' as const } : {}) };
  }
}

const ack = (timeoutMinutes: number | null) => (i: Escalating, now: number): Escalating => ({
  ...i,
  status: 'acknowledged',
  escalation: stopEscalation(i.escalation, timeoutMinutes === null ? null : now + timeoutMinutes * MINUTE),
});

describe('stepEscalation', () => {
  it.each<[string, unknown, Tick[]]>([
    // Level 1 at once, level 2 ten minutes later, level 3 fifteen after that; nothing in between.
    ['levels page at their delays, each once', THREE_LEVELS, [
      [0, ['1/0/1/user:alice']],
      [0, []],
      [9, []],
      [10, ['1/0/2/user:bob']],
      [24, []],
      [25, ['1/0/3/user:carol', '1/0/3/contact_point:slack-ops']],
      [500, []],
    ]],
    // A tick that comes late pages every level due by then, in order, and none twice.
    ['a late tick catches up in order', THREE_LEVELS, [
      [30, ['1/0/1/user:alice', '1/0/2/user:bob', '1/0/3/user:carol', '1/0/3/contact_point:slack-ops']],
      [31, []],
    ]],
    // repeat 2: after the last level (minute 10) the policy waits its delay (10), then starts over
    // as the first round did: rounds start at 0, 20, 40.
    ['repeats start over after the last level has had its delay', { levels: [THREE_LEVELS.levels[0], THREE_LEVELS.levels[1]], repeat: 2 }, [
      [0, ['1/0/1/user:alice']],
      [10, ['1/0/2/user:bob']],
      [19, []],
      [20, ['1/1/1/user:alice']],
      [30, ['1/1/2/user:bob']],
      [40, ['1/2/1/user:alice']],
      [50, ['1/2/2/user:bob']],
      [60, []],
      [1000, []],
    ]],
    // A one-level policy with a delay repeats every 2 x delay: paged at 5, 15, 25.
    ['a one-level policy repeats', { levels: [{ delayMinutes: 5, targets: [user('dave')] }], repeat: 2 }, [
      [4, []],
      [5, ['1/0/1/user:dave']],
      [15, ['1/1/1/user:dave']],
      [25, ['1/2/1/user:dave']],
      [100, []],
    ]],
    // An acknowledgement stops paging; without an ack timeout nothing pages again.
    ['ack stops escalation', THREE_LEVELS, [
      [0, ['1/0/1/user:alice']],
      [5, [], ack(null)],
      [10, []],
      [1000, []],
    ]],
    // Ack timeout 30: acked at 5, expires at 35: triggered again, cycle 2 restarts at level 1.
    ['ack timeout re-pages from level 1 in a new cycle', { ...THREE_LEVELS, ackTimeoutMinutes: 30 }, [
      [0, ['1/0/1/user:alice']],
      [5, [], ack(30)],
      [34, []],
      [35, ['2/0/1/user:alice']],
      [44, []],
      [45, ['2/0/2/user:bob']],
    ]],
    // Held by maintenance: nothing pages, whatever is due.
    ['a held incident pages nobody', THREE_LEVELS, [
      [0, [], (i) => ({ ...i, held: true })],
      [30, []],
    ]],
    // Resolved: nothing pages.
    ['a resolved incident pages nobody', THREE_LEVELS, [
      [0, ['1/0/1/user:alice']],
      [5, [], (i) => ({ ...i, status: 'resolved', escalation: stopEscalation(i.escalation) })],
      [10, []],
    ]],
    // Low urgency: level 1 once, quietly; no further level, no repeat.
    ['low urgency notifies level 1 once and never escalates', { ...THREE_LEVELS, repeat: 3 }, [
      [0, ['1/0/1/user:alice'], (i) => ({ ...i, urgency: 'low' })],
      [10, []],
      [1000, []],
    ]],
    // A user named directly and also on call in the same level is paged once.
    ['a recipient reached twice in one level is paged once', { levels: [{ delayMinutes: 0, targets: [user('alice'), schedule('primary'), schedule('secondary')] }] }, [
      [0, ['1/0/1/user:alice', '1/0/1/user:bob']],
    ]],
  ])('%s', (_name, p, ticks) => {
    run(incident(policy(p)), ticks);
  });

  it('reports the wake-up time and the targets that reached nobody', () => {
    const p = policy({ levels: [{ delayMinutes: 0, targets: [schedule('empty'), user('erin')] }, { delayMinutes: 10, targets: [user('frank')] }] });
    const step = stepEscalation(incident(p), at(0), resolve);
    expect(step.levels).toEqual([{ cycle: 1, round: 0, level: 1, at: at(0), recipients: [user('erin')], unreachable: [schedule('empty')] }]);
    expect(step.wakeAt).toBe(at(10));
    const acked = stepEscalation({ ...incident(p), status: 'acknowledged', escalation: stopEscalation(step.escalation, at(40)) }, at(20), resolve);
    expect(acked.wakeAt).toBe(at(40));
    expect(acked.pages).toEqual([]);
  });

  it('marks low urgency pages as low (delivered by the quiet rules)', () => {
    const step = stepEscalation(incident(policy(THREE_LEVELS), { urgency: 'low' }), at(0), resolve);
    expect(step.pages.map((p) => p.urgency)).toEqual(['low']);
  });

  it('restarts a cycle from where the acknowledgement expired, not from the late tick', () => {
    const p = policy({ ...THREE_LEVELS, ackTimeoutMinutes: 30 });
    const e: EscalationState = stopEscalation(startCycle(p, NOT_STARTED, at(0)), at(35));
    const step = stepEscalation(incident(p, { status: 'acknowledged', escalation: e }), at(50), resolve);
    expect(step.ackExpired).toBe(true);
    expect(step.escalation.cycleStartedAt).toBe(at(35));
    // Level 1 (due 35) and level 2 (due 45) are both due at 50.
    expect(step.pages.map((x) => `${x.cycle}/${x.level}`)).toEqual(['2/1', '2/2']);
  });
});

describe('EscalationPolicy validation', () => {
  const level = (delayMinutes: number, ...targets: unknown[]) => ({ delayMinutes, targets: targets.length ? targets : [user('a')] });
  it.each<[string, unknown, string, RegExp]>([
    ['no levels', { levels: [] }, 'levels', /at least one level/],
    ['a level without targets', { levels: [{ delayMinutes: 0, targets: [] }] }, 'levels.0.targets', /at least one target/],
    ['a delay over a day', { levels: [level(1441)] }, 'levels.0.delayMinutes', /whole minutes from 0 to 1440/],
    ['a negative delay', { levels: [level(-1)] }, 'levels.0.delayMinutes', /whole minutes from 0 to 1440/],
    ['a fractional delay', { levels: [level(1.5)] }, 'levels.0.delayMinutes', /whole minutes from 0 to 1440/],
    ['a later level with no delay', { levels: [level(0), level(0)] }, 'levels.1.delayMinutes', /at least 1 minute/],
    ['a duplicate target', { levels: [level(0, user('a'), schedule('s'), user('a'))] }, 'levels.0.targets.2', /user:a is listed twice/],
    ['too many repeats', { levels: [level(5)], repeat: 10 }, 'repeat', /0 to 9/],
    // One level at 0 minutes repeated would page the same people again at the same instant.
    ['a loop that re-pages at once', { levels: [level(0)], repeat: 3 }, 'repeat', /re-page at once/],
    ['an ack timeout of 0', { levels: [level(0)], ackTimeoutMinutes: 0 }, 'ackTimeoutMinutes', /whole minutes from 1 to 1440/],
    ['an unknown target type', { levels: [{ delayMinutes: 0, targets: [{ type: 'team', id: 't' }] }] }, 'levels.0.targets.0.type', /./],
    ['an unknown field', { levels: [level(0)], loops: 2 }, '', /loops/],
  ])('rejects %s, naming the field', (_name, input, path, message) => {
    const r = EscalationPolicy.safeParse(input);
    expect(r.success).toBe(false);
    const issue = r.error!.issues.find((i) => i.path.join('.') === path);
    expect(issue, JSON.stringify(r.error!.issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('accepts a bounded policy and fills the defaults', () => {
    expect(policy({ levels: [level(0), level(1)] })).toEqual({ levels: [level(0), level(1)], repeat: 0, ackTimeoutMinutes: null });
    expect(EscalationPolicy.safeParse({ levels: [level(1)], repeat: 9, ackTimeoutMinutes: 1440 }).success).toBe(true);
  });
});
