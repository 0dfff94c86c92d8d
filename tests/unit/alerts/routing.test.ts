/**
 * Notification policies (src/alerts/routing.ts): one policy document, and for each alert the routes
 * it resolves to (ids and receivers), what each route inherits, how alerts are grouped and keyed,
 * when a route is muted by time, and what the document schema refuses (with the path it names).
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GROUP_INTERVAL_MS,
  DEFAULT_GROUP_WAIT_MS,
  DEFAULT_REPEAT_INTERVAL_MS,
  groupKey,
  groupLabels,
  isMuted,
  PolicyDocument,
  type ResolvedRoute,
  receiversOf,
  resolveRoutes,
  Route,
  timeIntervalsByName,
} from '../../../src/alerts/routing.ts';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;

/*
 * 0            default, group_by [alertname]
 * 0.0          team="db" -> db, group_wait 10s
 * 0.0.0          severity="critical" -> db-pager, repeat 1h
 * 0.0.1          env="staging", group_by ['...']
 * 0.1          severity="critical" -> pager, continue
 * 0.2          team=~"web|api" -> web, muted at nights
 * 0.2.0          env="prod" (not muted: mute intervals are not inherited)
 * 0.2.1          env="dev", mute_time_intervals []
 * 0.3          team="web" -> shadowed (0.2 takes web first)
 * 0.4          team="cache" -> cache-a, continue
 * 0.5          team="cache" -> cache-b (same matchers as 0.4)
 */
const DOC = PolicyDocument.parse({
  route: {
    receiver: 'default',
    group_by: ['alertname'],
    routes: [
      {
        matchers: ['team="db"'],
        receiver: 'db',
        group_wait: '10s',
        routes: [
          { matchers: ['severity="critical"'], receiver: 'db-pager', repeat_interval: '1h' },
          { matchers: ['env="staging"'], group_by: ['...'] },
        ],
      },
      { matchers: ['severity="critical"'], receiver: 'pager', continue: true },
      {
        matchers: ['team=~"web|api"'],
        receiver: 'web',
        mute_time_intervals: ['nights'],
        routes: [{ matchers: ['env="prod"'] }, { matchers: ['env="dev"'], mute_time_intervals: [] }],
      },
      { matchers: ['team="web"'], receiver: 'shadowed' },
      { matchers: ['team="cache"'], receiver: 'cache-a', continue: true },
      { matchers: ['team="cache"'], receiver: 'cache-b' },
    ],
  },
  time_intervals: [
    { name: 'nights', time_intervals: [{ times: [{ start_time: '00:00', end_time: '06:00' }, { start_time: '22:00', end_time: '24:00' }] }] },
    { name: 'business', time_intervals: [{ weekdays: ['monday:friday'], times: [{ start_time: '09:00', end_time: '17:00' }] }] },
    { name: 'lunch', time_intervals: [{ times: [{ start_time: '12:00', end_time: '13:00' }] }] },
  ],
});

const resolve = (labels: Record<string, string>) => resolveRoutes(DOC.route, labels);
const byId = (id: string, labels: Record<string, string>): ResolvedRoute => {
  const r = resolve(labels).find((x) => x.id === id);
  if (!r) throw new Error(`route ${id} not resolved for ${JSON.stringify(labels)}`);
  return r;
};

