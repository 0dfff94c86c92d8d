import { describe, expect, it } from 'vitest';
import { type ExternalState, type ReceivedAlert, receiveExternal, severityOf } from '../../../src/alerts/external-alerts.ts';

const M = 60_000;
const alert = (endsAt: number, over: Partial<ReceivedAlert> = {}): ReceivedAlert => ({
  labels: { alertname: 'Up', severity: 'warning' },
  annotations: {},
  startsAt: 0,
  endsAt,
  generatorUrl: null,
  ...over,
});

interface Step {
  now: number;
  a: ReceivedAlert;
  state: ExternalState['state'] | null;
  transitions: string[];
}

function run(steps: Step[]) {
  let s: ExternalState | null = null;
  for (const [i, step] of steps.entries()) {
    const r = receiveExternal(s, step.a, step.now);
    expect(r.next?.state ?? null, `state at step ${i}`).toBe(step.state);
    expect(r.transitions.map((t) => `${t.from}->${t.to}`), `transitions at step ${i}`).toEqual(step.transitions);
    s = r.next;
  }
  return s;
}

describe('receiveExternal (Alertmanager API v2 leases)', () => {
  it.each<[string, Step[]]>([
    // Firing, re-sent (lease renewed, no history), then resolved by the sender.
    ['fire, renew, resolve', [
      { now: 0, a: alert(4 * M), state: 'firing', transitions: ['inactive->firing'] },
      { now: M, a: alert(5 * M), state: 'firing', transitions: [] },
      { now: 2 * M, a: alert(2 * M - 1000), state: 'resolved', transitions: ['firing->resolved'] },
    ]],
    // Prometheus re-sends resolved alerts for 15 minutes: harmless.
    ['repeated resolved sends change nothing', [
      { now: 0, a: alert(4 * M), state: 'firing', transitions: ['inactive->firing'] },
      { now: M, a: alert(M), state: 'resolved', transitions: ['firing->resolved'] },
      { now: 2 * M, a: alert(M), state: 'resolved', transitions: [] },
    ]],
    // A resolved alert we never saw firing is ignored: nothing to tell.
    ['a resolved alert never seen firing is ignored', [{ now: M, a: alert(M - 1), state: null, transitions: [] }]],
    // Firing again after resolving is a new firing.
    ['re-fire after resolve', [
      { now: 0, a: alert(4 * M), state: 'firing', transitions: ['inactive->firing'] },
      { now: M, a: alert(M), state: 'resolved', transitions: ['firing->resolved'] },
      { now: 3 * M, a: alert(7 * M), state: 'firing', transitions: ['resolved->firing'] },
    ]],
    // The sender changes the severity label's value: a firing->firing transition.
    ['severity change while firing', [
      { now: 0, a: alert(4 * M), state: 'firing', transitions: ['inactive->firing'] },
      { now: M, a: alert(5 * M, { labels: { alertname: 'Up', severity: 'critical' } }), state: 'firing', transitions: ['firing->firing'] },
    ]],
  ])('%s', (_name, steps) => {
    run(steps);
  });

  it('keeps the annotations and generator URL of the latest send', () => {
    const s = run([
      { now: 0, a: alert(4 * M, { annotations: { summary: 'one' } }), state: 'firing', transitions: ['inactive->firing'] },
      { now: M, a: alert(5 * M, { annotations: { summary: 'two' }, generatorUrl: 'http://prom/graph' }), state: 'firing', transitions: [] },
    ]);
    expect(s!.annotations).toEqual({ summary: 'two' });
    expect(s!.generatorUrl).toBe('http://prom/graph');
    expect(s!.endsAt).toBe(5 * M);
  });

  it.each([
    ['critical', 'critical'],
    ['ERROR', 'critical'],
    ['warning', 'warning'],
    ['info', 'info'],
    ['', 'critical'],
    ['something-else', 'critical'],
  ])('severity label %j -> %s', (label, severity) => {
    expect(severityOf(label ? { severity: label } : {})).toBe(severity);
  });
});
