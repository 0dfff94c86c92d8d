/**
 * The Supabase deploy path without the platform (docs/adr/0007-function-bundles.md):
 * 1. `buildFunctionBundles` (what `npm run build:functions` runs) bundles every function of the table.
 * 2. The real Supabase CLI (npm package `supabase`, pinned) runs `functions deploy --use-api` from a
 *    copy of the project (our supabase/config.toml and supabase/functions, with that build) against a
 *    local stand-in for the Management API, which records what the CLI uploads.
 * 3. Every uploaded file lies in its function's folder, and Deno's own module graph of each bundle
 *    holds nothing but the bundle and `node:` builtins.
 * 4. With Postgres (services mode), each function runs from exactly the files uploaded for it, in a
 *    folder of its own outside the repository, under Deno with the edge runtime's sandbox: read
 *    access to that folder only, network and environment, no write, no npm or remote modules. It
 *    answers its health and one real route against this file's database.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLES_DIR, buildFunctionBundles, bundleReferences, selfContainmentProblems } from '../../scripts/build-functions.ts';
import { FUNCTIONS } from '../../src/app/functions.ts';
import { createTestEnv, servicesMode, TEST_JWT_SECRET, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const run = promisify(execFile);
const DENO = resolve('node_modules/.bin/deno');
const SUPABASE = resolve('node_modules/.bin/supabase');
const NAMES = FUNCTIONS.map((f) => f.name);
const PROJECT_REF = 'abcdefghijklmnopqrst';

interface Upload {
  metadata: { entrypoint_path: string; import_map_path?: string; static_patterns?: string[]; verify_jwt: boolean; name: string };
  files: Map<string, Buffer>;
}

/**
 * The two Management API calls `functions deploy --use-api` makes for several functions: one
 * multipart upload per function (metadata + files), then one bulk update. Anything else is a 404,
 * which the CLI reports.
 */
