/**
 * The alert instance state machine (src/alerts/instances.ts), table-driven on a fake timeline: each
 * case is a series of evaluations (minute, observation) and, after each, the state the instance must
 * be in and the transition it must have produced, if any. Observations are written as one letter:
 * C = holds at critical, W = holds at warning, . = clear, - = no data (the group is absent).
 */
import { describe, expect, it } from 'vitest';
import {
  advanceInstance,
  DEFAULT_INSTANCE_RULES,
  type Instance,
  type InstanceRules,
  NO_DATA_REASON,
  type Observation,
} from '../../../src/alerts/instances.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 6, 12, 0);
const at = (minute: number) => T0 + minute * MINUTE;

type Obs = 'C' | 'W' | '.' | '-';
const OBS: Record<Obs, Observation | null> = {
  C: { value: 95, severity: 'critical', threshold: 90, reason: 'avg 95 > 90 (critical)' },
  W: { value: 85, severity: 'warning', threshold: 80, reason: 'avg 85 > 80 (warning)' },
  '.': { value: 50, severity: null, threshold: 80, reason: 'avg 50 <= 80' },
  '-': null,
};

/** [minute, observation, state after it ('inactive' | 'state severity [flapping]'), transition ('' = none)] */
type Step = [number, Obs, string, string?];

const rules = (overrides: Partial<InstanceRules> = {}): InstanceRules => ({ ...DEFAULT_INSTANCE_RULES, ...overrides });
const view = (i: Instance | null) => (i ? `${i.state} ${i.severity}${i.flapping ? ' flapping' : ''}` : 'inactive');

/** Runs the steps and returns what each produced, in the shape of the expected table. */
function run(steps: Step[], r: InstanceRules): Step[] {
  let inst: Instance | null = null;
  return steps.map(([minute, obs]): Step => {
    const { next, transitions } = advanceInstance(inst, OBS[obs], at(minute), r);
    inst = next;
    return [minute, obs, view(next), transitions.map((t) => `${t.from}->${t.to} ${t.severity}`).join(', ')];
  });
}

