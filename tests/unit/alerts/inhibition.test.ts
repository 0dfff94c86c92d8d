/**
 * Inhibition (src/alerts/inhibition.ts): for a target alert and the alerts firing now, whether a
 * rule mutes it, with Alertmanager's `equal` (missing on both counts as equal) and its two-sided
 * exclusion (an alert matching both sides is muted only by a source outside the target side, so it
 * never mutes itself and two such alerts never mute each other).
 */
import { describe, expect, it } from 'vitest';
import { findInhibitor, InhibitRule, isInhibited } from '../../../src/alerts/inhibition.ts';

type L = Record<string, string>;

const rule = (source: string[], target: string[], equal?: string[]) =>
  InhibitRule.parse({ source_matchers: source, target_matchers: target, ...(equal ? { equal } : {}) });

// Critical mutes warning in the same cluster.
const CRITICAL_MUTES_WARNING = rule(['severity="critical"'], ['severity="warning"'], ['cluster']);
// Both sides select the same alerts: the two-sided case.
const SAME_SIDES = rule(['severity=~"warning|critical"'], ['severity=~"warning|critical"'], ['alertname']);
// A critical alert mutes the db team's alerts in its cluster; a db critical matches both sides.
const CRITICAL_MUTES_DB = rule(['severity="critical"'], ['team="db"'], ['cluster']);

describe('isInhibited', () => {
  it.each<[string, L, L[], InhibitRule[], boolean]>([
    ['a critical in the same cluster mutes a warning', { severity: 'warning', cluster: 'a' }, [{ severity: 'critical', cluster: 'a' }], [CRITICAL_MUTES_WARNING], true],
    ['a critical in another cluster does not', { severity: 'warning', cluster: 'a' }, [{ severity: 'critical', cluster: 'b' }], [CRITICAL_MUTES_WARNING], false],
    ['nothing firing mutes nothing', { severity: 'warning', cluster: 'a' }, [], [CRITICAL_MUTES_WARNING], false],
    ['a firing alert that is not a source does not', { severity: 'warning', cluster: 'a' }, [{ severity: 'info', cluster: 'a' }], [CRITICAL_MUTES_WARNING], false],
    // Alertmanager compares lset[n] values, so a label missing on both sides is equal ("" == "").
    ['an equal label missing on both counts as equal', { severity: 'warning' }, [{ severity: 'critical' }], [CRITICAL_MUTES_WARNING], true],
    ['an equal label missing on one side does not', { severity: 'warning' }, [{ severity: 'critical', cluster: 'a' }], [CRITICAL_MUTES_WARNING], false],
    ['a target outside target_matchers is never muted', { severity: 'info', cluster: 'a' }, [{ severity: 'critical', cluster: 'a' }], [CRITICAL_MUTES_WARNING], false],
    // Without `equal`, a critical anywhere mutes warnings everywhere (the documented foot-gun).
    ['without equal any source mutes', { severity: 'warning', cluster: 'a' }, [{ severity: 'critical', cluster: 'z' }], [rule(['severity="critical"'], ['severity="warning"'])], true],
    ['every equal label must agree', { severity: 'warning', cluster: 'a', ns: 'x' }, [{ severity: 'critical', cluster: 'a', ns: 'y' }], [rule(['severity="critical"'], ['severity="warning"'], ['cluster', 'ns'])], false],
    // Two-sided: the target is in the firing list (as callers pass it) and matches both sides.
    ['an alert never inhibits itself', { severity: 'warning', alertname: 'X' }, [{ severity: 'warning', alertname: 'X' }], [SAME_SIDES], false],
    ['two alerts matching both sides do not mute each other', { severity: 'warning', alertname: 'X' }, [{ severity: 'warning', alertname: 'X' }, { severity: 'critical', alertname: 'X' }], [SAME_SIDES], false],
    ['a db critical is not muted by another db critical', { team: 'db', severity: 'critical', cluster: 'a' }, [{ team: 'db', severity: 'critical', cluster: 'a', alertname: 'Other' }], [CRITICAL_MUTES_DB], false],
    ['a db critical is muted by a critical outside the target side', { team: 'db', severity: 'critical', cluster: 'a' }, [{ team: 'net', severity: 'critical', cluster: 'a' }], [CRITICAL_MUTES_DB], true],
    // Every candidate source is tried: a two-sided one first does not hide a qualifying one behind it.
    ['a qualifying source behind a two-sided one still mutes', { team: 'db', severity: 'critical', cluster: 'a' }, [{ team: 'db', severity: 'critical', cluster: 'a', alertname: 'Other' }, { team: 'net', severity: 'critical', cluster: 'a' }], [CRITICAL_MUTES_DB], true],
    // One-sided targets are muted by any source, including one that matches the target side too.
    ['a db warning is muted by a db critical', { team: 'db', severity: 'warning', cluster: 'a' }, [{ team: 'db', severity: 'critical', cluster: 'a' }], [CRITICAL_MUTES_DB], true],
    ['any rule may mute', { severity: 'warning', cluster: 'a', team: 'web' }, [{ severity: 'critical', cluster: 'a' }], [CRITICAL_MUTES_DB, CRITICAL_MUTES_WARNING], true],
    ['no rules, no inhibition', { severity: 'warning' }, [{ severity: 'critical' }], [], false],
  ])('%s', (_, target, firing, rules, expected) => {
    expect(isInhibited(target, firing, rules)).toBe(expected);
  });

  it('findInhibitor names the source that mutes', () => {
    const source = { severity: 'critical', cluster: 'a', alertname: 'ClusterDown' };
    expect(findInhibitor({ severity: 'warning', cluster: 'a' }, [{ severity: 'critical', cluster: 'b' }, source], [CRITICAL_MUTES_WARNING])).toBe(source);
    expect(findInhibitor({ severity: 'warning', cluster: 'c' }, [source], [CRITICAL_MUTES_WARNING])).toBeUndefined();
  });
});

describe('InhibitRule schema', () => {
  it('defaults equal to [] and drops repeated names', () => {
    expect(InhibitRule.parse({ source_matchers: ['a="1"'], target_matchers: ['a="2"'] }).equal).toEqual([]);
    expect(InhibitRule.parse({ source_matchers: ['a="1"'], target_matchers: ['a="2"'], equal: ['x', 'x', 'y'] }).equal).toEqual(['x', 'y']);
  });

  it.each<[string, unknown, string, RegExp]>([
    // An empty side matches every alert: a rule muting everything is refused, not obeyed.
    ['no source matchers', { source_matchers: [], target_matchers: ['a="2"'] }, 'source_matchers', /at least one matcher/],
    ['no target matchers', { source_matchers: ['a="1"'], target_matchers: [] }, 'target_matchers', /at least one matcher/],
    ['a bad matcher', { source_matchers: ['a="1'], target_matchers: ['a="2"'] }, 'source_matchers.0', /unterminated quoted value/],
    ['a bad equal label', { source_matchers: ['a="1"'], target_matchers: ['a="2"'], equal: ['ok', 'not ok'] }, 'equal.1', /label name/],
    ["Alertmanager's legacy source_match", { source_match: { a: '1' }, target_matchers: ['a="2"'] }, 'source_matchers', /expected array/],
  ])('refuses %s', (_, input, path, message) => {
    const r = InhibitRule.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path.join('.')).toBe(path);
    expect(r.error!.issues[0]!.message).toMatch(message);
  });
});