async function startManagementApi(): Promise<{ url: string; uploads: Map<string, Upload>; server: Server }> {
  const uploads = new Map<string, Upload>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url!, 'http://stand-in');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && url.pathname === `/v1/projects/${PROJECT_REF}/functions/deploy`) {
      const form = await new Request('http://stand-in', { method: 'POST', headers: { 'content-type': req.headers['content-type']! }, body: Buffer.concat(chunks) }).formData();
      const files = new Map<string, Buffer>();
      for (const entry of form.getAll('file')) {
        const file = entry as File;
        files.set(file.name, Buffer.from(await file.arrayBuffer()));
      }
      const slug = url.searchParams.get('slug')!;
      uploads.set(slug, { metadata: JSON.parse(String(form.get('metadata'))), files });
      return json(201, { id: `fn-${slug}`, slug, name: slug, version: 1, status: 'ACTIVE', created_at: Date.now(), updated_at: Date.now(), verify_jwt: false });
    }
    if (req.method === 'PUT' && url.pathname === `/v1/projects/${PROJECT_REF}/functions`) return json(200, { functions: [] });
    return json(404, { message: `the stand-in does not serve ${req.method} ${url.pathname}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, uploads, server };
}

const work = mkdtempSync(join(tmpdir(), 'observai-bundles-'));
const project = join(work, 'project');
let api: Awaited<ReturnType<typeof startManagementApi>>;
let deployOutput = '';

beforeAll(async () => {
  // A copy of what a deploy from the repository can read: config.toml, the functions folder (whose
  // <name>/index.ts folders the CLI also discovers), src/ and deno.json (which the CLI would upload
  // if an entry point still imported them), with a fresh build where config.toml points.
  mkdirSync(join(project, 'supabase'), { recursive: true });
  cpSync('supabase/config.toml', join(project, 'supabase/config.toml'));
  cpSync('supabase/functions', join(project, 'supabase/functions'), { recursive: true, filter: (src) => !relative('supabase/functions', src).startsWith('_bundles') });
  cpSync('src', join(project, 'src'), { recursive: true });
  cpSync('deno.json', join(project, 'deno.json'));
  await buildFunctionBundles({ outDir: join(project, BUNDLES_DIR) });

  api = await startManagementApi();
  const profile = join(work, 'profile.yaml');
  writeFileSync(profile, `name: observai-stand-in\napi_url: ${api.url}\ndashboard_url: ${api.url}/dashboard\nproject_host: stand-in.invalid\n`);
  mkdirSync(join(work, 'home'));
  const { stdout, stderr } = await run(
    SUPABASE,
    ['functions', 'deploy', '--use-api', '--project-ref', PROJECT_REF, '--profile', profile, '--dns-resolver', 'native', '--yes'],
    {
      cwd: project,
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
      env: {
        PATH: process.env.PATH,
        HOME: join(work, 'home'),
        SUPABASE_ACCESS_TOKEN: `sbp_${'0'.repeat(40)}`,
        // Anything the CLI might send past the stand-in goes to a closed local port instead.
        HTTPS_PROXY: 'http://127.0.0.1:9',
        HTTP_PROXY: 'http://127.0.0.1:9',
        NO_PROXY: '127.0.0.1,localhost',
      },
    },
  );
  deployOutput = stdout + stderr;
}, 120_000);

afterAll(async () => {
  await new Promise((r) => api?.server.close(r));
  rmSync(work, { recursive: true, force: true });
});

describe('supabase functions deploy of the bundles', () => {
  it('deploys every function of the table from its bundle, with no import map', () => {
    expect(deployOutput).toContain(`Deployed Functions on project ${PROJECT_REF}`);
    expect([...api.uploads.keys()].sort()).toEqual([...NAMES].sort());
    for (const name of NAMES) {
      expect(api.uploads.get(name)!.metadata).toMatchObject({ name, entrypoint_path: `${BUNDLES_DIR}/${name}/index.js`, import_map_path: '', verify_jwt: false });
    }
  });

  it.each(NAMES)('%s: the upload stays in its folder, and the bundle imports only node: builtins', async (name) => {
    const upload = api.uploads.get(name)!;
    const folder = posix.dirname(upload.metadata.entrypoint_path);
    expect([...upload.files.keys()]).toEqual([upload.metadata.entrypoint_path]);
    const text = upload.files.get(upload.metadata.entrypoint_path)!.toString('utf8');
    // The same check the build makes: imports, what the CLI's upload walker would follow, file: URLs.
    expect(selfContainmentProblems(bundleReferences(text))).toEqual([]);
    expect(folder).toBe(`${BUNDLES_DIR}/${name}`);

    // Deno's own module graph of the file, alone in a folder: the bundle and node: builtins, no npm.
    const alone = join(work, 'info', name);
    mkdirSync(alone, { recursive: true });
    writeFileSync(join(alone, 'index.js'), text);
    const { stdout } = await run(DENO, ['info', '--json', '--no-config', 'index.js'], { cwd: alone, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
    const info = JSON.parse(stdout) as { modules: Array<{ kind: string; specifier: string }>; npmPackages: object; redirects: object };
    expect(info.modules.filter((m) => m.kind !== 'node').map((m) => m.specifier)).toEqual([`file://${join(alone, 'index.js')}`]);
    expect(info.modules.every((m) => m.kind !== 'node' || m.specifier.startsWith('node:'))).toBe(true);
    expect(info.npmPackages).toEqual({});
    // postgres.js is inlined from node_modules, so our patch (patches/postgres+3.4.9.patch) ships:
    // the array parser's NULL handling is a function of the patch's own.
    expect(text).toContain('function arrayElement(');
  });

  it('the check does fail on what the source entry points import', () => {
    // What the CLI would upload with supabase/functions/ingest/index.ts: its parent folder and src/.
    const problems = selfContainmentProblems(bundleReferences(readFileSync('supabase/functions/_shared/serve.ts', 'utf8')));
    expect(problems).toContain(`the CLI would upload ../../../src/app/app.ts, outside the function's folder`);
    expect(selfContainmentProblems(bundleReferences('import { Hono } from "hono";\nconst u = "file:///work/x.ts";'))).toEqual([
      'imports hono (only node: builtins may stay outside the bundle)',
      'names file:///work/x.ts',
    ]);
  });
});

interface Served {
  name: string;
  url: string;
  proc: ChildProcess;
  output: () => string;
}

const EXPORT_KEY = Buffer.alloc(32, 7).toString('base64');

/** Runs one function from exactly its uploaded files, sandboxed as the edge runtime runs it. */
async function serveUpload(name: string, upload: Upload, databaseUrl: string): Promise<Served> {
  const root = join(work, 'deployed', name);
  for (const [path, bytes] of upload.files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), bytes);
  }
  const entry = join(root, upload.metadata.entrypoint_path);
  const folder = dirname(entry);
  const proc = spawn(
    DENO,
    // The edge runtime lets a function read its own files, reach the network and read its secrets;
    // here the network is loopback only (Postgres and the test are there), and nothing else is granted.
    ['run', '--no-config', '--no-npm', '--no-remote', '--no-prompt', `--allow-read=${folder}`, '--allow-net=127.0.0.1', '--allow-env', entry],
    {
      cwd: folder,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}),
        NO_COLOR: '1',
        // The secrets the platform provides (SUPABASE_DB_URL) and the ones docs/DEPLOYMENT.md sets.
        OBSERVAI_MODE: 'supabase',
        SUPABASE_DB_URL: databaseUrl,
        JWT_SECRET: TEST_JWT_SECRET,
        EXPORT_ENCRYPTION_KEY: EXPORT_KEY,
        HOST: '127.0.0.1',
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const port = await new Promise<number>((resolvePort, reject) => {
    // A bound on waiting, so a function that hangs at start fails this file instead of leaking.
    const timer = setTimeout(() => {
      proc.kill();
      reject(new Error(`${name} did not listen within 60 s:\n${output}`));
    }, 60_000);
    const onData = (d: Buffer) => {
      output += d;
      const m = /"port":(\d+),"msg":"listening"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d) => (output += d));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${output}`));
    });
  });
  return { name, url: `http://127.0.0.1:${port}/${name}`, proc, output: () => output };
}

