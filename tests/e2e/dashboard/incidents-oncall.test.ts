/**
 * The Incidents and On-call pages in Chromium against a live gateway. Everything is set up through
 * the API as the demo owner: a schedule with the owner in a daily rotation, an escalation policy
 * paging that schedule, a service on it, and incidents opened through the Events v2 inbound endpoint.
 * Then, in the pages: the incident listed, a new one arriving live (the incidents stream), acknowledged
 * and resolved with the server agreeing, its timeline as the API records it; who is on call now, the
 * calendar's bars equal to the API's final shifts, an override made and removed in the page and seen
 * through the API, a calendar feed that serves the schedule.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentLink } from '../../../src/core/dashboard-links.ts';
import { expectAccessible, screenshot, startDashboard, type DashboardEnv } from './browser.ts';

type Json = Record<string, any>; // API answers, checked field by field

const SLOW = { timeout: 20_000, interval: 100 };

describe('dashboard: incidents and on-call', () => {
  let env: DashboardEnv;
  let ownerId: string;
  let ownerName: string;
  let scheduleId: string;
  let routingKey: string;
  /** A second member of the organization, in the rotation after the owner. */
  const ana = { email: 'ana@example.com', password: 'correct-horse-battery-9', id: '' };
  /** A viewer: reads incidents and schedules, may change nothing. */
  const vic = { email: 'vic@example.com', password: 'correct-horse-battery-8', id: '' };

  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${env.gateway.url}/functions/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${env.gateway.demo.ownerJwt}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
  };
  const trigger = async (dedupKey: string, summary: string, severity = 'critical'): Promise<string> => {
    const res = await fetch(`${env.gateway.url}/functions/v1/oncall/v2/enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ routing_key: routingKey, event_action: 'trigger', dedup_key: dedupKey, payload: { summary, source: 'db-1', severity } }),
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const list = await call('GET', `/oncall/incidents?projectId=${env.gateway.demo.projectId}&state=open`);
    const found = (list.body.incidents as Json[]).find((i) => i.dedupKey === dedupKey);
    expect(found, `incident for ${dedupKey}`).toBeDefined();
    return found!.id as string;
  };

  beforeAll(async () => {
    env = await startDashboard();
    const { demo } = env.gateway;
    const members = await call('GET', `/orgs/${demo.organizationId}/members`);
    const owner = (members.body.members as Json[]).find((m) => m.email === demo.ownerEmail)!;
    ownerId = owner.userId;
    ownerName = owner.displayName || owner.email;
    // Ana (a member) and Vic (a viewer): accounts made with the Auth stand-in's admin API (as
    // supabase.auth.admin.createUser), invited to the organization and the project, invitations accepted.
    const auth = (path: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${env.gateway.url}/auth/v1${path}`, { method: 'POST', headers: { apikey: demo.anonKey, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    for (const [person, role] of [[ana, 'member'], [vic, 'viewer']] as const) {
      const made = await auth('/admin/users', { authorization: `Bearer ${demo.serviceToken}` }, { email: person.email, password: person.password, email_confirm: true });
      expect(made.status, await made.clone().text()).toBe(200);
      person.id = ((await made.json()) as Json).id;
      const invited = await call('POST', `/orgs/${demo.organizationId}/invitations`, { email: person.email, role, projectIds: [demo.projectId] });
      expect(invited.status, JSON.stringify(invited.body)).toBe(201);
      const session = (await (await auth('/token?grant_type=password', {}, { email: person.email, password: person.password })).json()) as Json;
      const accepted = await fetch(`${env.gateway.url}/functions/v1/orgs/invitations/accept`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ token: invited.body.token }),
      });
      expect(accepted.status, await accepted.clone().text()).toBe(200);
    }
    // A daily rotation (09:00 London) that starts a minute ago: the owner's partial turn now, then Ana, then the owner...
    const schedule = await call('POST', '/oncall/schedules', {
      organizationId: demo.organizationId,
      name: 'Payments primary',
      schedule: { zone: 'Europe/London', layers: [{ id: 'daily', name: 'Everyone, daily', versions: [{ effectiveFrom: new Date(Date.now() - 60_000).toISOString(), rotation: { type: 'daily' }, handoff: '09:00', members: [ownerId, ana.id] }] }] },
    });
    expect(schedule.status, JSON.stringify(schedule.body)).toBe(201);
    scheduleId = schedule.body.schedule.id;
    const policy = await call('POST', '/oncall/escalation-policies', {
      organizationId: demo.organizationId,
      name: 'Payments escalation',
      policy: { levels: [{ delayMinutes: 0, targets: [{ type: 'schedule', id: scheduleId }] }, { delayMinutes: 15, targets: [{ type: 'user', id: ownerId }] }], repeat: 1, ackTimeoutMinutes: 30 },
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(201);
    const service = await call('POST', '/oncall/services', { projectId: demo.projectId, name: 'payments-api', escalationPolicyId: policy.body.escalationPolicy.id, urgency: 'severity' });
    expect(service.status, JSON.stringify(service.body)).toBe(201);
    routingKey = service.body.integrationKey;
  }, 240_000);
  afterAll(async () => env?.stop());

  const rowOf = (page: Page, id: string) => page.locator(`[data-testid=incidents] tr[data-id="${id}"]`);

  it('lists incidents open first, adds new ones live, and acknowledges and resolves one with the server agreeing', async () => {
    const first = await trigger('disk-full-db-1', 'Disk full on db-1');
    const page = await env.signedIn('/incidents/');
    await expect.poll(() => rowOf(page, first).getAttribute('data-state'), SLOW).toBe('triggered');
    await expect.poll(() => rowOf(page, first).textContent()).toContain('payments-api');
    expect(await rowOf(page, first).textContent()).toContain('Disk full on db-1');
    await expect.poll(() => page.getByTestId('stream-status').textContent(), SLOW).toBe('Live');

    // Opened while the page is open: it arrives through the stream, no reload.
    const second = await trigger('latency-api', 'p99 latency over 2 s', 'warning');
    await expect.poll(() => rowOf(page, second).getAttribute('data-state'), SLOW).toBe('triggered');
    expect(await rowOf(page, second).locator('.oc-urgency').textContent()).toBe('low');
    // The urgency filter leaves the high-urgency one.
    await page.getByLabel('Urgency').selectOption('high');
    await expect.poll(() => rowOf(page, second).count()).toBe(0);
    expect(await rowOf(page, first).count()).toBe(1);
    await page.getByLabel('Urgency').selectOption('');
    // Acknowledged elsewhere (the API): the row changes live.
    expect((await call('POST', `/oncall/incidents/${second}/acknowledge`)).status).toBe(200);
    await expect.poll(() => rowOf(page, second).getAttribute('data-state'), SLOW).toBe('acknowledged');
    await expect.poll(() => rowOf(page, second).textContent()).toContain(ownerName);
    // Open first: the triggered incident is above the acknowledged one.
    const order = await page.locator('[data-testid=incidents] tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
    expect(order.indexOf(first)).toBeLessThan(order.indexOf(second));
    // MTTA/MTTR: the table's counts are the API's, and follow the stream (the acknowledgement above).
    const stats = await call('GET', `/oncall/incidents/stats?projectId=${env.gateway.demo.projectId}`);
    expect(stats.body.total).toMatchObject({ opened: 2, acknowledged: 1 });
    const totalRow = page.getByTestId('stats').locator('tbody tr').first();
    await expect.poll(async () => (await totalRow.locator('td').allTextContents()).slice(0, 3).map(Number), SLOW).toEqual([stats.body.total.opened, stats.body.total.acknowledged, stats.body.total.resolved]);
    expect(await totalRow.textContent()).toContain('All services');
    await expectAccessible(page, 'incidents');
    await screenshot(page, 'incidents');

    // The incident view: acknowledge in the page, see it change, and the server agrees.
    await rowOf(page, first).getByRole('link').click();
    await page.waitForURL((u) => u.searchParams.get('id') === first);
    await expect.poll(() => page.getByTestId('incident-state').textContent(), SLOW).toBe('triggered');
    await page.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await expect.poll(() => page.getByTestId('incident-state').textContent(), SLOW).toBe('acknowledged');
    let api = await call('GET', `/oncall/incidents/${first}`);
    expect(api.body.incident).toMatchObject({ state: 'acknowledged', acknowledgedBy: ownerId });
    await page.getByRole('button', { name: 'Unacknowledge' }).click();
    await expect.poll(() => page.getByTestId('incident-state').textContent(), SLOW).toBe('triggered');
    expect((await call('GET', `/oncall/incidents/${first}`)).body.incident.state).toBe('triggered');
    await page.getByLabel('Snooze for').selectOption('30');
    await page.getByRole('button', { name: 'Snooze', exact: true }).click();
    await expect.poll(() => page.getByTestId('incident-state').textContent(), SLOW).toBe('acknowledged');
    api = await call('GET', `/oncall/incidents/${first}`);
    expect(api.body.incident.snoozedUntil).not.toBeNull();
    await page.getByLabel('Add a note').fill('Cleared /var/log on db-1');
    await page.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => page.getByTestId('timeline').locator('tr[data-kind=note]').textContent(), SLOW).toContain('Cleared /var/log on db-1');
    // Reassigned to Ana: she takes level 1's place, and the incident is triggered again for her.
    await page.getByLabel('Reassign to').selectOption(`user:${ana.id}`);
    await page.getByRole('button', { name: 'Reassign', exact: true }).click();
    await expect.poll(() => page.getByTestId('timeline').locator('tr[data-kind=reassigned]').textContent(), SLOW).toContain(`to ${ana.email}`);
    await expect.poll(() => page.getByTestId('incident-state').textContent(), SLOW).toBe('triggered');
    const reassigned = (await call('GET', `/oncall/incidents/${first}`)).body.timeline.find((e: Json) => e.kind === 'reassigned');
    expect(reassigned.details.targets).toEqual([{ type: 'user', id: ana.id }]);
    await expectAccessible(page, 'incident');
    await screenshot(page, 'incident');
    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    await expect.poll(() => page.getByTestId('incident-state').textContent(), SLOW).toBe('resolved');
    api = await call('GET', `/oncall/incidents/${first}`);
    expect(api.body.incident).toMatchObject({ state: 'resolved', resolvedBy: ownerId });
    await expect.poll(() => page.getByRole('button', { name: 'Acknowledge', exact: true }).count()).toBe(0);

    // The timeline: every entry the API records, newest first by default, then oldest first.
    const timeline = api.body.timeline as Json[];
    const kinds = timeline.map((e) => e.kind as string);
    expect(kinds).toEqual(expect.arrayContaining(['opened', 'alert_added', 'acknowledged', 'unacknowledged', 'snoozed', 'note', 'reassigned', 'resolved']));
    await expect.poll(() => page.getByTestId('timeline').locator('tbody tr').count(), SLOW).toBe(timeline.length);
    const drawn = () => page.getByTestId('timeline').locator('tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.kind));
    const oldestFirst = [...timeline].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id).map((e) => e.kind);
    expect(await drawn()).toEqual([...oldestFirst].reverse());
    const resolvedRow = page.getByTestId('timeline').locator('tr[data-kind=resolved]');
    expect(await resolvedRow.textContent()).toContain(ownerName);
    await page.getByLabel('Order').selectOption('oldest');
    expect(await drawn()).toEqual(oldestFirst);
    await expectAccessible(page, 'incident-resolved');
    await screenshot(page, 'incident-resolved');
    await page.close();

    // Vic, a viewer, reads the open incident but every action is disabled (the API would answer 403).
    const asVic = await env.signedIn(`/incidents/?id=${second}`, vic);
    await expect.poll(() => asVic.getByTestId('incident-state').textContent(), SLOW).toBe('acknowledged');
    expect(await asVic.getByRole('button', { name: 'Resolve', exact: true }).isDisabled()).toBe(true);
    expect(await asVic.getByRole('button', { name: 'Unacknowledge', exact: true }).isDisabled()).toBe(true);
    expect(await asVic.getByLabel('Add a note').isDisabled()).toBe(true);
    const refused = await fetch(`${env.gateway.url}/functions/v1/oncall/incidents/${second}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await asVic.evaluate(() => (JSON.parse(localStorage.getItem('observai-auth') ?? '{}') as { access_token?: string }).access_token ?? '')}` },
    });
    expect(refused.status).toBe(403);
    await asVic.close();
  }, 120_000);

  it('shows who is on call now, draws the API shifts, and makes and removes an override', async () => {
    const page = await env.signedIn(`/oncall/?schedule=${scheduleId}`);
    const nowRow = page.locator(`[data-testid=on-call-now] tr[data-schedule="${scheduleId}"]`);
    await expect.poll(() => nowRow.getByTestId('on-call-person').textContent(), SLOW).toBe(ownerName);
    const onCall = await call('GET', `/oncall/schedules/${scheduleId}/on-call`);
    expect(onCall.body.onCall.userId).toBe(ownerId);
    expect(await page.getByTestId('schedule-zone').textContent()).toBe('Europe/London');

    // The bars of the final schedule are the API's final shifts over the same days (the viewer's midnights).
    const [from, to] = await page.evaluate(() => {
      const d = new Date();
      return [new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime(), new Date(d.getFullYear(), d.getMonth(), d.getDate() + 14).getTime()];
    });
    const shifts = await call('GET', `/oncall/schedules/${scheduleId}/shifts?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`);
    const bars = page.locator('.cal-row.final .cal-shift');
    await expect.poll(() => bars.count(), SLOW).toBe(shifts.body.final.length);
    const drawn = await bars.evaluateAll((els) => els.map((e) => ({ start: (e as HTMLElement).dataset.start, end: (e as HTMLElement).dataset.end, userId: (e as HTMLElement).dataset.user })));
    expect(drawn).toEqual(shifts.body.final);
    // The owner's turn now, then Ana's from the next 09:00 London handoff, and so on.
    expect(shifts.body.final.slice(0, 3).map((x: Json) => x.userId)).toEqual([ownerId, ana.id, ownerId]);
    expect(await bars.first().textContent()).toBe(ownerName.split('@')[0]);
    // Keyboard: the bars are buttons Tab reaches.
    await bars.first().focus();
    expect(await page.evaluate(() => document.activeElement?.classList.contains('cal-shift'))).toBe(true);
    await expect.poll(() => page.getByTestId('policies').textContent()).toContain('Payments primary (on call)');
    expect(await page.getByTestId('services').textContent()).toContain('payments-api');

    // Ana's first turn, chosen on the calendar: the form offers to cover her; the owner covers its second and third hours.
    const anaBar = page.locator(`.cal-row.final .cal-shift[data-user="${ana.id}"]`).first();
    const anaStart = Date.parse((await anaBar.getAttribute('data-start'))!);
    await anaBar.click();
    await expect.poll(() => page.getByRole('form', { name: 'New override' }).textContent()).toContain(`covering ${ana.email}`);
    const [startInput, endInput] = await page.evaluate((ms) => {
      const p = (n: number) => String(n).padStart(2, '0');
      const local = (x: Date) => `${x.getFullYear()}-${p(x.getMonth() + 1)}-${p(x.getDate())}T${p(x.getHours())}:${p(x.getMinutes())}`;
      return [local(new Date(ms + 3_600_000)), local(new Date(ms + 3 * 3_600_000))];
    }, anaStart);
    const startIso = new Date(anaStart + 3_600_000).toISOString();
    const endIso = new Date(anaStart + 3 * 3_600_000).toISOString();
    expect(await page.getByLabel('Who covers').inputValue()).toBe(ownerId);
    await page.getByLabel('from', { exact: true }).fill(startInput);
    await page.getByLabel('to', { exact: true }).fill(endInput);
    await page.getByRole('button', { name: 'Add override' }).click();
    await expect.poll(() => page.getByTestId('overrides').locator('tbody tr').count(), SLOW).toBe(1);
    const stored = await call('GET', `/oncall/schedules/${scheduleId}`);
    expect(stored.body.schedule.overrides).toEqual([expect.objectContaining({ userId: ownerId, start: startIso, end: endIso })]);
    expect(await page.getByTestId('overrides').textContent()).toContain(ownerName);
    // The calendar redraws with the override: the owner's bar inside Ana's turn, as the API's final shifts say.
    await expect.poll(() => page.locator(`.cal-row.final .cal-shift[data-start="${startIso}"]`).getAttribute('data-user'), SLOW).toBe(ownerId);
    const after = await call('GET', `/oncall/schedules/${scheduleId}/shifts?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`);
    expect(await bars.evaluateAll((els) => els.map((e) => ({ start: (e as HTMLElement).dataset.start, end: (e as HTMLElement).dataset.end, userId: (e as HTMLElement).dataset.user })))).toEqual(after.body.final);
    await expectAccessible(page, 'oncall');
    await screenshot(page, 'oncall');

    // Ana, a member, may cover only herself, and may not remove the owner's override (the API agrees: 403).
    const asAna = await env.signedIn(`/oncall/?schedule=${scheduleId}`, ana);
    await expect.poll(() => asAna.getByTestId('overrides').locator('tbody tr').count(), SLOW).toBe(1);
    expect(await asAna.getByLabel('Who covers').locator('option').allTextContents()).toEqual([ana.email]);
    expect(await asAna.getByRole('button', { name: /^Remove the override/ }).count()).toBe(0);
    await asAna.close();

    await page.getByRole('button', { name: /^Remove the override/ }).click();
    await expect.poll(() => page.getByTestId('overrides').count(), SLOW).toBe(0);
    expect((await call('GET', `/oncall/schedules/${scheduleId}`)).body.schedule.overrides).toEqual([]);

    // The calendar feed: a URL to copy that serves the schedule's shifts.
    await page.getByRole('button', { name: 'New feed of Payments primary' }).click();
    const url = await (async () => {
      await expect.poll(() => page.getByTestId('feed-url').count(), SLOW).toBe(1);
      return page.getByTestId('feed-url').inputValue();
    })();
    expect(url).toMatch(/\/oncall\/feeds\/[^/]+\/calendar\.ics$/);
    const ics = await (await fetch(url)).text();
    expect(ics).toContain('BEGIN:VCALENDAR');
    expect(ics).toContain('SUMMARY:On call: Payments primary');
    await page.close();
  }, 120_000);

  // Last in the file: it gives the owner a second organization, which the other tests' fresh sessions would otherwise see.
  it("opens the incident a page's link names, in the incident's project, after signing in and whatever was selected before", async () => {
    const { demo } = env.gateway;
    const id = await trigger('replica-lag-db-2', 'Replica lag on db-2');
    // The link a page to a person carries (DASHBOARD_URL set), followed by a signed-out reader.
    const link = incidentLink(env.gateway.url, demo.projectId, id);
    const page = await env.followLink(link);
    await expect.poll(() => page.getByTestId('incident-state').textContent(), SLOW).toBe('triggered');
    expect(new URL(page.url()).searchParams.get('id')).toBe(id);
    expect(new URL(page.url()).searchParams.get('project'), 'the link leaves its project out of the address bar once used').toBeNull();

    // The owner's other organization and project, selected last: the link switches back to the incident's.
    const org = await call('POST', '/orgs', { name: 'Side organization', slug: `side-${Date.now()}` });
    expect(org.status, JSON.stringify(org.body)).toBe(201);
    const side = await call('POST', `/orgs/${org.body.organization.id}/projects`, { name: 'Side project', slug: 'side' });
    expect(side.status, JSON.stringify(side.body)).toBe(201);
    await page.goto(`${env.gateway.url}/incidents/`);
    await expect.poll(() => page.getByLabel('Organization').locator('option').count(), SLOW).toBe(2);
    await page.getByLabel('Organization').selectOption(org.body.organization.id);
    await expect.poll(() => page.getByLabel('Project').inputValue(), SLOW).toBe(side.body.project.id);
    await page.goto(link);
    await expect.poll(() => page.getByTestId('incident-state').textContent(), SLOW).toBe('triggered');
    expect(await page.getByLabel('Organization').inputValue()).toBe(demo.organizationId);
    expect(await page.getByLabel('Project').inputValue()).toBe(demo.projectId);
    // A reload keeps the incident's project (the selection is stored like a switch made in the page).
    await page.reload();
    await expect.poll(() => page.getByTestId('incident-state').textContent(), SLOW).toBe('triggered');
    expect(await page.getByLabel('Project').inputValue()).toBe(demo.projectId);

    // A project that is not the reader's: said, without telling whether it exists; the selection stays.
    await page.goto(incidentLink(env.gateway.url, '6f1c1d52-8a43-4b7e-9d0a-3f5e2b7c9a10', id));
    await expect.poll(() => page.getByRole('alert').first().textContent(), SLOW).toContain('not one of yours');
    expect(await page.getByLabel('Project').inputValue()).toBe(demo.projectId);
    await page.context().close();
  }, 120_000);
});