describe('resolveRoutes', () => {
  it.each<[string, Record<string, string>, Array<[string, string]>]>([
    ['nothing matches: the root takes it', { alertname: 'X' }, [['0', 'default']]],
    // A route none of whose children match is itself the result.
    ['a route whose children do not match', { team: 'db' }, [['0.0', 'db']]],
    ['the deepest match wins', { team: 'db', severity: 'critical' }, [['0.0.0', 'db-pager']]],
    // 0.0 matched without continue, so 0.1 (severity="critical") is never tried.
    ['a match without continue ends the search on its level', { team: 'db', severity: 'critical', env: 'prod' }, [['0.0.0', 'db-pager']]],
    // 0.1 has continue: 0.2 is tried too, and it ends the search before 0.3.
    ['continue tries later siblings', { team: 'web', severity: 'critical' }, [['0.1', 'pager'], ['0.2', 'web']]],
    ['continue with no later match still returns the match, not the root', { severity: 'critical' }, [['0.1', 'pager']]],
    ['the first matching sibling shadows later ones', { team: 'web' }, [['0.2', 'web']]],
    ['children inherit the receiver', { team: 'api', env: 'prod' }, [['0.2.0', 'web']]],
    ['two routes with the same matchers, the first with continue', { team: 'cache' }, [['0.4', 'cache-a'], ['0.5', 'cache-b']]],
    ['a missing label is "" for child matchers too', { team: 'db', env: '' }, [['0.0', 'db']]],
  ])('%s', (_, labels, expected) => {
    expect(resolve(labels).map((r) => [r.id, r.receiver])).toEqual(expected);
  });

  it.each<[string, string, Record<string, string>, Partial<ResolvedRoute>]>([
    ['the root takes the defaults', '0', {}, { groupBy: ['alertname'], groupWaitMs: DEFAULT_GROUP_WAIT_MS, groupIntervalMs: DEFAULT_GROUP_INTERVAL_MS, repeatIntervalMs: DEFAULT_REPEAT_INTERVAL_MS }],
    // group_by from the root, group_wait from 0.0, repeat_interval its own, group_interval the default.
    ['a grandchild inherits from every ancestor', '0.0.0', { team: 'db', severity: 'critical' }, { receiver: 'db-pager', groupBy: ['alertname'], groupWaitMs: 10 * S, groupIntervalMs: 5 * M, repeatIntervalMs: H }],
    ["'...' groups by every label", '0.0.1', { team: 'db', env: 'staging' }, { receiver: 'db', groupBy: 'all', groupWaitMs: 10 * S }],
    // Alertmanager does not pass a route's mute intervals to its children (dispatch/route.go).
    ['mute intervals are not inherited', '0.2.0', { team: 'web', env: 'prod' }, { muteTimeIntervals: [] }],
    ['[] on a child means none, as absence does', '0.2.1', { team: 'web', env: 'dev' }, { muteTimeIntervals: [] }],
    ['the route key lists the matchers on the path', '0.0.0', { team: 'db', severity: 'critical' }, { key: '{}/{team="db"}/{severity="critical"}' }],
  ])('%s', (_, id, labels, expected) => {
    expect(byId(id, labels)).toMatchObject(expected);
  });

  it('group_by defaults to [] at the root (one group per route)', () => {
    const root = Route.parse({ receiver: 'r' });
    expect(resolveRoutes(root, { a: 'b' })).toEqual([
      { id: '0', key: '{}', receiver: 'r', groupBy: [], groupWaitMs: 30 * S, groupIntervalMs: 5 * M, repeatIntervalMs: 4 * H, muteTimeIntervals: [], activeTimeIntervals: [] },
    ]);
  });
});

