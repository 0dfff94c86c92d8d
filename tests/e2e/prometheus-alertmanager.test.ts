/**
 * Prometheus itself as the sender of our Alertmanager API v2 (issue 18, item 7), configured as a user
 * would: `alerting.alertmanagers[]` with `path_prefix: /functions/v1/alerts`, `api_version: v2` and
 * the project's ingest key as `authorization.credentials`. Debian's `prometheus` (2.42 on Debian 12)
 * scrapes a local target whose `demo_value` the test switches, evaluates a rule that fires while it
 * is above 0, and sends its alerts to the gateway on a real socket. The dispatcher (ticked here, with
 * the real clock) routes them through a policy made through the API to an `alertmanager` contact
 * point, a local recording receiver: the test sees the firing notification, then, when the value
 * falls to 0, the resolved notice for the same group, and nothing more while Prometheus keeps
 * re-sending the resolved alert. Every request Prometheus made is recorded (headers, body, our
 * answer) and must have been answered 200.
 *
 * Runs in both modes (it needs no Postgres binaries). Outside CI it is skipped when the prometheus
 * binary is not installed; in CI (CI=true) it fails instead (.ci/run installs the package).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchTick } from '../../src/alerts/dispatch-notifications.ts';
import type { AlertmanagerPayload } from '../../src/alerts/notifiers/alertmanager.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');
/** How long each wait for Prometheus may take, and how often the dispatcher ticks meanwhile. */
const WAIT_MS = 60_000;
const TICK_MS = 500;
/** The prometheus process never outlives this, even if the test process dies (coreutils `timeout`). */
const PROMETHEUS_LIFETIME_S = 300;

function findPrometheus(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat('/usr/bin')) {
    const file = join(dir, 'prometheus');
    if (dir && existsSync(file)) return file;
  }
  return undefined;
}

const prometheusBin = findPrometheus();
const skipReason =
  prometheusBin === undefined && process.env.CI !== 'true' ? 'prometheus is not installed: apt-get install prometheus (Debian 12 ships 2.42)' : undefined;
// The default reporter shows a skipped file without its describe name: say why here.
if (skipReason) console.info(`prometheus-alertmanager.test.ts skipped: ${skipReason}`);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What Prometheus sent to the gateway, and what the gateway answered. */
interface Exchange {
  at: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  status: number;
  answer: string;
}

interface PostedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