describe('advanceInstance', () => {
  it.each<[string, Partial<InstanceRules>, Step[]]>([
    // for = 0: fires at the first evaluation that holds, resolves at the first that does not.
    ['for=0 fires at once and resolves at once', {}, [
      [0, '.', 'inactive', ''],
      [1, 'C', 'firing critical', 'inactive->firing critical'],
      [2, 'C', 'firing critical', ''],
      [3, '.', 'resolved critical', 'firing->resolved critical'],
    ]],
    // for = 5m: pending from minute 0, fires at the first evaluation 5 minutes later (not before).
    ['for=5m crosses into firing at activeAt + 5m', { forMs: 5 * MINUTE }, [
      [0, 'W', 'pending warning', 'inactive->pending warning'],
      [2, 'W', 'pending warning', ''],
      [4, 'W', 'pending warning', ''],
      [5, 'W', 'firing warning', 'pending->firing warning'],
      [6, '.', 'resolved warning', 'firing->resolved warning'],
    ]],
    // Evaluations need not land on the boundary: the first one at or after it fires.
    ['for=5m with a 3-minute evaluation interval fires at minute 6', { forMs: 5 * MINUTE }, [
      [0, 'W', 'pending warning', 'inactive->pending warning'],
      [3, 'W', 'pending warning', ''],
      [6, 'W', 'firing warning', 'pending->firing warning'],
    ]],
    // A clear evaluation while pending drops the instance; the next hold starts a new pending (and
    // the 5 minutes count from minute 3, not 0).
    ['a cleared pending goes back to inactive and restarts its for', { forMs: 5 * MINUTE }, [
      [0, 'W', 'pending warning', 'inactive->pending warning'],
      [2, '.', 'inactive', 'pending->inactive warning'],
      [3, 'W', 'pending warning', 'inactive->pending warning'],
      [5, 'W', 'pending warning', ''],
      [8, 'W', 'firing warning', 'pending->firing warning'],
    ]],
    // A pending instance takes the level it pends at and fires at the latest one, with no history
    // of the change (nobody is told about pending).
    ['pending changes level silently and fires at the current one', { forMs: 5 * MINUTE }, [
      [0, 'W', 'pending warning', 'inactive->pending warning'],
      [2, 'C', 'pending critical', ''],
      [5, 'C', 'firing critical', 'pending->firing critical'],
    ]],
    // keep_firing_for = 3m holds through a two-minute dip; a hold at minute 3 restarts the count, so
    // it resolves 3 minutes after minute 3, at minute 6.
    ['keep_firing_for holds through a dip', { keepFiringForMs: 3 * MINUTE }, [
      [0, 'C', 'firing critical', 'inactive->firing critical'],
      [1, '.', 'firing critical', ''],
      [2, '.', 'firing critical', ''],
      [3, 'C', 'firing critical', ''],
      [5, '.', 'firing critical', ''],
      [6, '.', 'resolved critical', 'firing->resolved critical'],
    ]],
    // keep_firing_for counts from the last evaluation that held, also across no-data evaluations.
    ['keep_firing_for also holds through missing data', { keepFiringForMs: 2 * MINUTE }, [
      [0, 'C', 'firing critical', 'inactive->firing critical'],
      [1, '-', 'firing critical', ''],
      [2, '-', 'resolved critical', 'firing->resolved critical'],
    ]],
    // Escalation and de-escalation stay firing, each with a firing->firing transition at the new
    // level; the resolve carries the last level.
    ['severity warning -> critical -> warning while firing', {}, [
      [0, 'W', 'firing warning', 'inactive->firing warning'],
      [1, 'C', 'firing critical', 'firing->firing critical'],
      [2, 'C', 'firing critical', ''],
      [3, 'W', 'firing warning', 'firing->firing warning'],
      [4, '.', 'resolved warning', 'firing->resolved warning'],
    ]],
    // A resolved instance that holds again fires again (for = 0) without passing through inactive.
    ['resolved then re-fire (for=0)', {}, [
      [0, 'C', 'firing critical', 'inactive->firing critical'],
      [1, '.', 'resolved critical', 'firing->resolved critical'],
      [2, 'W', 'firing warning', 'resolved->firing warning'],
    ]],
    // With for > 0 the re-fire passes through pending again.
    ['resolved then re-fire (for=2m) pends first', { forMs: 2 * MINUTE }, [
      [0, 'C', 'pending critical', 'inactive->pending critical'],
      [2, 'C', 'firing critical', 'pending->firing critical'],
      [3, '.', 'resolved critical', 'firing->resolved critical'],
      [4, 'C', 'pending critical', 'resolved->pending critical'],
      [5, '.', 'inactive', 'pending->inactive critical'],
    ]],
    // Resolved is kept 15 minutes after it resolved, then dropped without a transition.
    ['a resolved instance is dropped after the retention, silently', {}, [
      [0, 'C', 'firing critical', 'inactive->firing critical'],
      [1, '.', 'resolved critical', 'firing->resolved critical'],
      [15, '.', 'resolved critical', ''],
      [16, '-', 'inactive', ''],
      [17, 'C', 'firing critical', 'inactive->firing critical'],
    ]],
    // No data is the condition clear: it resolves a firing instance and drops a pending one.
    ['no data resolves a firing instance', {}, [
      [0, '-', 'inactive', ''],
      [1, 'C', 'firing critical', 'inactive->firing critical'],
      [2, '-', 'resolved critical', 'firing->resolved critical'],
    ]],
    ['no data drops a pending instance', { forMs: 5 * MINUTE }, [
      [0, 'W', 'pending warning', 'inactive->pending warning'],
      [1, '-', 'inactive', 'pending->inactive warning'],
    ]],
    // 4 changes (fire, resolve, fire, resolve) within the hour: flapping from the 4th. While
    // flapping, a clear condition resolves only after 15 quiet minutes (flapQuietMs).
    ['flapping turns on at the 4th change and delays the resolve by flapQuietMs', {}, [
      [0, 'C', 'firing critical', 'inactive->firing critical'],
      [1, '.', 'resolved critical', 'firing->resolved critical'],
      [2, 'C', 'firing critical', 'resolved->firing critical'],
      [3, '.', 'resolved critical flapping', 'firing->resolved critical'],
      [4, 'C', 'firing critical flapping', 'resolved->firing critical'],
      [5, '.', 'firing critical flapping', ''],
      [18, '.', 'firing critical flapping', ''],
      [19, '.', 'resolved critical flapping', 'firing->resolved critical'],
    ]],
    // Changes at 0..4 age out of the hour at 60..64. At 61 three are left (below 4, above 4/2):
    // still flapping (hysteresis). At 62 two are left: off, and the next clear resolves at once.
    ['flapping turns off when the count falls to half the threshold', {}, [
      [0, 'C', 'firing critical', 'inactive->firing critical'],
      [1, '.', 'resolved critical', 'firing->resolved critical'],
      [2, 'C', 'firing critical', 'resolved->firing critical'],
      [3, '.', 'resolved critical flapping', 'firing->resolved critical'],
      [4, 'C', 'firing critical flapping', 'resolved->firing critical'],
      [61, 'C', 'firing critical flapping', ''],
      [62, 'C', 'firing critical', ''],
      [63, '.', 'resolved critical', 'firing->resolved critical'],
    ]],
    // While flapping, the longer of keep_firing_for (20m) and flapQuietMs (15m) holds it (threshold
    // 2: the first resolve makes it flapping).
    ['flapping uses keep_firing_for when it is the longer', { keepFiringForMs: 20 * MINUTE, flapThreshold: 2 }, [
      [0, 'C', 'firing critical', 'inactive->firing critical'],
      [20, '.', 'resolved critical flapping', 'firing->resolved critical'],
      [21, 'C', 'firing critical flapping', 'resolved->firing critical'],
      [40, '.', 'firing critical flapping', ''],
      [41, '.', 'resolved critical flapping', 'firing->resolved critical'],
    ]],
    // Severity changes are not flaps: a firing instance that swaps level 6 times is not flapping.
    ['severity changes do not count towards flapping', {}, [
      [0, 'W', 'firing warning', 'inactive->firing warning'],
      [1, 'C', 'firing critical', 'firing->firing critical'],
      [2, 'W', 'firing warning', 'firing->firing warning'],
      [3, 'C', 'firing critical', 'firing->firing critical'],
      [4, 'W', 'firing warning', 'firing->firing warning'],
      [5, '.', 'resolved warning', 'firing->resolved warning'],
    ]],
  ])('%s', (_, overrides, steps) => {
    expect(run(steps, rules(overrides))).toEqual(steps.map(([m, o, s, t]) => [m, o, s, t ?? '']));
  });

  it('records when it began, fired, last held and resolved', () => {
    const r = rules({ forMs: 2 * MINUTE });
    let s = advanceInstance(null, OBS.W, at(0), r);
    s = advanceInstance(s.next, OBS.W, at(2), r);
    s = advanceInstance(s.next, OBS.C, at(3), r);
    s = advanceInstance(s.next, OBS['.'], at(4), r);
    expect(s.next).toEqual({
      state: 'resolved',
      severity: 'critical',
      activeAt: at(0),
      firedAt: at(2),
      resolvedAt: at(4),
      lastTrueAt: at(3),
      lastEvalAt: at(4),
      value: 50,
      flapping: false,
      changesAt: [at(2), at(4)],
    });
  });

  it('transitions carry the observation: value, threshold, reason, time and level', () => {
    const r = rules();
    const fired = advanceInstance(null, OBS.W, at(0), r);
    expect(fired.transitions).toEqual([
      { from: 'inactive', to: 'firing', at: at(0), severity: 'warning', value: 85, threshold: 80, reason: 'avg 85 > 80 (warning)' },
    ]);
    const up = advanceInstance(fired.next, OBS.C, at(1), r);
    expect(up.transitions[0]).toMatchObject({ to: 'firing', severity: 'critical', reason: 'escalated to critical: avg 95 > 90 (critical)' });
    const down = advanceInstance(up.next, OBS.W, at(2), r);
    expect(down.transitions[0]).toMatchObject({ severity: 'warning', reason: 'de-escalated to warning: avg 85 > 80 (warning)' });
    // No data: the resolve says so, with no value and no threshold.
    const gone = advanceInstance(down.next, null, at(3), r);
    expect(gone.transitions).toEqual([
      { from: 'firing', to: 'resolved', at: at(3), severity: 'warning', value: null, threshold: null, reason: NO_DATA_REASON },
    ]);
    expect(gone.next?.value).toBeNull();
  });

  it('value and lastEvalAt update at every evaluation, even with no transition', () => {
    const r = rules({ keepFiringForMs: 10 * MINUTE });
    const a = advanceInstance(null, OBS.C, at(0), r).next;
    const b = advanceInstance(a, { ...OBS.C!, value: 97 }, at(1), r);
    expect(b.transitions).toEqual([]);
    expect(b.next).toMatchObject({ value: 97, lastEvalAt: at(1), lastTrueAt: at(1) });
    const c = advanceInstance(b.next, OBS['.'], at(2), r);
    expect(c.next).toMatchObject({ state: 'firing', value: 50, lastEvalAt: at(2), lastTrueAt: at(1) });
  });

  it('ignores an evaluation older than the last one (time going backwards), returning prev as is', () => {
    const r = rules();
    const firing = advanceInstance(null, OBS.C, at(5), r).next!;
    const stale = advanceInstance(firing, OBS['.'], at(4), r);
    expect(stale.next).toBe(firing);
    expect(stale.transitions).toEqual([]);
    // The same instant again is not backwards: it is evaluated.
    expect(advanceInstance(firing, OBS['.'], at(5), r).next?.state).toBe('resolved');
  });

  it('throws on a time that is not a finite number', () => {
    expect(() => advanceInstance(null, OBS.C, Number.NaN, rules())).toThrow(RangeError);
  });

  it('never changes the instance, observation or rules it is given', () => {
    const r = rules({ keepFiringForMs: MINUTE });
    let inst: Instance | null = null;
    for (const [minute, obs] of [[0, 'C'], [1, '.'], [2, '.'], [3, 'W'], [4, 'C'], [5, '-']] as Array<[number, Obs]>) {
      const before = structuredClone(inst);
      const o = structuredClone(OBS[obs]);
      const frozenRules = structuredClone(r);
      const { next } = advanceInstance(inst, o, at(minute), r);
      expect(inst).toEqual(before);
      expect(o).toEqual(OBS[obs]);
      expect(r).toEqual(frozenRules);
      if (next && inst) expect(next.changesAt).not.toBe(inst.changesAt);
      inst = next;
    }
  });

  it('keeps changesAt pruned to the flap window', () => {
    const r = rules({ flapWindowMs: 10 * MINUTE });
    let inst: Instance | null = null;
    for (let m = 0; m < 40; m++) inst = advanceInstance(inst, m % 2 === 0 ? OBS.C : OBS['.'], at(m), r).next;
    expect(inst!.changesAt.every((t) => at(39) - t < 10 * MINUTE)).toBe(true);
    expect(inst!.changesAt.length).toBeLessThanOrEqual(10);
  });
});
