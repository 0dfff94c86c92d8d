/**
 * Contact-point notifiers against real local receivers that record what they get: an HTTP server
 * per test group (method, path, headers, raw body), an SMTP server (smtp-server, with STARTTLS and
 * authentication), and TCP servers that answer garbage or nothing. Every request goes through a real
 * outbound guard that allows only these servers' 127.0.0.1 ports. Assertions are on what a receiver
 * would see (the `standardwebhooks` verifier for signatures) and on the DeliveryResult the delivery
 * engine gets back.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZERO_TIME } from '../../src/alerts/notifiers/alertmanager.ts';
import { SMTP_UNAVAILABLE } from '../../src/alerts/notifiers/email.ts';
import { NOTIFIERS, NO_ANSWER } from '../../src/alerts/notifiers/index.ts';
import { PAGERDUTY_THROTTLE_MS } from '../../src/alerts/notifiers/pagerduty.ts';
import type { ContactKind, ContactTarget, DeliveryResult, NotifyContext, SmtpSender } from '../../src/alerts/notifiers/types.ts';
import { generateWebhookSecret, signStandardWebhook, WebhookSecret } from '../../src/alerts/notifiers/webhook.ts';
import type { AlertView, Notification } from '../../src/alerts/model.ts';
import { DEFAULT_ALLOWED_PORTS, parseAllowList, parsePortRule, type OutboundPolicy } from '../../src/net/address-policy.ts';
import { createOutboundGuard, UNREACHABLE_MESSAGE, type OutboundGuard } from '../../src/net/outbound.ts';
import { createNodeSmtpSender } from '../../src/node/smtp.ts';

// ---- receivers ----------------------------------------------------------------------------------

interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  port: number;
  url(path: string): string;
  requests: Received[];
  connections: number;
  close(): Promise<void>;
}

type Answer = (req: Received, res: http.ServerResponse) => void;

async function startReceiver(answer: Answer = (_req, res) => res.end('ok')): Promise<Receiver> {
  const requests: Received[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got = { method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(got);
      answer(got, res);
    });
  });
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A TCP server that answers each connection with `reply` (or nothing at all when null). */
async function startTcp(reply: string | null): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    if (reply !== null) s.end(reply);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---- fixtures -----------------------------------------------------------------------------------

const NOW = new Date('2026-01-15T12:00:30.000Z');

function alert(over: Partial<AlertView> & { instance: string }): AlertView {
  const { instance, ...rest } = over;
  return {
    fingerprint: `fp-${instance}`,
    status: 'firing',
    labels: { alertname: 'HighCPU', severity: 'critical', env: 'prod', instance },
    annotations: { summary: `CPU above 90% on ${instance}`, description: 'Load <script>alert("x")</script> & rising' },
    startsAt: '2026-01-15T11:55:00.000Z',
    endsAt: null,
    value: 93.5,
    url: `https://hub.example.com/alerts/${instance}`,
    ...rest,
  };
}

function notification(over: Partial<Notification> = {}): Notification {
  return {
    id: 'ntf_01JH8Q2M7Z',
    groupKey: '{}/{severity="critical"}:{alertname="HighCPU"}',
    status: 'firing',
    receiver: 'ops-oncall',
    groupLabels: { alertname: 'HighCPU' },
    commonLabels: { alertname: 'HighCPU', severity: 'critical', env: 'prod' },
    commonAnnotations: {},
    alerts: [
      alert({ instance: 'web-1' }),
      alert({ instance: 'web-2', value: 97 }),
      alert({ instance: 'web-3', status: 'resolved', endsAt: '2026-01-15T11:59:00.000Z' }),
    ],
    truncatedAlerts: 0,
    externalUrl: 'https://hub.example.com/p/prod',
    project: { id: 'b6c1f0c2-0000-4000-8000-000000000001', name: 'Prod' },
    createdAt: '2026-01-15T12:00:00.000Z',
    ...over,
  };
}

const resolvedNotification = () =>
  notification({
    id: 'ntf_01JH8Q9RES',
    status: 'resolved',
    alerts: ['web-1', 'web-2', 'web-3'].map((instance) => alert({ instance, status: 'resolved', endsAt: '2026-01-15T12:10:00.000Z' })),
    createdAt: '2026-01-15T12:10:05.000Z',
  });

const policy = (allow: string): OutboundPolicy => ({ allowPrivate: parseAllowList(allow), ports: parsePortRule(DEFAULT_ALLOWED_PORTS) });

function target(kind: ContactKind, settings: unknown, secret: string | null = null): ContactTarget & { settings: any } {
  // Settings go through the kind's own schema first, as the dispatcher does.
  return { id: `cp-${kind}`, name: `${kind} contact`, kind, settings: NOTIFIERS[kind].settings.parse(settings), secret };
}

async function send(kind: ContactKind, settings: unknown, secret: string | null, ctx: NotifyContext, n = notification()): Promise<DeliveryResult> {
  return NOTIFIERS[kind].send(n, target(kind, settings, secret), ctx);
}

const ROUTING_KEY = 'R0123456789abcdefABCDEF012345678';

// ---- the suite ----------------------------------------------------------------------------------