describe.skipIf(!servicesMode())('the uploaded bundles, served in the edge sandbox against Postgres (services mode only: needs DATABASE_URL)', () => {
  let env: TestEnv;
  let t: Tenant;
  const served = new Map<string, Served>();
  // Words to find rows by: one for the log the Node gateway writes, one for what the ingest bundle writes.
  const seed = `bundleseed${Date.now()}`;
  const fresh = `bundleingest${Date.now()}`;

  beforeAll(async () => {
    env = await createTestEnv();
    t = await createTenant(env);
    // Written through the Node gateway, read back through the bundles.
    const res = await env.request('POST', '/functions/v1/ingest', {
      apiKey: t.keyA.secret,
      body: { metrics: [{ name: 'bundle.seed.metric', value: 1, timestamp: Date.now() - 1000 }], logs: [{ timestamp: Date.now() - 1000, message: `seeded ${seed}` }] },
    });
    expect(res.status).toBe(200);
    const started = await Promise.allSettled(NAMES.map((name) => serveUpload(name, api.uploads.get(name)!, env.databaseUrl!)));
    for (const s of started) if (s.status === 'fulfilled') served.set(s.value.name, s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }, 120_000);

  afterAll(async () => {
    for (const s of served.values()) s.proc.kill();
    await env?.close();
  });

  it.each(NAMES)('%s answers its health, with the database reachable', async (name) => {
    const fn = served.get(name)!;
    const bare = await fetch(`${fn.url}/health`);
    expect(bare.status, fn.output()).toBe(200);
    expect(await bare.json()).toEqual({ status: 'ok' });
    const detailed = await fetch(`${fn.url}/health`, { headers: { authorization: `Bearer ${await env.serviceJwt()}` } });
    expect(await detailed.json()).toMatchObject({ status: 'ok', function: name, mode: 'supabase', checks: { database: 'ok' } });
  });

  const user = () => ({ authorization: `Bearer ${t.people.owner.jwt}`, 'content-type': 'application/json' });
  const key = () => ({ 'x-api-key': t.keyA.secret, 'content-type': 'application/json' });
  const cron = (job: string) => async (fn: Served) => {
    // A short budget: the dispatcher ticks until its budget is spent (most of a minute by default).
    const res = await fetch(fn.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${await env.serviceJwt()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ budgetMs: 2000 }),
    });
    const body = (await res.json()) as { run: { id: string; job: string; outcome: string } };
    expect(res.status, fn.output()).toBe(200);
    expect(body.run).toMatchObject({ job, outcome: 'ok' });
    const [row] = await env.db.query<{ outcome: string }>('select outcome from private.job_runs where id = $1', [body.run.id]);
    expect(row!.outcome).toBe('ok');
  };

  // One real route per function: each reads or writes rows of this file's database.
  const routes: Record<string, (fn: Served) => Promise<void>> = {
    async ingest(fn) {
      const res = await fetch(fn.url, { method: 'POST', headers: key(), body: JSON.stringify({ logs: [{ timestamp: Date.now() - 500, message: `from the ingest bundle ${fresh}` }] }) });
      expect(res.status, fn.output()).toBe(200);
      expect(await res.json()).toMatchObject({ accepted: 1, rejected: 0 });
      const rows = await env.db.query('select 1 from public.logs where project_id = $1 and message = $2', [t.projectA, `from the ingest bundle ${fresh}`]);
      expect(rows).toHaveLength(1);
    },
    async metrics(fn) {
      const res = await fetch(`${fn.url}/names?projectId=${t.projectA}`, { headers: key() });
      expect(res.status, fn.output()).toBe(200);
      expect(((await res.json()) as { metrics: Array<{ name: string }> }).metrics.map((m) => m.name)).toContain('bundle.seed.metric');
    },
    async logs(fn) {
      const res = await fetch(`${fn.url}/search?projectId=${t.projectA}&q=${seed}`, { headers: key() });
      expect(res.status, fn.output()).toBe(200);
      expect(((await res.json()) as { logs: Array<{ message: string }> }).logs.map((l) => l.message)).toEqual([`seeded ${seed}`]);
    },
    async anomalies(fn) {
      const res = await fetch(`${fn.url}/configs`, { method: 'PUT', headers: user(), body: JSON.stringify({ projectId: t.projectA, metric: 'bundle.seed.metric' }) });
      expect(res.ok, fn.output()).toBe(true);
      const rows = await env.db.query<{ metric: string }>('select metric from public.anomaly_configs where project_id = $1', [t.projectA]);
      expect(rows.map((r) => r.metric)).toEqual(['bundle.seed.metric']);
    },
    async 'api-keys'(fn) {
      const res = await fetch(fn.url, { headers: user() });
      expect(res.status, fn.output()).toBe(200);
      expect(((await res.json()) as { apiKeys: Array<{ id: string }> }).apiKeys.map((k) => k.id)).toContain(t.keyA.id);
    },
    async orgs(fn) {
      const res = await fetch(fn.url, { headers: user() });
      expect(res.status, fn.output()).toBe(200);
      // RLS decides: the owner's organization, not the other tenant's.
      const ids = ((await res.json()) as { organizations: Array<{ id: string }> }).organizations.map((o) => o.id);
      expect(ids).toEqual([t.orgId]);
    },
    async billing(fn) {
      const res = await fetch(`${fn.url}/plans`, { headers: user() });
      expect(res.status, fn.output()).toBe(200);
      expect(((await res.json()) as { plans: Array<{ id: string }> }).plans.map((p) => p.id)).toEqual(['free', 'pro', 'enterprise']);
    },
    async alerts(fn) {
      const rule = { key: `bundle-${fresh}`, name: 'BundleRule', kind: 'metric', query: { metric: 'bundle.seed.metric' }, condition: { op: '>', critical: 1 } };
      const res = await fetch(`${fn.url}/rules`, { method: 'POST', headers: user(), body: JSON.stringify({ projectId: t.projectA, rule }) });
      expect(res.status, fn.output()).toBe(201);
      const rows = await env.db.query<{ name: string }>('select name from public.alert_rules where project_id = $1 and key = $2', [t.projectA, rule.key]);
      expect(rows.map((r) => r.name)).toEqual(['BundleRule']);
    },
    async webhooks(fn) {
      const [ep] = await env.db.query<{ id: string }>(
        `insert into public.webhook_endpoints (organization_id, project_id, url, event_types, secret_ciphertext)
         values ($1, $2, 'https://hooks.example.com/bundle', '{alert.*}', 'v1.0123456789abcdef.aaaa.bbbb') returning id`,
        [t.orgId, t.projectA],
      );
      const res = await fetch(`${fn.url}/endpoints?projectId=${t.projectA}`, { headers: user() });
      expect(res.status, fn.output()).toBe(200);
      expect(((await res.json()) as { endpoints: Array<{ id: string }> }).endpoints.map((e) => e.id)).toContain(ep!.id);
    },
    async oncall(fn) {
      // Events v2: no JWT, the routing key in the body is the credential.
      const routingKey = `bundle${fresh}`.padEnd(32, 'k').slice(0, 32);
      const [svc] = await env.db.query<{ id: string }>(
        `insert into public.oncall_services (organization_id, project_id, name, integration_key_hash)
         values ($1, $2, $3, encode(sha256(convert_to($4, 'UTF8')), 'hex')) returning id`,
        [t.orgId, t.projectA, `bundle-${fresh}`, routingKey],
      );
      const res = await fetch(`${fn.url}/v2/enqueue`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ routing_key: routingKey, event_action: 'trigger', dedup_key: 'bundle', payload: { summary: 'From the bundle', source: 'bundle', severity: 'critical' } }),
      });
      expect(res.status, fn.output()).toBe(202);
      expect(await res.json()).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'bundle' });
      const rows = await env.db.query<{ title: string }>('select title from public.incidents where service_id = $1', [svc!.id]);
      expect(rows.map((r) => r.title)).toEqual(['From the bundle']);
    },
    'cron-aggregate-metrics': cron('aggregate-metrics'),
    'cron-detect-anomalies': cron('detect-anomalies'),
    'cron-cleanup-retention': cron('cleanup-retention'),
    'cron-export-telemetry': cron('export-telemetry'),
    'cron-evaluate-alerts': cron('evaluate-alerts'),
    'cron-dispatch-notifications': cron('dispatch-notifications'),
    'cron-deliver-webhooks': cron('deliver-webhooks'),
    'cron-escalate-incidents': cron('escalate-incidents'),
    'cron-meter-usage': cron('meter-usage'),
  };

  it('has a route case for every function of the table', () => {
    expect(Object.keys(routes).sort()).toEqual([...NAMES].sort());
  });

  it.each(NAMES)('%s serves a real route', async (name) => {
    await routes[name]!(served.get(name)!);
  });
});
