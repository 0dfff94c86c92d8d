/**
 * Personal notification rules and the per-person rate cap (src/oncall/notification-rules.ts),
 * table-driven on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { capNotifications, EMPTY_RATE_STATE, NotificationRules, personalNotifications, type RateState } from '../../../src/oncall/notification-rules.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 6, 12, 0);
const at = (minute: number) => T0 + minute * MINUTE;

/** "Email at once, Slack after 2 min, phone after 10 min" for high urgency; email only for low. */
const RULES = NotificationRules.parse({
  methods: [
    { id: 'mail', kind: 'email', address: 'alice@example.com' },
    { id: 'slack', kind: 'slack', address: 'U024BE7LH' },
    { id: 'phone', kind: 'voice', address: '+447700900123' },
  ],
  high: [
    { methodId: 'phone', delayMinutes: 10 },
    { methodId: 'mail', delayMinutes: 0 },
    { methodId: 'slack', delayMinutes: 2 },
  ],
  low: [{ methodId: 'mail', delayMinutes: 0 }],
});

describe('personalNotifications', () => {
  it.each<[string, 'high' | 'low', number, string[], number | null]>([
    ['at the page: email only; Slack next at 2', 'high', 0, ['mail@0'], at(2)],
    ['at 1 minute: still email only', 'high', 1, ['mail@0'], at(2)],
    ['at 2 minutes: email and Slack; phone next at 10', 'high', 2, ['mail@0', 'slack@2'], at(10)],
    ['at 10 minutes: all three, nothing after', 'high', 10, ['mail@0', 'slack@2', 'phone@10'], null],
    ['low urgency: email, never the phone', 'low', 60, ['mail@0'], null],
  ])('%s', (_name, urgency, minute, due, nextAt) => {
    const r = personalNotifications(RULES, urgency, at(0), at(minute));
    expect(r.due.map((n) => n.ruleKey)).toEqual(due);
    expect(r.due.every((n) => n.at <= at(minute))).toBe(true);
    expect(r.nextAt).toBe(nextAt);
  });

  it('never pages for low urgency, even with a phone rule stored before validation said no', () => {
    const stored = { ...RULES, low: [{ methodId: 'phone', delayMinutes: 0 }] };
    expect(personalNotifications(stored, 'low', at(0), at(30)).due).toEqual([]);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['a rule naming no method', { methods: [], high: [{ methodId: 'x', delayMinutes: 0 }] }, 'high.0.methodId', /no contact method 'x'/],
    ['a phone rule for low urgency', { methods: [{ id: 'p', kind: 'sms', address: '+15551234567' }], high: [], low: [{ methodId: 'p', delayMinutes: 0 }] }, 'low.0.methodId', /never pages/],
    ['a method listed twice', { methods: [{ id: 'm', kind: 'email', address: 'a@b.c' }, { id: 'm', kind: 'slack', address: 'U1' }], high: [] }, 'methods.1.id', /twice/],
    ['a phone number that is not E.164', { methods: [{ id: 'p', kind: 'voice', address: '07700 900123' }], high: [] }, 'methods.0.address', /E\.164/],
    ['the same rule twice', { methods: [{ id: 'm', kind: 'email', address: 'a@b.c' }], high: [{ methodId: 'm', delayMinutes: 1 }, { methodId: 'm', delayMinutes: 1 }] }, 'high.1', /twice/],
    ['a delay out of range', { methods: [{ id: 'm', kind: 'email', address: 'a@b.c' }], high: [{ methodId: 'm', delayMinutes: 2000 }] }, 'high.0.delayMinutes', /./],
  ])('rejects %s, naming the field', (_name, input, path, message) => {
    const r = NotificationRules.safeParse(input);
    expect(r.success).toBe(false);
    const issue = r.error!.issues.find((i) => i.path.join('.') === path);
    expect(issue, JSON.stringify(r.error!.issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });
});

describe('capNotifications (per-person rate cap)', () => {
  const CAP = { max: 3, windowMs: 10 * MINUTE };
  const n = (incidentId: string) => ({ incidentId });

  /** [minute, candidates (incident ids), sent, summary "folded:incidents" or null] */
  type Step = [number, string[], string[], string | null];

  function run(steps: Step[]): RateState {
    let state: RateState = EMPTY_RATE_STATE;
    for (const [minute, candidates, sent, summary] of steps) {
      const before = structuredClone(state);
      const r = capNotifications(state, candidates.map(n), at(minute), CAP);
      expect(state, `minute ${minute} mutated its input`).toEqual(before);
      expect(r.send.map((c) => c.incidentId), `sent at minute ${minute}`).toEqual(sent);
      expect(r.summary && `${r.summary.folded}:${r.summary.incidentIds.join(',')}`, `summary at minute ${minute}`).toBe(summary);
      state = r.state;
    }
    return state;
  }

  it.each<[string, Step[]]>([
    // Under the cap everything goes.
    ['under the cap, all are sent', [
      [0, ['a', 'b'], ['a', 'b'], null],
      [1, ['c'], ['c'], null],
    ]],
    // A storm: 3 sent, the other 3 folded into one summary at once.
    ['over the cap, the excess is folded into one summary', [
      [0, ['a', 'b', 'c', 'd', 'e', 'f'], ['a', 'b', 'c'], '3:d,e,f'],
    ]],
    // Folds after the first summary wait for the window to pass, then are told together.
    ['at most one summary per window; later folds are told after it', [
      [0, ['a', 'b', 'c', 'd'], ['a', 'b', 'c'], '1:d'],
      [2, ['e'], [], null],
      [5, ['f', 'e'], [], null],
      // Window passed: room again for 3, and the 3 folded since are summarised.
      [10, ['g'], ['g'], '3:e,f'],
    ]],
    // The window slides: sends older than windowMs no longer count.
    ['the window slides', [
      [0, ['a', 'b', 'c'], ['a', 'b', 'c'], null],
      [9, ['d'], [], '1:d'],
      [10, ['e', 'f'], ['e', 'f'], null],
    ]],
  ])('%s', (_name, steps) => {
    run(steps);
  });

  it('says when a summary is still owed', () => {
    const first = capNotifications(EMPTY_RATE_STATE, ['a', 'b', 'c', 'd'].map(n), at(0), CAP);
    const later = capNotifications(first.state, [n('e')], at(3), CAP);
    expect(later.summary).toBeNull();
    expect(later.wakeAt).toBe(at(10));
    expect(capNotifications(later.state, [], at(10), CAP).summary).toEqual({ folded: 1, incidentIds: ['e'] });
  });
});