describe('groupLabels and groupKey', () => {
  const route = (groupBy: string[] | 'all', id = '0.1', key = '{}/{team="db"}'): ResolvedRoute => ({
    id,
    key,
    receiver: 'r',
    groupBy,
    groupWaitMs: 0,
    groupIntervalMs: 1,
    repeatIntervalMs: 1,
    muteTimeIntervals: [],
    activeTimeIntervals: [],
  });

  it.each<[string, string[] | 'all', Record<string, string>, Record<string, string>]>([
    ['the listed labels', ['alertname', 'cluster'], { alertname: 'X', cluster: 'c', pod: 'p' }, { alertname: 'X', cluster: 'c' }],
    ['present ones only', ['alertname', 'cluster'], { alertname: 'X', pod: 'p' }, { alertname: 'X' }],
    // Prometheus: an empty label is no label.
    ['an empty value counts as absent', ['alertname', 'cluster'], { alertname: 'X', cluster: '' }, { alertname: 'X' }],
    ["'...' takes every label", 'all', { b: '2', a: '1', c: '' }, { a: '1', b: '2' }],
    ['[] takes none', [], { alertname: 'X' }, {}],
  ])('groupLabels: %s', (_, groupBy, labels, expected) => {
    expect(groupLabels(route(groupBy), labels)).toEqual(expected);
  });

  it('the key is readable: route key, route id, sorted group labels', () => {
    expect(groupKey(route(['env', 'alertname']), { env: 'prod', alertname: 'X', pod: 'p' })).toBe('{}/{team="db"}#0.1:{alertname="X", env="prod"}');
  });

  it.each<[string, () => [string, string], boolean]>([
    ['stable whatever the labels\' order', () => [groupKey(route(['a', 'b']), { a: '1', b: '2' }), groupKey(route(['a', 'b']), { b: '2', a: '1' })], true],
    ['labels outside group_by do not split groups', () => [groupKey(route(['a']), { a: '1', x: '1' }), groupKey(route(['a']), { a: '1', x: '2' })], true],
    ['different group values, different groups', () => [groupKey(route(['a']), { a: '1' }), groupKey(route(['a']), { a: '2' })], false],
    // Alertmanager's key would be the same for two routes with the same matchers; the id tells them apart.
    ['routes with the same matchers have distinct keys', () => [groupKey(route(['a'], '0.4', '{}/{team="cache"}'), { a: '1' }), groupKey(route(['a'], '0.5', '{}/{team="cache"}'), { a: '1' })], false],
    // Quoting: a value holding `", b="` cannot pass for two labels.
    ['values cannot forge other labels', () => [groupKey(route(['a', 'b']), { a: 'x", b="y' }), groupKey(route(['a', 'b']), { a: 'x', b: 'y' })], false],
  ])('%s', (_, keys, same) => {
    const [a, b] = keys();
    expect(a === b).toBe(same);
  });

  it('resolved sibling routes with the same matchers group apart', () => {
    const [a, b] = resolve({ team: 'cache', alertname: 'X' });
    expect(groupKey(a!, { team: 'cache', alertname: 'X' })).not.toBe(groupKey(b!, { team: 'cache', alertname: 'X' }));
  });
});

describe('isMuted', () => {
  const intervals = timeIntervalsByName(DOC);
  const route = (mute: string[], active: string[]): ResolvedRoute => ({ ...byId('0', {}), muteTimeIntervals: mute, activeTimeIntervals: active });
  const MONDAY = (hhmm: string) => Date.parse(`2026-03-02T${hhmm}:00Z`);
  const SATURDAY_NOON = Date.parse('2026-03-07T12:00:00Z');

  it.each<[string, string[], string[], number, boolean]>([
    ['inside a mute interval', ['nights'], [], MONDAY('23:00'), true],
    ['outside the mute interval', ['nights'], [], MONDAY('12:00'), false],
    ['inside any of several mute intervals', ['lunch', 'nights'], [], MONDAY('12:30'), true],
    ['outside all active intervals', [], ['business'], SATURDAY_NOON, true],
    ['inside an active interval', [], ['business'], MONDAY('10:00'), false],
    ['inside any of several active intervals', [], ['nights', 'business'], MONDAY('23:00'), false],
    ['active but also muted', ['lunch'], ['business'], MONDAY('12:30'), true],
    ['no intervals: never muted', [], [], MONDAY('23:00'), false],
    // PolicyDocument refuses unknown names; if one slips through, a page beats silence.
    ['an unknown mute interval does not mute', ['gone'], [], MONDAY('23:00'), false],
    ['an unknown active interval does not mute', [], ['gone'], SATURDAY_NOON, false],
  ])('%s', (_, mute, active, now, expected) => {
    expect(isMuted(route(mute, active), intervals, now)).toBe(expected);
  });

  it("a child is not muted by its parent's interval (Alertmanager's semantics)", () => {
    expect(isMuted(byId('0.2', { team: 'web', env: 'staging' }), intervals, MONDAY('23:00'))).toBe(true);
    expect(isMuted(byId('0.2.0', { team: 'web', env: 'prod' }), intervals, MONDAY('23:00'))).toBe(false);
    expect(isMuted(byId('0.2.1', { team: 'web', env: 'dev' }), intervals, MONDAY('23:00'))).toBe(false);
  });
});

