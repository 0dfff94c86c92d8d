import type { Severity } from './model.ts';

/**
 * One alert instance (one rule + one label set) as a pure state machine: advanceInstance(previous
 * state, this evaluation's observation, now) -> (next state, transitions). No SQL and no clock: the
 * rule evaluator feeds it one observation per evaluation, in time order, and stores what it returns;
 * the transitions are the instance's history and what notifications are made from. Prometheus'
 * alerting rules (rules/alerting.go: `for`, `keep_firing_for`, resolved alerts kept for 15 minutes)
 * plus flap damping, which Prometheus leaves to `keep_firing_for` alone.
 *
 * Invariants:
 * - states: inactive (no instance: `next` null) -> pending -> firing -> resolved -> (dropped). The
 *   condition holds when the observation has a severity; a null observation (the group is absent
 *   from this evaluation's results) is the condition clear, with the reason 'no data for this group';
 * - holds while inactive or resolved: pending with activeAt = now, or straight to firing when
 *   forMs <= 0 (one transition, inactive->firing or resolved->firing, never a pending in between);
 * - pending fires at the first evaluation with now - activeAt >= forMs; a clear evaluation while
 *   pending drops the instance (pending->inactive) and, with it, its flap history: a condition that
 *   cannot outlast `for` never changed between firing and resolved;
 * - firing stays firing while now - lastTrueAt < keepFiringForMs, or while flapping, < max(
 *   keepFiringForMs, flapQuietMs); then it resolves (firing->resolved, resolvedAt = now);
 * - firing at another severity stays firing, with a firing->firing transition whose reason says
 *   escalated or de-escalated; a pending instance just takes the new level (pending is not history
 *   anyone is notified of);
 * - resolved is kept for resolvedRetentionMs after resolvedAt (so a quick re-fire keeps its flap
 *   history and the store can re-send the resolve), then dropped (`next` null) with NO transition:
 *   resolved->inactive is bookkeeping, not history;
 * - flapping: changesAt holds the times of entries to firing and to resolved within flapWindowMs
 *   (pruned at every step, so it stays bounded); flapping turns on when their count reaches
 *   flapThreshold and off (hysteresis) when it falls to flapThreshold / 2 or below. Severity changes
 *   while firing are not counted: they do not page anyone twice;
 * - value and lastEvalAt take this evaluation's at every step (value null when there is no data);
 * - time never runs backwards: an evaluation with now < prev.lastEvalAt (a stale or duplicated job
 *   from another worker) is ignored, returning prev unchanged and no transitions, so a late
 *   evaluation can never rewrite history. A non-finite `now` is a caller's bug and throws;
 * - the input is never mutated: a step returns new values, so a caller can keep the old one.
 */
export type InstanceState = 'pending' | 'firing' | 'resolved';

export interface InstanceRules {
  /** The condition must hold this long in pending before firing (0 = fire at once). */
  forMs: number;
  /** Stay firing this long after the condition last held. */
  keepFiringForMs: number;
  /** Window in which firing/resolved changes are counted. */
  flapWindowMs: number;
  /** Changes within the window that make an instance flapping. */
  flapThreshold: number;
  /** While flapping, resolve only after the condition has been clear this long. */
  flapQuietMs: number;
  /** A resolved instance is dropped (next = null) this long after it resolved. */
  resolvedRetentionMs: number;
}

export interface Observation {
  value: number | null;
  /** The level the condition holds at (critical beats warning), or null when it does not hold. */
  severity: Severity | null;
  /** The threshold crossed (or the nearest one when clear). */
  threshold: number | null;
  /** Short human reason, e.g. 'avg 93.1 > 90 (critical)'; 'no data for this group'. */
  reason: string;
}

export interface Instance {
  state: InstanceState;
  /** The level it fires (or pends) at; the last level while resolved. */
  severity: Severity;
  /** When the condition began to hold (start of pending). */
  activeAt: number;
  firedAt: number | null;
  resolvedAt: number | null;
  /** Last evaluation at which the condition held. */
  lastTrueAt: number | null;
  lastEvalAt: number;
  value: number | null;
  flapping: boolean;
  /** Times of firing/resolved changes inside flapWindowMs (pruned). */
  changesAt: number[];
}

export interface Transition {
  from: InstanceState | 'inactive';
  to: InstanceState | 'inactive';
  at: number;
  severity: Severity;
  value: number | null;
  threshold: number | null;
  reason: string;
}

export interface InstanceStep {
  /** The instance after this evaluation, or null when there is none (inactive or dropped). */
  next: Instance | null;
  /** What changed, in order (at most one per evaluation). */
  transitions: Transition[];
}

const MINUTE_MS = 60_000;