describe('contact-point notifiers', () => {
  let receiver: Receiver;
  let guard: OutboundGuard;
  const ctx = (over: Partial<NotifyContext> = {}): NotifyContext => ({ outbound: guard, now: NOW, attempt: 1, timeoutMs: 2_000, ...over });
  const last = () => receiver.requests.at(-1)!;

  beforeAll(async () => {
    receiver = await startReceiver((req, res) => {
      const [path] = req.path.split('?');
      const status = /^\/status\/(\d{3})$/.exec(path!);
      if (status) {
        res.writeHead(Number(status[1]), { 'content-type': 'text/plain' });
        res.end(`answered ${status[1]}`);
      } else if (path === '/pd') {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: JSON.parse(req.body).dedup_key }));
      } else if (path === '/pd-throttled') {
        res.writeHead(429, { 'content-type': 'application/json' });
        res.end('{"status":"throttle event","message":"Requests for this service are arriving too quickly."}');
      } else if (path?.startsWith('/services/')) {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('ok');
      } else if (path === '/slack-gone') {
        res.writeHead(410, { 'content-type': 'text/plain' });
        res.end('channel_is_archived');
      } else if (path === '/slack-no-service') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('no_service');
      } else if (path === '/emails') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"4ef9a417-02e9-4d39-ad75-9611e0fcc33c"}');
      } else {
        res.end('ok');
      }
    });
    guard = createOutboundGuard(policy(`127.0.0.1:${receiver.port}`));
  });
  afterAll(async () => {
    await receiver?.close();
  });

  describe('webhook (Standard Webhooks)', () => {
    const secret = generateWebhookSecret();

    it('signs so that the standardwebhooks verifier accepts it, and rejects it once tampered with', async () => {
      const now = new Date(); // the verifier checks the timestamp against the real clock (±5 min)
      // Non-ASCII text: the signature covers the UTF-8 bytes sent, as the verifier reads them.
      const n = notification({ commonAnnotations: { summary: 'CPU über 90 % — 🔥' } });
      const result = await send('webhook', { url: receiver.url('/hook') }, secret, ctx({ now }), n);
      expect(result).toEqual({ ok: true, status: 200, detail: 'ok' });
      const got = last();
      expect(got.method).toBe('POST');
      expect(got.headers['content-type']).toBe('application/json');
      expect(got.headers['webhook-id']).toBe('ntf_01JH8Q2M7Z');
      expect(got.headers['webhook-timestamp']).toBe(String(Math.floor(now.getTime() / 1000)));
      expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);

      const headers = { 'webhook-id': got.headers['webhook-id'] as string, 'webhook-timestamp': got.headers['webhook-timestamp'] as string, 'webhook-signature': got.headers['webhook-signature'] as string };
      const payload = new Webhook(secret).verify(got.body, headers) as { type: string; timestamp: string; data: Notification };
      expect(payload.type).toBe('alert.firing');
      expect(payload.timestamp).toBe('2026-01-15T12:00:00.000Z');
      expect(payload.data).toEqual(n);

      expect(() => new Webhook(secret).verify(got.body.replace('web-1', 'web-9'), headers)).toThrow(/signature/i);
      expect(() => new Webhook(secret).verify(got.body.replace('über', 'uber'), headers)).toThrow(/signature/i);
      expect(() => new Webhook(secret).verify(got.body, { ...headers, 'webhook-id': 'ntf_other' })).toThrow(/signature/i);
      expect(() => new Webhook(generateWebhookSecret()).verify(got.body, headers)).toThrow(/signature/i);
    });

    it('keeps webhook-id and the body across retries; only the timestamp and signature change', async () => {
      await send('webhook', { url: receiver.url('/hook') }, secret, ctx({ now: NOW, attempt: 1 }));
      const first = last();
      await send('webhook', { url: receiver.url('/hook') }, secret, ctx({ now: new Date(NOW.getTime() + 5_000), attempt: 2 }));
      const second = last();
      expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
      expect(second.body).toBe(first.body);
      expect(Number(second.headers['webhook-timestamp']) - Number(first.headers['webhook-timestamp'])).toBe(5);
      expect(second.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
      // Each attempt's signature is what the reference implementation computes for that attempt.
      const ts = Number(second.headers['webhook-timestamp']);
      expect(second.headers['webhook-signature']).toBe(new Webhook(secret).sign('ntf_01JH8Q2M7Z', new Date(ts * 1000), second.body));
    });

    it('marks a resolved notification alert.resolved', async () => {
      await send('webhook', { url: receiver.url('/hook') }, secret, ctx(), resolvedNotification());
      expect(JSON.parse(last().body).type).toBe('alert.resolved');
    });

    it('caps alerts at maxAlerts, firing first, and counts the rest', async () => {
      await send('webhook', { url: receiver.url('/hook'), maxAlerts: 1 }, secret, ctx());
      const data = JSON.parse(last().body).data as Notification;
      expect(data.alerts.map((a) => a.labels.instance)).toEqual(['web-1']);
      expect(data.truncatedAlerts).toBe(2);
    });

    it('generates whsec_ secrets of 32 random bytes and signs as the spec does', async () => {
      const a = generateWebhookSecret();
      expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
      expect(a).not.toBe(generateWebhookSecret());
      expect(WebhookSecret.safeParse(a).success).toBe(true);
      expect(WebhookSecret.safeParse('whsec_c2hvcnQ=').success).toBe(false); // 5 bytes
      expect(WebhookSecret.safeParse('not-a-secret').success).toBe(false);
      const body = '{"hello":"world"}';
      expect(await signStandardWebhook(a, 'msg_1', 1_700_000_000, body)).toBe(new Webhook(a).sign('msg_1', new Date(1_700_000_000_000), body));
    });
  });

  describe('Slack', () => {
    const hook = () => receiver.url('/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX');

    it('posts Block Kit: header, a section per alert with escaped mrkdwn, link buttons', async () => {
      const result = await send('slack', {}, hook(), ctx());
      expect(result).toEqual({ ok: true, status: 200, detail: 'ok' });
      const got = last();
      expect(got.path).toBe('/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX');
      const body = JSON.parse(got.body) as { text: string; blocks: any[] };
      expect(body.text).toBe('[FIRING:2] HighCPU (Prod)');
      expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '🔥 [FIRING:2] HighCPU (Prod)', emoji: true } });
      expect(body.blocks[1].type).toBe('context');
      expect(body.blocks[1].elements[0].text).toContain('*2 firing*, 1 resolved');
      const sections = body.blocks.filter((b) => b.type === 'section');
      expect(sections).toHaveLength(3);
      expect(sections[0].text.type).toBe('mrkdwn');
      expect(sections[0].text.text).toContain('🔥 *Firing*: *CPU above 90% on web-1*');
      expect(sections[0].text.text).toContain('Load &lt;script&gt;alert("x")&lt;/script&gt; &amp; rising');
      expect(sections[0].text.text).not.toContain('<script>');
      expect(sections[0].text.text).toContain('`instance`=`web-1`');
      expect(sections[2].text.text).toContain('✅ *Resolved*: *CPU above 90% on web-3*');
      const actions = body.blocks.find((b) => b.type === 'actions');
      expect(actions.elements.map((e: { url: string }) => e.url)).toEqual([
        'https://hub.example.com/alerts/web-1',
        'https://hub.example.com/alerts/web-2',
        'https://hub.example.com/alerts/web-3',
        'https://hub.example.com/p/prod',
      ]);
      for (const e of actions.elements) expect(e.type).toBe('button');
    });

    it('shows at most 10 alerts, then "and N more" (counting alerts the dispatcher truncated)', async () => {
      const many = Array.from({ length: 12 }, (_, i) => alert({ instance: `web-${i + 1}` }));
      await send('slack', {}, hook(), ctx(), notification({ alerts: many, truncatedAlerts: 3 }));
      const body = JSON.parse(last().body) as { blocks: any[] };
      expect(body.blocks.filter((b) => b.type === 'section')).toHaveLength(10);
      expect(JSON.stringify(body.blocks)).toContain('…and 5 more alerts');
      expect(body.blocks.length).toBeLessThanOrEqual(50);
    });

    it('marks a resolved notification clearly, without the mention', async () => {
      await send('slack', { mention: '<!here>' }, hook(), ctx(), resolvedNotification());
      const body = JSON.parse(last().body) as { text: string; blocks: any[] };
      expect(body.text).toBe('[RESOLVED] HighCPU (Prod)');
      expect(body.blocks[0].text.text).toBe('✅ [RESOLVED] HighCPU (Prod)');
      expect(JSON.stringify(body)).not.toContain('<!here>');
      expect(body.blocks[1].elements[0].text).toContain('*All resolved*');
    });

    it('mentions when firing', async () => {
      await send('slack', { mention: '<!here> <@U024BE7LH>' }, hook(), ctx());
      const body = JSON.parse(last().body) as { text: string; blocks: any[] };
      expect(body.text).toBe('<!here> <@U024BE7LH> [FIRING:2] HighCPU (Prod)');
      expect(body.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '<!here> <@U024BE7LH>' } });
      expect(NOTIFIERS.slack.settings.safeParse({ mention: '<https://evil|click>' }).success).toBe(false);
    });

    it("reports Slack's error words without the webhook URL; 410 channel_is_archived disables", async () => {
      const missing = await send('slack', {}, receiver.url('/slack-no-service'), ctx());
      expect(missing).toMatchObject({ ok: false, retryable: false, status: 404 });
      expect(!missing.ok && missing.error).toContain('no_service');
      expect(!missing.ok && missing.error).not.toContain('127.0.0.1');
      const gone = await send('slack', {}, receiver.url('/slack-gone'), ctx());
      expect(gone).toMatchObject({ ok: false, retryable: false, status: 410, disable: true });
      expect(!gone.ok && gone.error).toContain('channel_is_archived');
    });
  });

  describe('PagerDuty (Events API v2)', () => {
    const settings = () => ({ url: receiver.url('/pd') });

    it('triggers with the fields PagerDuty requires, then resolves with the same dedup_key', async () => {
      const fired = await send('pagerduty', settings(), ROUTING_KEY, ctx());
      expect(fired).toMatchObject({ ok: true, status: 202 });
      const trigger = JSON.parse(last().body);
      expect(last().headers['content-type']).toBe('application/json');
      expect(trigger).toMatchObject({
        routing_key: ROUTING_KEY,
        event_action: 'trigger',
        dedup_key: '{}/{severity="critical"}:{alertname="HighCPU"}',
        client: 'ObservAI Hub',
        client_url: 'https://hub.example.com/p/prod',
        payload: { summary: '[FIRING:2] HighCPU (Prod)', source: 'Prod', severity: 'critical', timestamp: '2026-01-15T12:00:00.000Z' },
      });
      const details = trigger.payload.custom_details;
      expect(details.num_firing).toBe(2);
      expect(details.num_resolved).toBe(1);
      expect(details.firing.map((a: AlertView) => a.labels.instance)).toEqual(['web-1', 'web-2']);
      expect(details.resolved.map((a: AlertView) => a.labels.instance)).toEqual(['web-3']);
      expect(trigger.links).toEqual([
        { href: 'https://hub.example.com/alerts/web-1', text: 'CPU above 90% on web-1' },
        { href: 'https://hub.example.com/alerts/web-2', text: 'CPU above 90% on web-2' },
        { href: 'https://hub.example.com/alerts/web-3', text: 'CPU above 90% on web-3' },
      ]);

      const resolved = await send('pagerduty', settings(), ROUTING_KEY, ctx(), resolvedNotification());
      expect(resolved).toMatchObject({ ok: true, status: 202 });
      const resolve = JSON.parse(last().body);
      expect(resolve.event_action).toBe('resolve');
      expect(resolve.dedup_key).toBe(trigger.dedup_key);
      expect(resolve.routing_key).toBe(ROUTING_KEY);
    });

    it('hashes a group key longer than 255 characters, the same way every time', async () => {
      const groupKey = `{}:{${'x'.repeat(300)}}`;
      await send('pagerduty', settings(), ROUTING_KEY, ctx(), notification({ groupKey }));
      const a = JSON.parse(last().body).dedup_key;
      await send('pagerduty', settings(), ROUTING_KEY, ctx(), resolvedNotification());
      await send('pagerduty', settings(), ROUTING_KEY, ctx(), { ...resolvedNotification(), groupKey });
      const b = JSON.parse(last().body).dedup_key;
      expect(a).toMatch(/^[0-9a-f]{64}$/);
      expect(b).toBe(a);
    });

    it('maps severity (override, common label, most severe firing, default error) and truncates the summary', async () => {
      const sev = async (n: Notification, extra: object = {}) => {
        await send('pagerduty', { ...settings(), ...extra }, ROUTING_KEY, ctx(), n);
        return JSON.parse(last().body).payload.severity;
      };
      expect(await sev(notification(), { severity: 'warning' })).toBe('warning');
      expect(await sev(notification({ commonLabels: { alertname: 'HighCPU', severity: 'info' } }))).toBe('info');
      const mixed = [alert({ instance: 'a', labels: { alertname: 'X', severity: 'warning' } }), alert({ instance: 'b', labels: { alertname: 'X', severity: 'critical' } })];
      expect(await sev(notification({ commonLabels: { alertname: 'X' }, alerts: mixed }))).toBe('critical');
      expect(await sev(notification({ commonLabels: {}, alerts: [alert({ instance: 'c', labels: { alertname: 'X' } })] }))).toBe('error');

      await send('pagerduty', settings(), ROUTING_KEY, ctx(), notification({ commonAnnotations: { summary: 'y'.repeat(5000) } }));
      const summary = JSON.parse(last().body).payload.summary as string;
      expect(summary).toHaveLength(1024);
      expect(summary.endsWith('…')).toBe(true);
      expect(summary.startsWith('[FIRING:2] HighCPU (Prod): yyy')).toBe(true);
    });

    it('keeps the body under 512 KB, counting the alerts left out', async () => {
      const huge = Array.from({ length: 400 }, (_, i) =>
        alert({ instance: `node-${i}`, annotations: { summary: `s${i}`, description: 'd'.repeat(3000), runbook: 'r'.repeat(3000) } }),
      );
      const result = await send('pagerduty', settings(), ROUTING_KEY, ctx(), notification({ alerts: huge }));
      expect(result.ok).toBe(true);
      const raw = last().body;
      expect(Buffer.byteLength(raw)).toBeLessThan(512 * 1024);
      const details = JSON.parse(raw).payload.custom_details;
      expect(details.firing.length).toBeGreaterThan(0);
      expect(details.firing.length + details.truncated_alerts).toBe(400);
      expect(details.truncated_alerts).toBeGreaterThan(0);
    });

    it('retries a 429 after a minute when PagerDuty names no Retry-After; 400 is permanent', async () => {
      const throttled = await send('pagerduty', { url: receiver.url('/pd-throttled') }, ROUTING_KEY, ctx());
      expect(throttled).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: PAGERDUTY_THROTTLE_MS });
      const invalid = await send('pagerduty', { url: receiver.url('/status/400') }, ROUTING_KEY, ctx());
      expect(invalid).toMatchObject({ ok: false, retryable: false, status: 400 });
    });

    it('refuses a routing key that is not 32 characters', () => {
      expect(NOTIFIERS.pagerduty.secret.schema.safeParse(ROUTING_KEY).success).toBe(true);
      expect(NOTIFIERS.pagerduty.secret.schema.safeParse('short').success).toBe(false);
    });
  });

  describe('Alertmanager webhook (payload v4)', () => {
    it('sends exactly the v4 fields, endsAt as Go zero time while firing', async () => {
      const result = await send('alertmanager', { url: receiver.url('/am') }, null, ctx());
      expect(result.ok).toBe(true);
      const got = last();
      expect(got.headers.authorization).toBeUndefined();
      const body = JSON.parse(got.body);
      expect(Object.keys(body).sort()).toEqual(
        ['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version'].sort(),
      );
      expect(body).toMatchObject({
        version: '4',
        groupKey: '{}/{severity="critical"}:{alertname="HighCPU"}',
        truncatedAlerts: 0,
        status: 'firing',
        receiver: 'ops-oncall',
        groupLabels: { alertname: 'HighCPU' },
        commonLabels: { alertname: 'HighCPU', severity: 'critical', env: 'prod' },
        commonAnnotations: {},
        externalURL: 'https://hub.example.com/p/prod',
      });
      expect(body.alerts).toHaveLength(3);
      expect(Object.keys(body.alerts[0]).sort()).toEqual(['annotations', 'endsAt', 'fingerprint', 'generatorURL', 'labels', 'startsAt', 'status']);
      expect(body.alerts[0]).toEqual({
        status: 'firing',
        labels: { alertname: 'HighCPU', severity: 'critical', env: 'prod', instance: 'web-1' },
        annotations: { summary: 'CPU above 90% on web-1', description: 'Load <script>alert("x")</script> & rising' },
        startsAt: '2026-01-15T11:55:00.000Z',
        endsAt: ZERO_TIME,
        generatorURL: 'https://hub.example.com/alerts/web-1',
        fingerprint: 'fp-web-1',
      });
      expect(body.alerts[2]).toMatchObject({ status: 'resolved', endsAt: '2026-01-15T11:59:00.000Z' });
    });

    it('sends the secret as a bearer token, or as basic auth when auth is basic; caps at maxAlerts', async () => {
      await send('alertmanager', { url: receiver.url('/am') }, 's3cr3t-token', ctx());
      expect(last().headers.authorization).toBe('Bearer s3cr3t-token');
      await send('alertmanager', { url: receiver.url('/am'), auth: 'basic', maxAlerts: 2 }, 'prom:pässword', ctx());
      expect(last().headers.authorization).toBe(`Basic ${Buffer.from('prom:pässword', 'utf8').toString('base64')}`);
      const body = JSON.parse(last().body);
      expect(body.alerts).toHaveLength(2);
      expect(body.truncatedAlerts).toBe(1);
      const noColon = await send('alertmanager', { url: receiver.url('/am'), auth: 'basic' }, 'justatoken', ctx());
      expect(noColon).toMatchObject({ ok: false, retryable: false });
    });
  });

  describe('email over an HTTP API (Resend-compatible)', () => {
    it('posts from, to, subject, text and escaped html with the API key and an idempotency key', async () => {
      const settings = { to: ['oncall@example.com', 'sre@example.com'], from: 'Alerts <alerts@example.com>', transport: 'http', http: { url: receiver.url('/emails') } };
      const result = await send('email', settings, 're_123456789', ctx());
      expect(result).toMatchObject({ ok: true, status: 200 });
      const got = last();
      expect(got.headers.authorization).toBe('Bearer re_123456789');
      expect(got.headers['idempotency-key']).toBe('ntf_01JH8Q2M7Z');
      const body = JSON.parse(got.body);
      expect(Object.keys(body).sort()).toEqual(['from', 'html', 'subject', 'text', 'to']);
      expect(body.from).toBe('Alerts <alerts@example.com>');
      expect(body.to).toEqual(['oncall@example.com', 'sre@example.com']);
      expect(body.subject).toBe('[FIRING:2] HighCPU (Prod)');
      expect(body.text).toContain('FIRING  HighCPU: CPU above 90% on web-1');
      expect(body.text).toContain('Load <script>alert("x")</script> & rising');
      expect(body.text).toContain('https://hub.example.com/alerts/web-1');
      expect(body.html).toContain('Load &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; rising');
      expect(body.html).not.toContain('<script>');
      expect(body.html).toContain('<a href="https://hub.example.com/alerts/web-1">');
    });

    it('validates settings: recipients, sender, the transport block', () => {
      const s = NOTIFIERS.email.settings;
      expect(s.safeParse({ to: [], from: 'a@example.com', transport: 'http', http: { url: 'https://api.resend.com/emails' } }).success).toBe(false);
      expect(s.safeParse({ to: ['x@example.com'], from: 'a@example.com', transport: 'http' }).success).toBe(false);
      expect(s.safeParse({ to: ['x@example.com'], transport: 'http', http: { url: 'https://api.resend.com/emails' } }).success).toBe(false);
      expect(s.safeParse({ to: ['x@example.com'], from: 'Evil\r\nBcc: y@example.com <a@example.com>', transport: 'http', http: { url: 'https://api.resend.com/emails' } }).success).toBe(false);
      expect(s.safeParse({ to: ['x@example.com'], transport: 'smtp', smtp: { host: 'smtp.example.com', username: 'me@example.com' } }).success).toBe(true);
    });

    it('refuses the smtp transport where no SMTP sender exists (the edge)', async () => {
      const settings = { to: ['x@example.com'], from: 'a@example.com', transport: 'smtp', smtp: { host: 'smtp.example.com', port: 587 } };
      const result = await send('email', settings, 'pw', ctx());
      expect(result).toEqual({ ok: false, retryable: false, status: null, retryAfterMs: null, error: SMTP_UNAVAILABLE });
    });
  });

  describe("what a receiver's answer means", () => {
    const am = (path: string, c: NotifyContext = ctx()) => send('alertmanager', { url: receiver.url(path) }, null, c);

    it.each([
      // Permanent: repeating the same request cannot help.
      [400, false],
      [401, false],
      [403, false],
      [404, false],
      [405, false],
      [413, false],
      [422, false],
      [501, false],
      // Retryable: timeouts, conflicts, throttling, server trouble.
      [408, true],
      [409, true],
      [425, true],
      [429, true],
      [500, true],
      [502, true],
      [503, true],
      [504, true],
    ])('%i -> retryable %s', async (status, retryable) => {
      const result = await am(`/status/${status}`);
      expect(result).toMatchObject({ ok: false, retryable, status });
      expect(!result.ok && result.error).toContain(`answered ${status}`);
    });

    it('any 2xx is delivered', async () => {
      expect(await am('/status/204')).toEqual({ ok: true, status: 204 });
      expect(await am('/status/202')).toMatchObject({ ok: true, status: 202 });
    });

    it('500 is retryable; the body is not relayed (it could be any service an operator allowed), only an error word would be', async () => {
      const r = await startReceiver((_req, res) => {
        res.writeHead(500);
        res.end(`database is down\n${'x'.repeat(1_000_000)}`);
      });
      try {
        const g = createOutboundGuard(policy(`127.0.0.1:${r.port}`));
        const result = await send('alertmanager', { url: r.url('/') }, null, ctx({ outbound: g }));
        expect(result).toMatchObject({ ok: false, retryable: true, status: 500, retryAfterMs: null });
        expect(!result.ok && result.error).toBe('The receiver answered 500');
      } finally {
        await r.close();
      }
    });

    it('429 with Retry-After: 7 asks for 7 s; an HTTP-date Retry-After is read against now', async () => {
      const r = await startReceiver((req, res) => {
        res.writeHead(req.path === '/date' ? 503 : 429, { 'retry-after': req.path === '/date' ? new Date(NOW.getTime() + 120_000).toUTCString() : '7' });
        res.end();
      });
      try {
        const g = createOutboundGuard(policy(`127.0.0.1:${r.port}`));
        expect(await send('webhook', { url: r.url('/') }, generateWebhookSecret(), ctx({ outbound: g }))).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 7_000 });
        expect(await send('slack', {}, r.url('/date'), ctx({ outbound: g }))).toMatchObject({ ok: false, retryable: true, status: 503, retryAfterMs: 120_000 });
      } finally {
        await r.close();
      }
    });

    it('410 Gone is permanent and asks to disable the contact point', async () => {
      expect(await am('/status/410')).toMatchObject({ ok: false, retryable: false, status: 410, disable: true });
    });

    it('a 302 is not followed: permanent, and the target never sees a request', async () => {
      const r = await startReceiver((req, res) => {
        if (req.path === '/moved') {
          res.writeHead(302, { location: `http://127.0.0.1:${receiver.port}/landing` });
          res.end();
        } else res.end('ok');
      });
      try {
        const before = receiver.requests.length;
        const g = createOutboundGuard(policy(`127.0.0.1:${r.port},127.0.0.1:${receiver.port}`));
        const result = await send('webhook', { url: r.url('/moved') }, generateWebhookSecret(), ctx({ outbound: g }));
        expect(result).toMatchObject({ ok: false, retryable: false, status: 302 });
        expect(!result.ok && result.error).toMatch(/redirect/);
        expect(!result.ok && result.error).not.toContain('landing');
        expect(receiver.requests.slice(before).filter((q) => q.path === '/landing')).toHaveLength(0);
      } finally {
        await r.close();
      }
    });

    it('an answer that is not HTTP is retryable, with the generic message', async () => {
      const tcp = await startTcp('SSH-2.0-OpenSSH_9.6\r\ngarbage garbage\r\n\r\n');
      try {
        const g = createOutboundGuard(policy(`127.0.0.1:${tcp.port}`));
        const result = await send('alertmanager', { url: `http://127.0.0.1:${tcp.port}/` }, null, ctx({ outbound: g }));
        expect(result).toEqual({ ok: false, retryable: true, status: null, retryAfterMs: null, error: UNREACHABLE_MESSAGE });
        expect(tcp.connections).toBe(1);
      } finally {
        await tcp.close();
      }
    });

    it('a receiver that never answers times out within the bound: retryable, generic', async () => {
      const tcp = await startTcp(null);
      try {
        const g = createOutboundGuard(policy(`127.0.0.1:${tcp.port}`));
        const started = performance.now();
        const result = await send('pagerduty', { url: `http://127.0.0.1:${tcp.port}/` }, ROUTING_KEY, ctx({ outbound: g, timeoutMs: 400 }));
        expect(performance.now() - started).toBeLessThan(3_000);
        expect(result).toEqual({ ok: false, retryable: true, status: null, retryAfterMs: null, error: UNREACHABLE_MESSAGE });
      } finally {
        await tcp.close();
      }
    });

    it('a 200 whose body stalls still counts as delivered, within the bound', async () => {
      const r = await startReceiver((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('accepted, and then...');
      });
      try {
        const g = createOutboundGuard(policy(`127.0.0.1:${r.port}`));
        const started = performance.now();
        const result = await send('alertmanager', { url: r.url('/') }, null, ctx({ outbound: g, timeoutMs: 400 }));
        expect(performance.now() - started).toBeLessThan(3_000);
        expect(result).toMatchObject({ ok: true, status: 200 });
      } finally {
        await r.close();
      }
    });

    it('a private address the guard does not allow is refused with the generic message, before any connection', async () => {
      const victim = await startReceiver();
      try {
        for (const url of [victim.url('/hook'), `http://localhost:${victim.port}/hook`, 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/']) {
          const result = await send('webhook', { url }, generateWebhookSecret(), ctx());
          expect(result).toEqual({ ok: false, retryable: true, status: null, retryAfterMs: null, error: NO_ANSWER });
        }
        const slack = await send('slack', {}, victim.url('/services/T/B/X'), ctx());
        expect(slack).toMatchObject({ ok: false, error: UNREACHABLE_MESSAGE });
        expect(victim.connections).toBe(0);
        expect(victim.requests).toHaveLength(0);
      } finally {
        await victim.close();
      }
    });

    it('a URL the guard cannot use at all is a permanent failure', async () => {
      const result = await NOTIFIERS.slack.send(notification(), { ...target('slack', {}), secret: 'ftp://127.0.0.1/x' }, ctx());
      expect(result).toMatchObject({ ok: false, retryable: false, status: null });
      expect(!result.ok && result.error).toMatch(/^The URL /);
    });
  });
});

