/**
 * The receivers in docs/webhooks.md work as written: each ```ts block that starts with
 * `// webhook receiver (Node)` or `// webhook receiver (Deno)` runs as is (Node through tsx, Deno
 * through the npm package `deno`), real deliveries from the deliver-webhooks job verify with the
 * `standardwebhooks` package there, and requests signed with another secret, with an altered body or
 * timestamp, or stale, get a 400.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/core/secret-box.ts';
import { generateWebhookSecret, standardWebhookHeaders } from '../../src/net/standard-webhooks.ts';
import { deliverDueWebhooks } from '../../src/webhooks/deliver-webhooks.ts';
import { freePort } from '../helpers/ports.ts';
import { createTestEnv, servicesMode, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const KEY = Buffer.alloc(32, 3).toString('base64');
const DOC = readFileSync('docs/webhooks.md', 'utf8');
const block = (title: string) => {
  const found = [...DOC.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.startsWith(`// webhook receiver (${title})`));
  if (!found) throw new Error(`docs/webhooks.md has no receiver block for ${title}`);
  return found;
};

/** Runs a documented receiver; resolves once it accepts connections. */
async function startDocReceiver(kind: 'Node' | 'Deno', dir: string, secret: string) {
  const port = await freePort();
  const file = join(dir, `receiver-${kind.toLowerCase()}.ts`);
  writeFileSync(file, block(kind));
  const [cmd, args] =
    kind === 'Node' ? ['node_modules/.bin/tsx', [file]] : ['node_modules/.bin/deno', ['run', '--allow-net', '--allow-env', '--allow-read', file]];
  let output = '';
  const proc: ChildProcess = spawn(cmd, args, { env: { ...process.env, WEBHOOK_SECRET: secret, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}/hook`;
  for (let i = 0; ; i++) {
    const up = await fetch(url, { method: 'POST', body: '{}' }).then(() => true, () => false);
    if (up) break;
    if (i > 300 || proc.exitCode !== null) throw new Error(`the ${kind} receiver did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port, proc, output: () => output };
}

describe.skipIf(!servicesMode())('documented webhook receivers', () => {
  const dir = join(process.cwd(), '.tmp', `webhook-receivers-${process.pid}`);
  const secret = generateWebhookSecret();
  let env: TestEnv;
  let t: Tenant;
  const receivers: Record<'Node' | 'Deno', Awaited<ReturnType<typeof startDocReceiver>>> = {} as never;

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    receivers.Node = await startDocReceiver('Node', dir, secret);
    receivers.Deno = await startDocReceiver('Deno', dir, secret);
    env = await createTestEnv({
      env: { OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${receivers.Node.port},127.0.0.1:${receivers.Deno.port}`, SECRET_ENCRYPTION_KEY: KEY },
    });
    t = await createTenant(env);
  }, 120_000);

  afterAll(async () => {
    for (const r of Object.values(receivers)) r?.proc.kill();
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ['Node', 'Deno'] as const) {
    it(`${kind}: a real delivery verifies; forged, altered and stale requests get 400`, async () => {
      const r = receivers[kind];
      const id = crypto.randomUUID();
      await env.db.query(
        `insert into public.webhook_endpoints (id, organization_id, project_id, url, event_types, secret_ciphertext) values ($1, $2, $3, $4, '{api_key.*}', $5)`,
        [id, t.orgId, t.projectA, r.url, await (await createSecretBox(KEY)).seal(secret, id)],
      );
      await env.db.query(
        `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, $3, $4, $5, array['read'])`,
        [t.orgId, t.projectA, kind, `recv${kind.toLowerCase()}00000`.slice(0, 12), 'c'.repeat(64)],
      );
      expect(await deliverDueWebhooks(env.deps, Date.now())).toMatchObject({ delivered: 1 });
      const [m] = await env.db.query<{ last_status: number; event_id: string }>('select last_status, event_id from public.webhook_messages where endpoint_id = $1', [id]);
      expect(m!.last_status).toBe(204);
      expect(r.output()).toContain(`verified api_key.created msg_${m!.event_id.replaceAll('-', '')}`);
      await env.db.query('delete from public.webhook_endpoints where id = $1', [id]);

      const body = JSON.stringify({ type: 'webhook.test', timestamp: new Date().toISOString(), data: { id: 'x' } });
      const post = async (b: string, headers: Record<string, string>) => (await fetch(r.url, { method: 'POST', body: b, headers })).status;
      const now = Math.floor(Date.now() / 1000);
      const good = await standardWebhookHeaders([secret], 'msg_forgery0', now, body);
      expect(await post(body, good)).toBe(204);
      expect(await post(body.replace('webhook.test', 'alert.firing'), good)).toBe(400);
      expect(await post(body, { ...good, 'webhook-timestamp': String(now + 1) })).toBe(400);
      expect(await post(body, await standardWebhookHeaders([generateWebhookSecret()], 'msg_forgery1', now, body))).toBe(400);
      expect(await post(body, await standardWebhookHeaders([secret], 'msg_forgery2', now - 600, body))).toBe(400);
      expect(await post(body, {})).toBe(400);
    }, 60_000);
  }
});
