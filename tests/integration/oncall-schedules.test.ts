/**
 * On-call schedules through the oncall function (/functions/v1/oncall), as their users drive them:
 * schedules validated by the schedule core (400s naming the field, nothing saved), who is on call now
 * and at T (across the Europe/London spring-forward), shifts, overrides and swaps (members for
 * themselves, owners and admins for anyone; concurrent edits all land), and the iCal feeds (a token
 * shown once, only its sha256 stored, revoked -> 404). The clock is fixed at Monday 2027-03-22 12:00 UTC.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asServiceRole } from '../../src/db/scoped.ts';
import { onCallUsers } from '../../src/oncall/schedule-store.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Person, type Tenant } from '../helpers/tenant.ts';

const BASE = '/functions/v1/oncall';
type Json = Record<string, any>;

let env: TestEnv;
let t: Tenant;
const bodies: string[] = [];

async function call(method: string, path: string, o: { as?: Person; body?: unknown } = {}): Promise<{ status: number; body: Json }> {
  const res = await env.request(method, `${BASE}${path}`, { token: o.as?.jwt, body: o.body });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}
const fieldOf = (r: { body: Json }) => r.body.error?.details?.[0]?.field;

/**
 * A daily 09:00 Europe/London rotation from Monday 1 March 2027 (GMT, so 09:00 UTC): the member on
 * even days since then, the unassigned member on odd ones. Clocks go forward on Sunday 28 March.
 */
const doc = (extra: Json = {}) => ({
  zone: 'Europe/London',
  layers: [
    {
      id: 'daily',
      name: 'Daily',
      versions: [{ effectiveFrom: '2027-03-01T09:00:00Z', rotation: { type: 'daily' }, handoff: '09:00', members: [t.people.member.id, t.people.unassigned.id] }],
    },
  ],
  ...extra,
});

let scheduleId: string;

beforeAll(async () => {
  env = await createTestEnv({ fakeTime: '2027-03-22T12:00:00Z' });
  t = await createTenant(env);
}, 60_000);
afterAll(async () => {
  await env?.close();
});