describe.skipIf(skipReason !== undefined)(skipReason ? `Prometheus -> Alertmanager API v2 (skipped: ${skipReason})` : 'Prometheus -> Alertmanager API v2', () => {
  let env: TestEnv;
  let t: Tenant;
  let hook: Receiver;
  let gateway: ServerType | undefined;
  let gatewayPort: number;
  let target: Server | undefined;
  let demoValue = 1;
  let prometheus: ChildProcess | undefined;
  let prometheusPort: number;
  let prometheusExit: string | undefined;
  const prometheusLog: string[] = [];
  const exchanges: Exchange[] = [];
  let dir: string | undefined;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await env.request(method, `/functions/v1/alerts${path}`, { token: t.people.owner.jwt, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const notifications = () => hook.received.map((r) => JSON.parse(r.body) as AlertmanagerPayload);
  const posted = () => exchanges.filter((e) => e.path === '/functions/v1/alerts/api/v2/alerts').flatMap((e) => JSON.parse(e.body) as PostedAlert[]);
  /** Enough of Prometheus's log and of its requests to tell why a wait ran out. */
  const diagnosis = () =>
    [
      prometheusExit ? `prometheus exited: ${prometheusExit}` : 'prometheus running',
      `requests to the gateway: ${exchanges.map((e) => `${e.method} ${e.path} -> ${e.status} ${e.answer.slice(0, 300)}`).join('; ') || 'none'}`,
      `receiver got ${hook.received.length}: ${hook.received.map((r) => r.body.slice(0, 300)).join('; ')}`,
      'prometheus log (tail):',
      ...prometheusLog.slice(-30),
    ].join('\n');

  /** Ticks the dispatcher every TICK_MS until `done` holds, for at most WAIT_MS. */
  const tickUntil = async (what: string, done: () => boolean) => {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      await dispatchTick(env.deps).catch((err: Error & { query?: string }) => {
        // A database error alone does not say which statement failed: name it.
        throw new Error(`dispatchTick failed: ${err.message}${err.query ? `\nin: ${err.query}` : ''}`, { cause: err });
      });
      if (done()) return;
      if (Date.now() > deadline || prometheusExit) throw new Error(`timed out waiting for ${what}\n${diagnosis()}`);
      await sleep(TICK_MS);
    }
  };

  beforeAll(async () => {
    if (!prometheusBin) throw new Error('CI must install the Prometheus test\'s package (.ci/run): the prometheus binary is missing');
    dir = mkdtempSync(join(tmpdir(), 'observai-prometheus-'));
    hook = await startReceiver();
    env = await createTestEnv({ env: { OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${hook.port}`, SECRET_ENCRYPTION_KEY: KEY } });
    t = await createTenant(env);

    // The gateway on a real socket, recording every request Prometheus makes and our answer.
    const app = env.app;
    await new Promise<void>((resolve) => {
      gateway = serve(
        {
          fetch: async (req: Request, ...rest: unknown[]) => {
            const body = await req.clone().text();
            const res = await (app.fetch as (r: Request, ...a: unknown[]) => Response | Promise<Response>)(req, ...rest);
            exchanges.push({
              at: Date.now(),
              method: req.method,
              path: new URL(req.url).pathname,
              headers: Object.fromEntries(req.headers),
              body,
              status: res.status,
              answer: await res.clone().text(),
            });
            return res;
          },
          hostname: '127.0.0.1',
          port: 0,
        },
        () => resolve(),
      );
    });
    gatewayPort = (gateway!.address() as AddressInfo).port;

    // The scrape target: one gauge in the Prometheus text format, its value switched by the test.
    target = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(`# HELP demo_value A value the test switches.\n# TYPE demo_value gauge\ndemo_value ${demoValue}\n`);
    });
    await new Promise<void>((resolve) => target!.listen(0, '127.0.0.1', resolve));
    const targetPort = (target.address() as AddressInfo).port;

    // What a user sets up: a contact point and a policy, through the API.
    const cp = await api('POST', '/contact-points', { projectId: t.projectA, name: 'ops', kind: 'alertmanager', settings: { url: `${hook.url}/am` } });
    expect(cp.status, JSON.stringify(cp.body)).toBe(201);
    const policy = await api('PUT', '/policy', {
      projectId: t.projectA,
      policy: { route: { receiver: 'ops', group_by: ['alertname'], group_wait: '1s', group_interval: '1s', repeat_interval: '4h' } },
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(200);

    // Prometheus's configuration, as JSON (YAML's subset, so no quoting to get wrong).
    prometheusPort = await freePort();
    const rules = {
      groups: [
        {
          name: 'demo',
          rules: [{ alert: 'DemoHigh', expr: 'demo_value > 0', for: '0s', labels: { severity: 'critical' }, annotations: { summary: 'demo is {{ $value }}' } }],
        },
      ],
    };
    writeFileSync(join(dir, 'rules.yml'), JSON.stringify(rules, null, 2));
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yml')],
      scrape_configs: [{ job_name: 'demo', static_configs: [{ targets: [`127.0.0.1:${targetPort}`] }] }],
      alerting: {
        alertmanagers: [
          {
            scheme: 'http',
            path_prefix: '/functions/v1/alerts',
            api_version: 'v2',
            timeout: '5s',
            static_configs: [{ targets: [`127.0.0.1:${gatewayPort}`] }],
            authorization: { type: 'Bearer', credentials: t.keyA.secret },
          },
        ],
      },
    };
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const args = [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      `--web.external-url=http://127.0.0.1:${prometheusPort}/`,
      '--rules.alert.resend-delay=1s',
    ];
    // Fail early on a config Prometheus rejects, with its own words.
    execFileSync(prometheusBin.replace(/prometheus$/, 'promtool'), ['check', 'config', join(dir, 'prometheus.yml')], { stdio: 'pipe', timeout: 30_000 });
    prometheus = spawn('timeout', ['-k', '5', String(PROMETHEUS_LIFETIME_S), prometheusBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [prometheus.stdout!, prometheus.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        prometheusLog.push(...chunk.split('\n').filter((l) => l.trim() !== ''));
        if (prometheusLog.length > 500) prometheusLog.splice(0, prometheusLog.length - 500);
      });
    }
    prometheus.on('exit', (code, signal) => {
      prometheusExit = `code ${code}, signal ${signal}`;
    });
  });

  afterAll(async () => {
    if (prometheus && prometheusExit === undefined) {
      const exited = new Promise<void>((resolve) => prometheus!.once('exit', () => resolve()));
      prometheus.kill('SIGTERM'); // `timeout` passes it on to prometheus
      const killer = setTimeout(() => prometheus!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    if (gateway) {
      (gateway as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => gateway!.close(() => resolve()));
    }
    if (target) {
      target.closeAllConnections();
      await new Promise<void>((resolve) => target!.close(() => resolve()));
    }
    await hook?.close();
    await env?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'a rule that fires in Prometheus reaches the receiver routed and grouped; its resolution follows once',
    async () => {
      // Firing: Prometheus scrapes 1, the rule fires, it sends the alert, the dispatcher routes it.
      await tickUntil('the firing notification', () => notifications().some((n) => n.status === 'firing'));
      const firstPost = exchanges.find((e) => e.path.endsWith('/api/v2/alerts'))!;
      const fired = notifications()[0]!;
      const firingLatency = hook.received[0]!.at - firstPost.at;

      // What Prometheus sent, and that we took it.
      expect(firstPost.method).toBe('POST');
      expect(firstPost.headers['content-type']).toBe('application/json');
      expect(firstPost.headers.authorization).toBe(`Bearer ${t.keyA.secret}`);
      expect(firstPost.headers['user-agent']).toMatch(/^Prometheus\//);
      expect(exchanges.filter((e) => e.status !== 200), diagnosis()).toEqual([]);
      const sent = posted()[0]!;
      expect(sent.labels).toEqual({ alertname: 'DemoHigh', severity: 'critical', job: 'demo', instance: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
      expect(sent.annotations).toEqual({ summary: 'demo is 1' });
      expect(Date.parse(sent.endsAt)).toBeGreaterThan(Date.parse(sent.startsAt));

      // The notification: routed to `ops`, grouped by alertname, in Alertmanager's webhook format.
      expect(hook.received[0]!.path).toBe('/am');
      expect(fired).toMatchObject({
        version: '4',
        status: 'firing',
        receiver: 'ops',
        groupLabels: { alertname: 'DemoHigh' },
        commonLabels: { alertname: 'DemoHigh', severity: 'critical', job: 'demo' },
        commonAnnotations: { summary: 'demo is 1' },
      });
      expect(fired.alerts).toHaveLength(1);
      expect(fired.alerts[0]).toMatchObject({
        status: 'firing',
        labels: { alertname: 'DemoHigh', severity: 'critical' },
        annotations: { summary: 'demo is 1' },
        endsAt: '0001-01-01T00:00:00Z',
      });
      expect(fired.alerts[0]!.generatorURL).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${prometheusPort}/graph\\?g0\\.expr=`));
      expect(decodeURIComponent(new URL(fired.alerts[0]!.generatorURL).searchParams.get('g0.expr')!)).toBe('demo_value > 0');

      // Stored: one firing external instance, Prometheus's generatorURL kept.
      const firing = await api('GET', `/instances?projectId=${t.projectA}&state=firing`);
      expect(firing.status).toBe(200);
      expect(firing.body.instances).toHaveLength(1);
      expect(firing.body.instances[0]).toMatchObject({
        source: 'external',
        ruleId: null,
        state: 'firing',
        severity: 'critical',
        labels: sent.labels,
        annotations: { summary: 'demo is 1' },
        generatorUrl: fired.alerts[0]!.generatorURL,
      });

      // Re-sends renew the lease and notify nobody (repeat_interval is 4h).
      const postsBefore = posted().length;
      await tickUntil('Prometheus to re-send the firing alert twice', () => posted().length >= postsBefore + 2);
      expect(hook.received).toHaveLength(1);

      // The value falls: Prometheus sends the alert resolved; the group's resolved notice follows.
      demoValue = 0;
      const clearedAt = Date.now();
      await tickUntil('the resolved notice', () => notifications().some((n) => n.status === 'resolved'));
      const resolvedLatency = hook.received[1]!.at - clearedAt;
      const resolvedPost = exchanges.find((e) => e.at >= clearedAt && e.path.endsWith('/api/v2/alerts') && (JSON.parse(e.body) as PostedAlert[]).some((a) => Date.parse(a.endsAt) <= e.at));
      expect(resolvedPost, diagnosis()).toBeDefined();
      const resolved = notifications()[1]!;
      expect(resolved).toMatchObject({ version: '4', status: 'resolved', receiver: 'ops', groupKey: fired.groupKey, groupLabels: { alertname: 'DemoHigh' } });
      expect(resolved.alerts).toHaveLength(1);
      expect(resolved.alerts[0]).toMatchObject({ status: 'resolved', labels: sent.labels, fingerprint: fired.alerts[0]!.fingerprint });
      expect(Date.parse(resolved.alerts[0]!.endsAt)).toBeGreaterThanOrEqual(Date.parse(resolved.alerts[0]!.startsAt));

      // Prometheus keeps sending the resolved alert (for 15 minutes): harmless, nothing more is sent.
      const postsAfter = posted().length;
      await tickUntil('Prometheus to re-send the resolved alert twice', () => posted().length >= postsAfter + 2);
      await dispatchTick(env.deps);
      expect(hook.received).toHaveLength(2);
      expect(exchanges.filter((e) => e.status !== 200), diagnosis()).toEqual([]);

      // Stored: resolved, with its transitions, newest first.
      const after = await api('GET', `/instances?projectId=${t.projectA}`);
      expect(after.body.instances).toHaveLength(1);
      expect(after.body.instances[0]).toMatchObject({ state: 'resolved', source: 'external', labels: sent.labels });
      const history = await api('GET', `/history?projectId=${t.projectA}`);
      expect(history.status).toBe(200);
      expect(history.body.transitions.map((h: { fromState: string; toState: string }) => `${h.fromState}->${h.toState}`)).toEqual(['firing->resolved', 'inactive->firing']);
      const log = await api('GET', `/notifications?projectId=${t.projectA}`);
      expect(log.body.notifications.map((n: { status: string }) => n.status)).toEqual(['sent', 'sent']);

      if (process.env.PROMETHEUS_TEST_REPORT) {
        console.info(
          JSON.stringify(
            {
              prometheus: execFileSync(prometheusBin!, ['--version'], { encoding: 'utf8' }).split('\n')[0],
              firstRequest: { method: firstPost.method, path: firstPost.path, headers: { ...firstPost.headers, authorization: 'Bearer <keyA>' }, body: JSON.parse(firstPost.body) },
              resolvedRequest: { body: JSON.parse(resolvedPost!.body) },
              requests: exchanges.length,
              statuses: [...new Set(exchanges.map((e) => e.status))],
              intervalsBetweenPostsMs: exchanges.slice(1, 8).map((e, i) => e.at - exchanges[i]!.at),
              firingLatencyMs: firingLatency,
              startsAtToNotificationMs: hook.received[0]!.at - Date.parse(sent.startsAt),
              clearedToResolvedPostMs: resolvedPost!.at - clearedAt,
              resolvedLatencyMs: resolvedLatency,
              notifications: notifications(),
            },
            null,
            2,
          ),
        );
      }
    },
    4 * WAIT_MS,
  );
});