// ---- email over SMTP ----------------------------------------------------------------------------

interface Mail {
  from: string;
  to: string[];
  raw: string;
  user: unknown;
  secure: boolean;
  servername: string | undefined;
  remoteAddress: string;
}

/** The text/plain and text/html parts of a message nodemailer wrote (quoted-printable, base64 or 7bit). */
function mimeParts(raw: string): { headers: string; text: string; html: string } {
  const [headers] = raw.split('\r\n\r\n');
  const boundary = /boundary="?([^";\r\n]+)"?/.exec(headers!)![1]!;
  const parts: Record<string, string> = {};
  for (const part of raw.split(`--${boundary}`).slice(1, -1)) {
    const sep = part.indexOf('\r\n\r\n');
    const head = part.slice(0, sep);
    const body = part.slice(sep + 4).replace(/\r\n$/, '');
    const type = /content-type:\s*([^;\r\n]+)/i.exec(head)![1]!.trim();
    const cte = /content-transfer-encoding:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim().toLowerCase();
    parts[type] =
      cte === 'quoted-printable'
        ? Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8')
        : cte === 'base64'
          ? Buffer.from(body, 'base64').toString('utf8')
          : body;
  }
  return { headers: headers!, text: parts['text/plain'] ?? '', html: parts['text/html'] ?? '' };
}

