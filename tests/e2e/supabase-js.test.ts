/**
 * docs/SUPABASE-JS.md as written: its set-up block (the real supabase-js 2.109 `createClient` with
 * `ws` on Node 20 and the generated Database type), its error-unwrapping block and every
 * `functions.invoke` example run, in that order, as one module under tsx against a freshly started
 * gateway (`npm start`), from the directory holding its `.observai/demo.json`. The blocks that need
 * a browser (EventSource) or hosted Supabase (`.from()`, Realtime) are not run here.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type WebSocketLikeConstructor } from '@supabase/supabase-js';
import ws from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Tables } from '../../supabase/types/database.ts';
import { createDatabase, servicesMode } from '../helpers/env.ts';

const DOC = 'docs/SUPABASE-JS.md';

/** The ```ts blocks of the doc that run outside a browser and without hosted Supabase. */
function runnableBlocks(): string[] {
  const text = readFileSync(DOC, 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => !/EventSource|\.from\(|\.channel\(/.test(b));
}

describe('docs/SUPABASE-JS.md with the real supabase-js client', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'observai-sbjs-'));
  let proc: ChildProcess;
  let port = 0;
  let database: Awaited<ReturnType<typeof createDatabase>> | undefined;

  beforeAll(async () => {
    port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    database = servicesMode() ? await createDatabase() : undefined;
    proc = spawn(join(process.cwd(), 'node_modules/.bin/tsx'), [join(process.cwd(), 'scripts/gateway.ts')], {
      cwd,
      env: { ...process.env, DATABASE_URL: database?.url ?? '', REDIS_URL: database ? (process.env.REDIS_URL ?? '') : '', PORT: String(port), OBSERVAI_DATA_DIR: join(cwd, '.observai'), SCHEDULER_ENABLED: 'false', DEMO_DATA: 'false', LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/functions/v1/ingest/health`)).ok) break;
      } catch {
        // starting
      }
      if (i > 300) throw new Error('gateway did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 90_000);
  afterAll(async () => {
    proc?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await database?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('has a set-up block, an error block and an invoke example for every function', () => {
    const blocks = runnableBlocks();
    expect(blocks[0]).toContain('createClient<Database>');
    const invoked = new Set(blocks.flatMap((b) => [...b.matchAll(/functions\.invoke\([`'](cron-|[a-z-]+)/g)].map((m) => m[1])));
    for (const fn of ['orgs', 'api-keys', 'ingest', 'metrics', 'logs', 'alerts', 'anomalies', 'webhooks', 'oncall', 'cron-']) expect(invoked, fn).toContain(fn);
  });

  it('runs every example as written', () => {
    const blocks = runnableBlocks();
    const [setup, ...rest] = blocks;
    // One module: imports first (the set-up's and the error block's), then each example in its own scope.
    const lines = [setup!, ...rest].join('\n').split('\n');
    const imports = lines.filter((l) => l.startsWith('import ')).map((l) => l.replace("'../supabase/types/database.ts'", JSON.stringify(join(process.cwd(), 'supabase/types/database.ts'))));
    const body = (b: string) => b.split('\n').filter((l) => !l.startsWith('import ')).join('\n');
    const module = [
      ...imports,
      body(setup!).replace("readFileSync('.observai/demo.json'", `readFileSync(${JSON.stringify(join(cwd, '.observai/demo.json'))}`),
      ...rest.map((b, i) => `console.log('@@ block ${i + 1}');\n{\n${body(b)}\n}`),
      "console.log('@@ done');",
    ].join('\n');
    // The module sits in the repository (git-ignored .tmp/) so that it resolves the packages as the doc's reader would.
    mkdirSync('.tmp', { recursive: true });
    const file = join(process.cwd(), '.tmp', `supabase-js-doc-${process.pid}.ts`);
    writeFileSync(file, module);
    let out: string;
    try {
      out = execFileSync(join(process.cwd(), 'node_modules/.bin/tsx'), [file], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    } finally {
      rmSync(file, { force: true });
    }
    expect(out).toContain('@@ done');
    // The error block shows the envelope unwrapped from error.context.
    expect(out).toMatch(/400 VALIDATION_FAILED body\.queries/);
    // The ingest example's answer, and the cron job's.
    expect(out).toMatch(/accepted: 2/);
    expect(out).toMatch(/^ok$/m);
  }, 90_000);

  it('compiles against the generated Database type (tsc checks this file)', async () => {
    const demo = JSON.parse(readFileSync(join(cwd, '.observai/demo.json'), 'utf8'));
    const supabase = createClient<Database>(demo.url, demo.anonKey, { accessToken: async () => demo.ownerJwt, realtime: { transport: ws as unknown as WebSocketLikeConstructor } });
    // Typed: the row type is the table's readable columns. Locally there is no PostgREST behind the
    // URL, so the call itself fails (that is the table above); only the types are the point here.
    const query = supabase.from('alert_rules').select('id, name, kind').eq('project_id', demo.projectId);
    const row: Pick<Tables<'alert_rules'>, 'id' | 'name' | 'kind'> | undefined = (await query).data?.[0];
    expect(row).toBeUndefined();
  });
});
