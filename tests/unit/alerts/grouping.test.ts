import { describe, expect, it } from 'vitest';
import { advanceGroup, type GroupMember, type GroupState, type GroupTimers } from '../../../src/alerts/grouping.ts';

const S = 1000;
const M = 60 * S;
/** Alertmanager's defaults. */
const T: GroupTimers = { groupWaitMs: 30 * S, groupIntervalMs: 5 * M, repeatIntervalMs: 4 * 60 * M };

const firing = (fp: string, suppressed = false): GroupMember => ({ fingerprint: fp, status: 'firing', suppressed });
const resolved = (fp: string, suppressed = false): GroupMember => ({ fingerprint: fp, status: 'resolved', suppressed });

interface Step {
  at: number;
  members: GroupMember[];
  muted?: boolean;
  /** The flush expected at this step, or null. */
  flush: { firing: string[]; resolved: string[] } | null;
  /** Whether the group still exists after the step. */
  exists: boolean;
}

/** Runs the steps from no group, checking each flush and the group's existence. */
function run(steps: Step[], timers = T): Array<GroupState | null> {
  let g: GroupState | null = null;
  const states: Array<GroupState | null> = [];
  for (const [i, s] of steps.entries()) {
    const before = structuredClone(g);
    const step = advanceGroup(g, s.members, s.at, timers, s.muted ?? false);
    expect(g, `step ${i} mutated its input`).toEqual(before);
    expect(step.flush === null ? null : { firing: step.flush.firing, resolved: step.flush.resolved }, `flush at step ${i}`).toEqual(s.flush);
    expect(step.next !== null, `group exists after step ${i}`).toBe(s.exists);
    if (step.flush) expect(step.flush.seq).toBe((g?.seq ?? 0) + 1);
    g = step.next;
    states.push(g);
  }
  return states;
}