describe('schedules', () => {
  it('refuses what the core refuses, naming the field, and saves nothing', async () => {
    const layer = (v: Json, l: Json = {}) => ({ zone: 'Europe/London', layers: [{ id: 'l', versions: [{ effectiveFrom: '2027-03-01T09:00:00Z', rotation: { type: 'daily' }, handoff: '09:00', members: [t.people.member.id], ...v }], ...l }] });
    const cases: Array<[Json, string]> = [
      [{ ...doc(), zone: 'Europe/Londres' }, 'body.schedule.zone'],
      [layer({ restrictions: [{ start: '09:00', end: '12:00' }, { day: 'monday', start: '11:00', end: '13:00' }] }), 'body.schedule.layers.0.versions.0.restrictions.1'],
      [layer({}, { end: '2027-03-01T09:00:00Z' }), 'body.schedule.layers.0.end'],
      [doc({ overrides: [{ user: t.people.member.id, start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' }] }), 'body.schedule.overrides.0'],
      [layer({ members: [t.people.member.id, t.people.outsider.id] }), 'body.schedule.layers.0.versions.0.members.1'],
      [layer({ members: ['ann'] }), 'body.schedule.layers.0.versions.0.members.0'],
      [{ ...doc(), name: 'inside' }, 'body.schedule.name'],
    ];
    for (const [schedule, field] of cases) {
      const res = await call('POST', '/schedules', { as: t.people.owner, body: { organizationId: t.orgId, name: 'Bad', schedule } });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(fieldOf(res)).toBe(field);
    }
    expect(await env.db.query('select 1 from public.oncall_schedules where organization_id = $1', [t.orgId])).toEqual([]);
  });

  it('owners and admins create, rename and replace; members read; others get 403 or 404', async () => {
    const body = { organizationId: t.orgId, name: 'Primary', schedule: doc() };
    expect((await call('POST', '/schedules', { as: t.people.member, body })).status).toBe(403);
    expect((await call('POST', '/schedules', { as: t.people.outsider, body })).status).toBe(404);
    const created = await call('POST', '/schedules', { as: t.people.owner, body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    scheduleId = created.body.schedule.id;
    expect(created.body.schedule).toMatchObject({ name: 'Primary', timeZone: 'Europe/London', version: 1, schedule: doc(), overrides: [] });
    expect((await call('POST', '/schedules', { as: t.people.admin, body })).status).toBe(409);

    expect((await call('GET', `/schedules?organizationId=${t.orgId}`, { as: t.people.viewer })).body.schedules.map((s: Json) => s.id)).toEqual([scheduleId]);
    expect((await call('GET', `/schedules/${scheduleId}`, { as: t.people.outsider })).status).toBe(404);
    expect((await call('PUT', `/schedules/${scheduleId}`, { as: t.people.viewer, body: { name: 'Mine' } })).status).toBe(403);
    expect((await call('PUT', `/schedules/${scheduleId}`, { as: t.people.outsider, body: { name: 'Mine' } })).status).toBe(404);
    const renamed = await call('PUT', `/schedules/${scheduleId}`, { as: t.people.admin, body: { name: 'Payments primary' } });
    expect(renamed.body.schedule).toMatchObject({ name: 'Payments primary', version: 1 });
    // A replacement validated like a creation; a stale version is a 409.
    const bad = await call('PUT', `/schedules/${scheduleId}`, { as: t.people.admin, body: { schedule: { ...doc(), zone: '+01:00' } } });
    expect([bad.status, fieldOf(bad)]).toEqual([400, 'body.schedule.zone']);
    const replaced = await call('PUT', `/schedules/${scheduleId}`, { as: t.people.admin, body: { schedule: doc(), version: 1 } });
    expect(replaced.body.schedule.version).toBe(2);
    expect((await call('PUT', `/schedules/${scheduleId}`, { as: t.people.admin, body: { schedule: doc(), version: 1 } })).status).toBe(409);
    const [row] = await env.db.query<{ time_zone: string; version: number }>('select time_zone, version from public.oncall_schedules where id = $1', [scheduleId]);
    expect(row).toEqual({ time_zone: 'Europe/London', version: 2 });
  });
});

describe('who is on call, and shifts', () => {
  it('answers now and at T, with the layer and the next handoff, across the London spring-forward', async () => {
    const now = await call('GET', `/schedules/${scheduleId}/on-call`, { as: t.people.viewer });
    expect(now.body).toEqual({
      scheduleId,
      at: '2027-03-22T12:00:00.000Z',
      onCall: { userId: t.people.unassigned.id, source: { kind: 'layer', layerId: 'daily', layerName: 'Daily' }, until: '2027-03-23T09:00:00.000Z' },
      nextHandoff: { at: '2027-03-23T09:00:00.000Z', from: t.people.unassigned.id, to: t.people.member.id },
    });
    // Sunday 28 March: 09:00 BST is 08:00 UTC; the Saturday turn lasted 23 hours.
    const before = await call('GET', `/schedules/${scheduleId}/on-call?at=2027-03-28T07:30:00Z`, { as: t.people.member });
    expect(before.body.onCall).toMatchObject({ userId: t.people.member.id, until: '2027-03-28T08:00:00.000Z' });
    const after = await call('GET', `/schedules/${scheduleId}/on-call?at=2027-03-28T08:30:00%2B00:00`, { as: t.people.member });
    expect(after.body.onCall.userId).toBe(t.people.unassigned.id);
    const local = await call('GET', `/schedules/${scheduleId}/on-call?at=2027-03-28T08:30:00`, { as: t.people.member });
    expect([local.status, fieldOf(local)]).toEqual([400, 'query.at']);
  });

  it('onCallUsers (the escalation job\'s question): unknown ids absent, nobody on call []', async () => {
    const ask = (at: string) => asServiceRole(env.db, (tx) => onCallUsers(tx, [scheduleId, '00000000-0000-4000-8000-000000000000', 'not-a-uuid'], Date.parse(at)));
    expect(await ask('2027-03-28T08:30:00Z')).toEqual({ [scheduleId]: [t.people.unassigned.id] });
    expect(await ask('2027-02-01T00:00:00Z')).toEqual({ [scheduleId]: [] });
  });

  it('renders layers and the final schedule in a bounded range', async () => {
    const res = await call('GET', `/schedules/${scheduleId}/shifts?from=2027-03-27T00:00:00Z&to=2027-03-29T12:00:00Z`, { as: t.people.viewer });
    expect(res.status).toBe(200);
    const m = t.people.member.id;
    const u = t.people.unassigned.id;
    const expected = [
      { start: '2027-03-27T00:00:00.000Z', end: '2027-03-27T09:00:00.000Z', userId: u },
      { start: '2027-03-27T09:00:00.000Z', end: '2027-03-28T08:00:00.000Z', userId: m },
      { start: '2027-03-28T08:00:00.000Z', end: '2027-03-29T08:00:00.000Z', userId: u },
      { start: '2027-03-29T08:00:00.000Z', end: '2027-03-29T12:00:00.000Z', userId: m },
    ];
    expect(res.body).toEqual({ scheduleId, from: '2027-03-27T00:00:00.000Z', to: '2027-03-29T12:00:00.000Z', layers: [{ layerId: 'daily', name: 'Daily', shifts: expected }], final: expected });
    const long = await call('GET', `/schedules/${scheduleId}/shifts?from=2027-01-01T00:00:00Z&to=2028-01-03T00:00:00Z`, { as: t.people.viewer });
    expect([long.status, fieldOf(long)]).toEqual([400, 'query.to']);
    expect(long.body.error.message).toContain('366 days');
    const reversed = await call('GET', `/schedules/${scheduleId}/shifts?from=2027-03-02T00:00:00Z&to=2027-03-01T00:00:00Z`, { as: t.people.viewer });
    expect([reversed.status, fieldOf(reversed)]).toEqual([400, 'query.to']);
  });
});

describe('overrides and swaps', () => {
  const onCallAt = async (at: string) => (await call('GET', `/schedules/${scheduleId}/on-call?at=${at}`, { as: t.people.owner })).body.onCall;

  it('members override for themselves, owners for anyone; viewers and others are refused; removal by id', async () => {
    const mine = { userId: t.people.member.id, start: '2027-03-22T13:00:00Z', end: '2027-03-22T15:00:00Z' };
    expect((await call('POST', `/schedules/${scheduleId}/overrides`, { as: t.people.viewer, body: { ...mine, userId: t.people.viewer.id } })).status).toBe(403);
    expect((await call('POST', `/schedules/${scheduleId}/overrides`, { as: t.people.unassigned, body: mine })).status).toBe(403);
    expect((await call('POST', `/schedules/${scheduleId}/overrides`, { as: t.people.outsider, body: mine })).status).toBe(404);
    const stranger = await call('POST', `/schedules/${scheduleId}/overrides`, { as: t.people.owner, body: { ...mine, userId: t.people.outsider.id } });
    expect([stranger.status, fieldOf(stranger)]).toEqual([400, 'body.userId']);
    const outside = await call('POST', `/schedules/${scheduleId}/overrides`, { as: t.people.owner, body: { ...mine, start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } });
    expect([outside.status, outside.body.error?.message]).toEqual([400, 'body: is outside every layer of the schedule']);

    const added = await call('POST', `/schedules/${scheduleId}/overrides`, { as: t.people.member, body: mine });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const id = added.body.override.id;
    expect(added.body.schedule.overrides).toEqual([{ id, userId: mine.userId, start: '2027-03-22T13:00:00.000Z', end: '2027-03-22T15:00:00.000Z' }]);
    expect(await onCallAt('2027-03-22T14:00:00Z')).toEqual({ userId: mine.userId, source: { kind: 'override', overrideId: id, index: 0 }, until: '2027-03-22T15:00:00.000Z' });

    expect((await call('DELETE', `/schedules/${scheduleId}/overrides/${id}`, { as: t.people.unassigned })).status).toBe(403);
    expect((await call('DELETE', `/schedules/${scheduleId}/overrides/${id}`, { as: t.people.member })).status).toBe(204);
    expect((await call('DELETE', `/schedules/${scheduleId}/overrides/${id}`, { as: t.people.member })).status).toBe(404);
    expect((await onCallAt('2027-03-22T14:00:00Z')).userId).toBe(t.people.unassigned.id);
  });

  it('swaps two shifts: each takes the other\'s; only shifts as scheduled, only by someone in the swap', async () => {
    const theirs = { userId: t.people.unassigned.id, start: '2027-03-24T09:00:00Z', end: '2027-03-25T09:00:00Z' };
    const mine = { userId: t.people.member.id, start: '2027-03-25T09:00:00Z', end: '2027-03-26T09:00:00Z' };
    expect((await call('POST', `/schedules/${scheduleId}/swaps`, { as: t.people.viewer, body: { shifts: [mine, theirs] } })).status).toBe(403);
    const wrong = await call('POST', `/schedules/${scheduleId}/swaps`, { as: t.people.member, body: { shifts: [{ ...mine, start: '2027-03-26T09:00:00Z', end: '2027-03-27T09:00:00Z' }, theirs] } });
    expect([wrong.status, fieldOf(wrong)]).toEqual([400, 'body.shifts.0']);
    const swapped = await call('POST', `/schedules/${scheduleId}/swaps`, { as: t.people.member, body: { shifts: [mine, theirs] } });
    expect(swapped.status, JSON.stringify(swapped.body)).toBe(201);
    expect(swapped.body.overrides.map((o: Json) => [o.userId, o.start])).toEqual([
      [t.people.unassigned.id, '2027-03-25T09:00:00.000Z'],
      [t.people.member.id, '2027-03-24T09:00:00.000Z'],
    ]);
    expect((await onCallAt('2027-03-24T12:00:00Z')).userId).toBe(t.people.member.id);
    expect((await onCallAt('2027-03-25T12:00:00Z')).userId).toBe(t.people.unassigned.id);
  });

  it('concurrent override edits all land (compare-and-set), and a replacement without overrides keeps them', async () => {
    const before = (await call('GET', `/schedules/${scheduleId}`, { as: t.people.owner })).body.schedule;
    const adds = await Promise.all(
      [1, 2, 3, 4, 5].map((d) =>
        call('POST', `/schedules/${scheduleId}/overrides`, { as: d % 2 ? t.people.owner : t.people.admin, body: { userId: t.people.viewer.id, start: `2027-04-0${d}T00:00:00Z`, end: `2027-04-0${d}T06:00:00Z` } }),
      ),
    );
    expect(adds.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    const replaced = await call('PUT', `/schedules/${scheduleId}`, { as: t.people.owner, body: { schedule: doc() } });
    expect(replaced.body.schedule.version).toBe(before.version + 6);
    const ids = replaced.body.schedule.overrides.map((o: Json) => o.id);
    expect(ids).toHaveLength(before.overrides.length + 5);
    for (const a of adds) expect(ids).toContain(a.body.override.id);
  });
});

describe('iCal feeds', () => {
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
  const fetchFeed = (token: string) => env.request('GET', `${BASE}/feeds/${token}/calendar.ics`);
  /** VEVENTs of a calendar, lines unfolded: {DTSTART, DTEND, DESCRIPTION, ...}. */
  const events = (ics: string) =>
    ics
      .replace(/\r\n /g, '')
      .split('BEGIN:VEVENT\r\n')
      .slice(1)
      .map((block) => Object.fromEntries(block.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)])));

  it('a schedule feed: token shown once, stored as sha256, served as text/calendar without credentials', async () => {
    const created = await call('POST', `/schedules/${scheduleId}/feeds`, { as: t.people.viewer });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { token, url, feed } = created.body;
    expect(token).toMatch(/^oai_cal_[A-Za-z0-9_-]{43}$/);
    expect(url).toBe(`http://localhost${BASE}/feeds/${token}/calendar.ics`);
    expect(feed).toMatchObject({ kind: 'schedule', scheduleId, userId: null, createdBy: t.people.viewer.id, revokedAt: null });
    const [row] = await env.db.query<{ token_hash: string }>('select token_hash from public.oncall_feed_tokens where id = $1', [feed.id]);
    expect(row!.token_hash).toBe(sha256(token));

    const res = await fetchFeed(token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    const ics = await res.text();
    expect(ics.startsWith('BEGIN:VCALENDAR\r\n')).toBe(true);
    // The 23-hour Saturday turn before the spring-forward, as a calendar shows it.
    expect(events(ics)).toContainEqual(expect.objectContaining({ DTSTART: '20270327T090000Z', DTEND: '20270328T080000Z', SUMMARY: 'On call: Payments primary' }));
    const [used] = await env.db.query<{ last_used_at: Date | null }>('select last_used_at from public.oncall_feed_tokens where id = $1', [feed.id]);
    expect(used!.last_used_at).not.toBeNull();
  });

  it('a personal feed holds only that person\'s shifts; listing shows no token; revoked or unknown is 404', async () => {
    const created = await call('POST', '/me/feeds', { as: t.people.member, body: { organizationId: t.orgId } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.feed).toMatchObject({ kind: 'user', userId: t.people.member.id, scheduleId: null });
    expect((await call('POST', '/me/feeds', { as: t.people.outsider, body: { organizationId: t.orgId } })).status).toBe(404);
    const ics = await (await fetchFeed(created.body.token)).text();
    const evs = events(ics);
    expect(evs.length).toBeGreaterThan(10);
    for (const e of evs) expect(e.DESCRIPTION).toBe(`${t.people.member.id} is on call for Payments primary`);
    expect(evs).toContainEqual(expect.objectContaining({ DTSTART: '20270327T090000Z', DTEND: '20270328T080000Z' }));

    const listed = await call('GET', '/feeds', { as: t.people.member });
    expect(listed.body.feeds.map((f: Json) => f.id)).toEqual([created.body.feed.id]);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    expect(JSON.stringify(listed.body)).not.toContain(sha256(created.body.token));
    // Owners and admins see every feed of the organization (to revoke them).
    expect((await call('GET', `/feeds?organizationId=${t.orgId}`, { as: t.people.admin })).body.feeds).toHaveLength(2);

    expect((await call('DELETE', `/feeds/${created.body.feed.id}`, { as: t.people.viewer })).status).toBe(404);
    expect((await call('DELETE', `/feeds/${created.body.feed.id}`, { as: t.people.member })).status).toBe(204);
    // Revoked, unknown and malformed tokens get the same answer.
    const answer = async (token: string) => {
      const res = await fetchFeed(token);
      const { code, message } = ((await res.json()) as Json).error;
      return [res.status, code, message];
    };
    const revoked = await answer(created.body.token);
    expect(revoked).toEqual([404, 'NOT_FOUND', 'Feed not found']);
    expect(await answer(`oai_cal_${'A'.repeat(43)}`)).toEqual(revoked);
    expect(await answer('nonsense')).toEqual(revoked);
  });
});

describe('removal', () => {
  it('is refused while an escalation policy targets the schedule; then removes it with its feeds', async () => {
    const policy = await call('POST', '/escalation-policies', {
      as: t.people.owner,
      body: { organizationId: t.orgId, name: 'Pages', policy: { levels: [{ delayMinutes: 0, targets: [{ type: 'schedule', id: scheduleId }] }], repeat: 0, ackTimeoutMinutes: null } },
    });
    expect(policy.status).toBe(201);
    expect((await call('DELETE', `/schedules/${scheduleId}`, { as: t.people.viewer })).status).toBe(403);
    const refused = await call('DELETE', `/schedules/${scheduleId}`, { as: t.people.owner });
    expect([refused.status, refused.body.error.message]).toEqual([409, expect.stringContaining('Pages')]);
    expect((await call('DELETE', `/escalation-policies/${policy.body.escalationPolicy.id}`, { as: t.people.owner })).status).toBe(204);
    expect((await call('DELETE', `/schedules/${scheduleId}`, { as: t.people.owner })).status).toBe(204);
    // The schedule's feed went with it; the member's personal feed is the organization's, and stays.
    expect(await env.db.query('select kind from (select case when schedule_id is null then \'user\' else \'schedule\' end as kind from public.oncall_feed_tokens where organization_id = $1) k', [t.orgId])).toEqual([{ kind: 'user' }]);
    const audit = await env.db.query<{ action: string }>(`select action from public.audit_log where organization_id = $1 and action like 'oncall_%' order by id`, [t.orgId]);
    expect(new Set(audit.map((a) => a.action))).toEqual(new Set(['oncall_schedule.created', 'oncall_schedule.changed', 'oncall_schedule.deleted', 'oncall_feed.created', 'oncall_feed.revoked']));
    expect(bodies.join('\n')).not.toMatch(/token_hash|[0-9a-f]{64}/);
  });
});
