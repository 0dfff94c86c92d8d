import { z } from 'zod';
import { LabelName, Matchers, matchesAll } from './matchers.ts';
import type { Labels } from './model.ts';

/**
 * Inhibition: a firing alert (the source) mutes other alerts (the targets), e.g. "cluster down"
 * mutes that cluster's "service down" warnings. Pure: the caller passes the alerts firing now.
 *
 * Invariants (Alertmanager's inhibit.go):
 * - a target is inhibited when some rule's target_matchers match it and some firing alert matches
 *   that rule's source_matchers and has the same value as the target for every `equal` label;
 *   a label missing on both counts as equal (missing is the value "", as in matching);
 * - two-sided exclusion: when the target also matches the rule's source_matchers, a source that
 *   also matches the target_matchers does not count. So an alert never inhibits itself, and two
 *   alerts that both match both sides (source and target `severity=~"warning|critical"`) never
 *   mute each other and both go silent; only a source outside the target side can mute them.
 *   We apply it to every candidate source (Alertmanager up to 0.27 did; later versions index one
 *   source per `equal` value and may miss another qualifying source behind a two-sided one);
 * - rules need matchers on both sides: an empty side would match every alert, and a rule that
 *   mutes everything is a mistake Alertmanager accepts but we refuse.
 */

const Side = Matchers.refine((ms) => ms.length > 0, 'must hold at least one matcher');

export const InhibitRule = z.strictObject({
  source_matchers: Side,
  target_matchers: Side,
  equal: z
    .array(LabelName)
    .max(32)
    .default([])
    .transform((names) => [...new Set(names)]),
});
export type InhibitRule = z.output<typeof InhibitRule>;

export const MAX_INHIBIT_RULES = 100;

const own = (l: Labels, n: string) => (Object.hasOwn(l, n) ? l[n] : undefined) ?? '';
const sameOn = (names: readonly string[], a: Labels, b: Labels) => names.every((n) => own(a, n) === own(b, n));

/** The first firing alert that inhibits `target`, or undefined. */
export function findInhibitor(target: Labels, firing: readonly Labels[], rules: readonly InhibitRule[]): Labels | undefined {
  for (const r of rules) {
    if (!matchesAll(r.target_matchers, target)) continue;
    const twoSided = matchesAll(r.source_matchers, target);
    const source = firing.find(
      (s) => matchesAll(r.source_matchers, s) && sameOn(r.equal, s, target) && !(twoSided && matchesAll(r.target_matchers, s)),
    );
    if (source) return source;
  }
  return undefined;
}

export function isInhibited(target: Labels, firing: readonly Labels[], rules: readonly InhibitRule[]): boolean {
  return findInhibitor(target, firing, rules) !== undefined;
}