describe('email over SMTP (nodemailer to a real smtp-server)', () => {
  let dir: string;
  let cert: Buffer;
  let server: SMTPServer;
  let port: number;
  const mails: Mail[] = [];
  const connections: string[] = [];
  const USER = 'alerts@mail.test';
  const PASSWORD = 'correct horse battery staple';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'observai-smtp-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=mail.test',
        '-addext', 'subjectAltName=DNS:mail.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'));
    server = new SMTPServer({
      key: readFileSync(join(dir, 'key.pem')),
      cert,
      logger: false,
      authMethods: ['PLAIN', 'LOGIN'],
      // Defaults kept on purpose: authentication is required, and only after STARTTLS.
      onConnect(session, cb) {
        connections.push(session.remoteAddress);
        cb();
      },
      onAuth(auth, _session, cb) {
        if (auth.username === USER && auth.password === PASSWORD) return cb(null, { user: auth.username });
        return cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onRcptTo(address, _session, cb) {
        if (address.address.startsWith('nobody@')) return cb(Object.assign(new Error('No such user here'), { responseCode: 550 }));
        if (address.address.startsWith('busy@')) return cb(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }));
        cb();
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            user: session.user,
            secure: session.secure,
            servername: (session as { servername?: string }).servername,
            remoteAddress: session.remoteAddress,
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `mail.test` resolves to loopback, which only the allow-list entry for this port lets through. */
  const sender = (over: { allow?: string; resolve?: (host: string) => Promise<Array<{ address: string; family: number }>> } = {}): SmtpSender =>
    createNodeSmtpSender({
      policy: policy(over.allow ?? `127.0.0.1:${port}`),
      resolve: over.resolve ?? (async (host) => (host === 'mail.test' ? [{ address: '127.0.0.1', family: 4 }] : [])),
      tls: { ca: cert },
      timeoutMs: 3_000,
      clientName: 'hub.test',
    });
  const smtpSettings = (to = ['oncall@example.com', 'sre@example.com']) => ({ to, transport: 'smtp', smtp: { host: 'mail.test', port, secure: false, username: USER } });
  const guard = createOutboundGuard(policy(''));
  const ctx = (smtp: SmtpSender): NotifyContext => ({ outbound: guard, smtp, now: NOW, attempt: 1, timeoutMs: 2_000 });

  it('delivers over STARTTLS to the checked IP, verifying the certificate for the host name, after logging in', async () => {
    const result = await send('email', smtpSettings(), PASSWORD, ctx(sender()));
    expect(result).toEqual({ ok: true, status: 250 });
    const mail = mails.at(-1)!;
    expect(mail.from).toBe(USER);
    expect(mail.to).toEqual(['oncall@example.com', 'sre@example.com']);
    expect(mail.user).toBe(USER);
    expect(mail.secure).toBe(true);
    expect(mail.servername).toBe('mail.test');
    expect(mail.remoteAddress).toBe('127.0.0.1');

    const { headers, text, html } = mimeParts(mail.raw);
    expect(headers).toMatch(/^Subject: \[FIRING:2\] HighCPU \(Prod\)$/m);
    expect(headers).toMatch(/^Message-ID: <ntf_01JH8Q2M7Z@mail\.test>$/m);
    expect(headers).toMatch(/^Auto-Submitted: auto-generated$/m);
    expect(headers).toMatch(/^To: oncall@example.com, sre@example.com$/m);
    expect(text).toContain('FIRING  HighCPU: CPU above 90% on web-1');
    expect(text).toContain('Labels: env=prod, instance=web-1, severity=critical');
    expect(text).toContain('RESOLVED  HighCPU: CPU above 90% on web-3');
    expect(text).toContain('Open ObservAI Hub: https://hub.example.com/p/prod');
    expect(html).toContain('Load &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; rising');
    expect(html).not.toContain('<script>');
  });

  it('a wrong password is a permanent failure carrying the 535 reply', async () => {
    const result = await send('email', smtpSettings(), 'wrong password', ctx(sender()));
    expect(result).toMatchObject({ ok: false, retryable: false, status: 535 });
    expect(!result.ok && result.error).toContain('refused the user name or password');
  });

  it('maps a 5xx recipient refusal to permanent and a 4xx one to retryable', async () => {
    const refused = await send('email', smtpSettings(['nobody@example.com']), PASSWORD, ctx(sender()));
    expect(refused).toMatchObject({ ok: false, retryable: false, status: 550 });
    expect(!refused.ok && refused.error).toContain('No such user here');
    const busy = await send('email', smtpSettings(['busy@example.com']), PASSWORD, ctx(sender()));
    expect(busy).toMatchObject({ ok: false, retryable: true, status: 451 });
  });

  it('delivers to the recipients that were accepted and says how many were refused', async () => {
    const result = await send('email', smtpSettings(['oncall@example.com', 'nobody@example.com']), PASSWORD, ctx(sender()));
    expect(result).toMatchObject({ ok: true, status: 250, detail: '1 of 2 recipients were refused by the mail server' });
    expect(mails.at(-1)!.to).toEqual(['oncall@example.com']);
  });

  it('does not trust a certificate that does not name the host (connecting by another name fails)', async () => {
    const before = mails.length;
    const s = sender({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const result = await send('email', { ...smtpSettings(), smtp: { ...smtpSettings().smtp, host: 'other.test' } }, PASSWORD, ctx(s));
    expect(result).toMatchObject({ ok: false, retryable: true, status: null });
    expect(!result.ok && result.error).toMatch(/^No TLS session with the mail server/);
    expect(mails.length).toBe(before);
  });

  /** Another SMTP server on loopback, closed after `use`. */
  async function withServer(options: ConstructorParameters<typeof SMTPServer>[0], use: (port: number) => Promise<void>) {
    const other = new SMTPServer({ logger: false, ...options });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      await use((other.server.address() as AddressInfo).port);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  }

  it('never sends a password in clear: a server without STARTTLS gets no AUTH', async () => {
    const logins: string[] = [];
    await withServer(
      {
        hideSTARTTLS: true,
        allowInsecureAuth: true,
        onAuth(auth, _session, cb) {
          logins.push(auth.username ?? '');
          cb(null, { user: auth.username });
        },
      },
      async (plainPort) => {
        const s = sender({ allow: `127.0.0.1:${plainPort}` });
        const result = await send('email', { ...smtpSettings(), smtp: { host: 'mail.test', port: plainPort, secure: false, username: USER } }, PASSWORD, ctx(s));
        expect(result).toMatchObject({ ok: false, retryable: true, status: null });
        expect(!result.ok && result.error).toMatch(/^No TLS session with the mail server/);
      },
    );
    expect(logins).toEqual([]);
  });

  it('delivers over TLS from the first byte (secure: true, as on port 465)', async () => {
    const got: string[] = [];
    await withServer(
      {
        secure: true,
        key: readFileSync(join(dir, 'key.pem')),
        cert,
        onAuth(auth, _session, cb) {
          cb(null, { user: auth.username });
        },
        onData(stream, session, cb) {
          stream.resume();
          stream.on('end', () => {
            got.push(`${session.secure ? 'tls' : 'plain'} ${(session as { servername?: string }).servername} ${session.envelope.rcptTo.map((r) => r.address).join(',')}`);
            cb();
          });
        },
      },
      async (tlsPort) => {
        const s = sender({ allow: `127.0.0.1:${tlsPort}` });
        const result = await send('email', { ...smtpSettings(['oncall@example.com']), smtp: { host: 'mail.test', port: tlsPort, secure: true, username: USER } }, PASSWORD, ctx(s));
        expect(result).toEqual({ ok: true, status: 250 });
      },
    );
    expect(got).toEqual(['tls mail.test oncall@example.com']);
  });

  it('refuses a host that resolves to a private address outside the allow-list, without connecting', async () => {
    const before = connections.length;
    const rebound = sender({ allow: '', resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const result = await send('email', smtpSettings(), PASSWORD, ctx(rebound));
    expect(result).toEqual({ ok: false, retryable: true, status: null, retryAfterMs: null, error: UNREACHABLE_MESSAGE });
    const mixed = sender({ resolve: async () => [{ address: '127.0.0.1', family: 4 }, { address: '10.1.2.3', family: 4 }] });
    expect(await send('email', smtpSettings(), PASSWORD, ctx(mixed))).toMatchObject({ ok: false, error: UNREACHABLE_MESSAGE });
    const metadata = sender({ resolve: async () => [{ address: '169.254.169.254', family: 4 }] });
    expect(await send('email', smtpSettings(), PASSWORD, ctx(metadata))).toMatchObject({ ok: false, error: UNREACHABLE_MESSAGE });
    expect(connections.length).toBe(before);
  });

  it('refuses a public address on a port that is not an SMTP port', async () => {
    const s = createNodeSmtpSender({ policy: policy(''), resolve: async () => [{ address: '93.184.215.14', family: 4 }], timeoutMs: 1_000 });
    const result = await s.send({ host: 'smtp.example.com', port: 8080, secure: false, from: 'a@example.com', to: ['b@example.com'], subject: 's', text: 't', html: '<p>t</p>', messageId: '<x@example.com>' });
    expect(result).toEqual({ ok: false, retryable: true, status: null, retryAfterMs: null, error: UNREACHABLE_MESSAGE });
  });

  it('a server that accepts the connection but never greets times out: retryable, generic', async () => {
    const tcp = await startTcp(null);
    try {
      const s = createNodeSmtpSender({ policy: policy(`127.0.0.1:${tcp.port}`), timeoutMs: 400 });
      const started = performance.now();
      const result = await s.send({ host: '127.0.0.1', port: tcp.port, secure: false, from: 'a@example.com', to: ['b@example.com'], subject: 's', text: 't', html: '<p>t</p>', messageId: '<x@example.com>' });
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(result).toEqual({ ok: false, retryable: true, status: null, retryAfterMs: null, error: UNREACHABLE_MESSAGE });
    } finally {
      await tcp.close();
    }
  });
});