describe('advanceGroup (Alertmanager aggregation group timers)', () => {
  it.each<[string, Step[]]>([
    [
      // A new group waits group_wait, then notifies; nothing new: quiet until repeat_interval.
      'group_wait, then quiet, then repeat_interval',
      [
        { at: 0, members: [firing('a')], flush: null, exists: true },
        { at: 29 * S, members: [firing('a')], flush: null, exists: true },
        { at: 30 * S, members: [firing('a')], flush: { firing: ['a'], resolved: [] }, exists: true },
        { at: 30 * S + 5 * M, members: [firing('a')], flush: null, exists: true },
        { at: 30 * S + 4 * 60 * M, members: [firing('a')], flush: { firing: ['a'], resolved: [] }, exists: true },
      ],
    ],
    [
      // Alerts arriving during group_wait join the first notification.
      'alerts that arrive during group_wait are batched',
      [
        { at: 0, members: [firing('a')], flush: null, exists: true },
        { at: 10 * S, members: [firing('a'), firing('b')], flush: null, exists: true },
        { at: 30 * S, members: [firing('a'), firing('b')], flush: { firing: ['a', 'b'], resolved: [] }, exists: true },
      ],
    ],
    [
      // A new alert after the first notification waits for the next group_interval tick.
      'a new alert waits for group_interval',
      [
        { at: 0, members: [firing('a')], flush: null, exists: true },
        { at: 30 * S, members: [firing('a')], flush: { firing: ['a'], resolved: [] }, exists: true },
        { at: 60 * S, members: [firing('a'), firing('b')], flush: null, exists: true },
        { at: 30 * S + 5 * M, members: [firing('a'), firing('b')], flush: { firing: ['a', 'b'], resolved: [] }, exists: true },
      ],
    ],
    [
      // One of two resolves: told at the next tick, in one notification with the still firing one.
      'a resolution is told with the firing alerts, at the next tick',
      [
        { at: 0, members: [firing('a'), firing('b')], flush: null, exists: true },
        { at: 30 * S, members: [firing('a'), firing('b')], flush: { firing: ['a', 'b'], resolved: [] }, exists: true },
        { at: 60 * S, members: [firing('a'), resolved('b')], flush: null, exists: true },
        { at: 30 * S + 5 * M, members: [firing('a'), resolved('b')], flush: { firing: ['a'], resolved: ['b'] }, exists: true },
        { at: 30 * S + 10 * M, members: [firing('a'), resolved('b')], flush: null, exists: true },
      ],
    ],
    [
      // All resolved: one resolved notice, then the group ends.
      'the last resolution ends the group',
      [
        { at: 0, members: [firing('a')], flush: null, exists: true },
        { at: 30 * S, members: [firing('a')], flush: { firing: ['a'], resolved: [] }, exists: true },
        { at: 30 * S + 5 * M, members: [resolved('a')], flush: { firing: [], resolved: ['a'] }, exists: false },
      ],
    ],
    [
      // Resolved before anyone was told: never notified as resolved; the group ends silently.
      'an alert resolved during group_wait is never told',
      [
        { at: 0, members: [firing('a')], flush: null, exists: true },
        { at: 20 * S, members: [resolved('a')], flush: null, exists: false },
      ],
    ],
    [
      // The fix of prometheus/alertmanager#226: a silence that began after the firing notice does not
      // swallow the resolved notice.
      'a silence that began after the firing notice does not swallow the resolution',
      [
        { at: 0, members: [firing('a')], flush: null, exists: true },
        { at: 30 * S, members: [firing('a')], flush: { firing: ['a'], resolved: [] }, exists: true },
        { at: 30 * S + 5 * M, members: [firing('a', true)], flush: null, exists: true },
        { at: 30 * S + 10 * M, members: [resolved('a', true)], flush: { firing: [], resolved: ['a'] }, exists: false },
      ],
    ],
    [
      // A silenced alert never notifies as firing, so its resolution is not told either.
      'an alert silenced from the start notifies nothing, ever',
      [
        { at: 0, members: [firing('a', true)], flush: null, exists: false },
        { at: 5 * M, members: [resolved('a', true)], flush: null, exists: false },
      ],
    ],
    [
      // Silenced alerts are left out of the firing list; the others still notify.
      'silenced alerts are left out of a notification',
      [
        { at: 0, members: [firing('a'), firing('b', true)], flush: null, exists: true },
        { at: 30 * S, members: [firing('a'), firing('b', true)], flush: { firing: ['a'], resolved: [] }, exists: true },
      ],
    ],
    [
      // Muted: nothing flushes; the first tick after the mute tells what changed meanwhile.
      'a mute holds notifications until it ends',
      [
        { at: 0, members: [firing('a')], flush: null, exists: true },
        { at: 30 * S, members: [firing('a')], muted: true, flush: null, exists: true },
        { at: 30 * S + 5 * M, members: [firing('a')], muted: true, flush: null, exists: true },
        { at: 30 * S + 10 * M, members: [firing('a')], flush: { firing: ['a'], resolved: [] }, exists: true },
      ],
    ],
    [
      // A resolution during a mute is remembered and told after it.
      'a resolution during a mute is told after it',
      [
        { at: 0, members: [firing('a')], flush: null, exists: true },
        { at: 30 * S, members: [firing('a')], flush: { firing: ['a'], resolved: [] }, exists: true },
        { at: 30 * S + 5 * M, members: [resolved('a')], muted: true, flush: null, exists: true },
        { at: 30 * S + 10 * M, members: [resolved('a')], flush: { firing: [], resolved: ['a'] }, exists: false },
      ],
    ],
    [
      // The same alert re-fires after its resolution was told: a new firing notice.
      'a re-fire after a told resolution is new',
      [
        { at: 0, members: [firing('a'), firing('b')], flush: null, exists: true },
        { at: 30 * S, members: [firing('a'), firing('b')], flush: { firing: ['a', 'b'], resolved: [] }, exists: true },
        { at: 30 * S + 5 * M, members: [firing('a'), resolved('b')], flush: { firing: ['a'], resolved: ['b'] }, exists: true },
        { at: 30 * S + 10 * M, members: [firing('a'), firing('b')], flush: { firing: ['a', 'b'], resolved: [] }, exists: true },
      ],
    ],
  ])('%s', (_name, steps) => {
    run(steps);
  });

  it('keeps owing a resolution while the alert is silenced, and remembers it in state', () => {
    const states = run([
      { at: 0, members: [firing('a'), firing('b')], flush: null, exists: true },
      { at: 30 * S, members: [firing('a'), firing('b')], flush: { firing: ['a', 'b'], resolved: [] }, exists: true },
      // b silenced, a resolved: a is told; b is still owed.
      { at: 30 * S + 5 * M, members: [resolved('a'), firing('b', true)], flush: { firing: [], resolved: ['a'] }, exists: true },
    ]);
    expect(states[2]!.notifiedFiring).toEqual(['b']);
  });

  it('takes group_wait 0 as an immediate first notification at the next tick', () => {
    run(
      [
        { at: 0, members: [firing('a')], flush: null, exists: true },
        { at: 0, members: [firing('a')], flush: { firing: ['a'], resolved: [] }, exists: true },
      ],
      { ...T, groupWaitMs: 0 },
    );
  });
});