describe('PolicyDocument', () => {
  it('lists every receiver the tree names', () => {
    expect([...receiversOf(DOC)].sort()).toEqual(['cache-a', 'cache-b', 'db', 'db-pager', 'default', 'pager', 'shadowed', 'web']);
  });

  const chain = (depth: number) => {
    const root: Record<string, unknown> = { receiver: 'r' };
    let node = root;
    for (let i = 1; i < depth; i++) {
      const child = { matchers: [`l${i}="x"`] };
      node.routes = [child];
      node = child;
    }
    return root;
  };
  const wide = (routes: number) => ({ receiver: 'r', routes: Array.from({ length: routes - 1 }, () => ({ matchers: ['a="b"'] })) });

  it.each<[string, unknown]>([
    ['10 levels deep', chain(10)],
    ['200 routes', wide(200)],
  ])('accepts a tree of %s', (_, route) => {
    expect(PolicyDocument.safeParse({ route }).success).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a root without receiver', { route: { routes: [{ receiver: 'x' }] } }, 'route.receiver', /root route needs a receiver/],
    ['a root with matchers', { route: { receiver: 'r', matchers: ['a="b"'] } }, 'route.matchers', /no matchers/],
    ['a muted root', { route: { receiver: 'r', mute_time_intervals: ['n'] }, time_intervals: [{ name: 'n', time_intervals: [] }] }, 'route.mute_time_intervals', /root route cannot be muted/],
    [
      'an undefined interval, named where it is used',
      { route: { receiver: 'r', routes: [{ routes: [{}, { active_time_intervals: ['business'] }] }] } },
      'route.routes.0.routes.1.active_time_intervals.0',
      /no time interval named 'business'/,
    ],
    ["'...' with other labels", { route: { receiver: 'r', routes: [{ group_by: ['...', 'a'] }] } }, 'route.routes.0.group_by', /must be the only entry/],
    ['a label listed twice', { route: { receiver: 'r', group_by: ['a', 'a'] } }, 'route.group_by.1', /listed twice/],
    ['a group_by that is not a label name', { route: { receiver: 'r', group_by: ['a-b'] } }, 'route.group_by.0', /not a label name/],
    // Alertmanager refuses zero intervals: a group would notify in a loop.
    ['a zero group_interval', { route: { receiver: 'r', group_interval: '0s' } }, 'route.group_interval', /at least 1ms/],
    ['a zero repeat_interval', { route: { receiver: 'r', routes: [{ repeat_interval: '0' }] } }, 'route.routes.0.repeat_interval', /at least 1ms/],
    ['a bad duration', { route: { receiver: 'r', group_wait: '30 s' } }, 'route.group_wait', /spaces are not allowed/],
    ['a bad matcher, with its column', { route: { receiver: 'r', routes: [{ matchers: ['team="db'] }] } }, 'route.routes.0.matchers.0', /unterminated quoted value for 'team' at column 6/],
    ['11 levels', { route: chain(11) }, `route${'.routes.0'.repeat(10)}`, /at most 10 levels/],
    ['201 routes', { route: wide(201) }, 'route', /at most 200 routes/],
    ['a misspelt field', { route: { receiver: 'r', group_wiat: '1m' } }, 'route', /Unrecognized key: "group_wiat"/],
    ['101 inhibit rules', { route: { receiver: 'r' }, inhibit_rules: Array.from({ length: 101 }, () => ({ source_matchers: ['a="1"'], target_matchers: ['a="2"'] })) }, 'inhibit_rules', /expected array to have <=100 items/],
    ['an inhibit rule without targets', { route: { receiver: 'r' }, inhibit_rules: [{ source_matchers: ['a="1"'], target_matchers: [] }] }, 'inhibit_rules.0.target_matchers', /at least one matcher/],
    ['two intervals with one name', { route: { receiver: 'r' }, time_intervals: [{ name: 'n', time_intervals: [] }, { name: 'n', time_intervals: [] }] }, 'time_intervals.1.name', /defined twice/],
  ])('refuses %s', (_, doc, path, message) => {
    const r = PolicyDocument.safeParse(doc);
    expect(r.success).toBe(false);
    const issue = r.error!.issues[0]!;
    expect(issue.path.join('.')).toBe(path);
    expect(issue.message).toMatch(message);
  });

  it('parses a deeply nested hostile document without recursing into it', () => {
    let route: Record<string, unknown> = { receiver: 'r' };
    for (let i = 0; i < 50_000; i++) route = { routes: [route] };
    const r = PolicyDocument.safeParse({ route: { receiver: 'r', routes: [route] } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toMatch(/at most 10 levels/);
  });
});