/** Prometheus' defaults where it has them (for 0, keep_firing_for 0, resolved kept 15 minutes). */
export const DEFAULT_INSTANCE_RULES: Readonly<InstanceRules> = Object.freeze({
  forMs: 0,
  keepFiringForMs: 0,
  flapWindowMs: 60 * MINUTE_MS,
  flapThreshold: 4,
  flapQuietMs: 15 * MINUTE_MS,
  resolvedRetentionMs: 15 * MINUTE_MS,
});

export const NO_DATA_REASON = 'no data for this group';

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** Flapping with hysteresis, so an instance at the threshold does not itself flap in and out. */
function isFlapping(was: boolean, changes: number, rules: InstanceRules): boolean {
  return was ? changes > rules.flapThreshold / 2 : changes >= rules.flapThreshold;
}

export function advanceInstance(prev: Instance | null, obs: Observation | null, now: number, rules: InstanceRules): InstanceStep {
  if (!Number.isFinite(now)) throw new RangeError(`advanceInstance: now must be a finite time, got ${now}`);
  if (prev && now < prev.lastEvalAt) return { next: prev, transitions: [] };

  const o: Observation = obs ?? { value: null, severity: null, threshold: null, reason: NO_DATA_REASON };
  const holds = o.severity !== null;
  const transition = (from: Transition['from'], to: Transition['to'], severity: Severity, reason = o.reason): Transition => ({
    from,
    to,
    at: now,
    severity,
    value: o.value,
    threshold: o.threshold,
    reason,
  });

  // Inactive, or resolved and about to start again: a new episode (keeping the flap history, which
  // is what flap damping is about).
  if (!prev || (prev.state === 'resolved' && holds)) {
    if (!o.severity) return { next: null, transitions: [] };
    const from = prev ? 'resolved' : 'inactive';
    const kept = prev ? prune(prev.changesAt, now, rules) : [];
    const base = {
      severity: o.severity,
      activeAt: now,
      resolvedAt: null,
      lastTrueAt: now,
      lastEvalAt: now,
      value: o.value,
    };
    if (rules.forMs > 0) {
      const flapping = isFlapping(prev?.flapping ?? false, kept.length, rules);
      return {
        next: { ...base, state: 'pending', firedAt: null, flapping, changesAt: kept },
        transitions: [transition(from, 'pending', o.severity)],
      };
    }
    const changesAt = [...kept, now];
    const flapping = isFlapping(prev?.flapping ?? false, changesAt.length, rules);
    return {
      next: { ...base, state: 'firing', firedAt: now, flapping, changesAt },
      transitions: [transition(from, 'firing', o.severity)],
    };
  }

  const kept = prune(prev.changesAt, now, rules);
  const flapping = isFlapping(prev.flapping, kept.length, rules);
  const stay: Instance = {
    ...prev,
    lastEvalAt: now,
    value: o.value,
    flapping,
    changesAt: kept,
    ...(holds ? { lastTrueAt: now } : {}),
  };

  switch (prev.state) {
    case 'pending': {
      if (!o.severity) return { next: null, transitions: [transition('pending', 'inactive', prev.severity)] };
      if (now - prev.activeAt < rules.forMs) return { next: { ...stay, severity: o.severity }, transitions: [] };
      const changesAt = [...kept, now];
      return {
        next: { ...stay, state: 'firing', severity: o.severity, firedAt: now, changesAt, flapping: isFlapping(flapping, changesAt.length, rules) },
        transitions: [transition('pending', 'firing', o.severity)],
      };
    }
    case 'firing': {
      if (o.severity) {
        if (o.severity === prev.severity) return { next: stay, transitions: [] };
        const verb = RANK[o.severity] > RANK[prev.severity] ? 'escalated' : 'de-escalated';
        return {
          next: { ...stay, severity: o.severity },
          transitions: [transition('firing', 'firing', o.severity, `${verb} to ${o.severity}: ${o.reason}`)],
        };
      }
      // lastTrueAt is set on every way into firing; the fallback only guards a hand-made state.
      const clearFor = now - (prev.lastTrueAt ?? prev.activeAt);
      const hold = flapping ? Math.max(rules.keepFiringForMs, rules.flapQuietMs) : rules.keepFiringForMs;
      if (clearFor < hold) return { next: stay, transitions: [] };
      const changesAt = [...kept, now];
      return {
        next: { ...stay, state: 'resolved', resolvedAt: now, changesAt, flapping: isFlapping(flapping, changesAt.length, rules) },
        transitions: [transition('firing', 'resolved', prev.severity)],
      };
    }
    case 'resolved': {
      // Only the clear case reaches here (a holding condition restarted the instance above).
      if (now - (prev.resolvedAt ?? prev.lastEvalAt) >= rules.resolvedRetentionMs) return { next: null, transitions: [] };
      return { next: stay, transitions: [] };
    }
  }
}

/** The changes still inside the flap window at `now` (a new array: the input is never mutated). */
function prune(changesAt: readonly number[], now: number, rules: InstanceRules): number[] {
  return changesAt.filter((t) => now - t < rules.flapWindowMs);
}
