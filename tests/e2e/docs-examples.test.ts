/**
 * The curl examples in README.md and docs/API.md work as written: every ```sh block that calls curl
 * (and installs or deploys nothing) runs under bash against a freshly started gateway, with the demo
 * tenant's credentials in the variables the docs use. Each curl must answer without an error envelope.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, servicesMode } from '../helpers/env.ts';

function shellBlocks(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('curl') && !/\b(npm|createdb|supabase)\b/.test(b));
}

const blocks = [...shellBlocks('README.md').map((b) => ['README.md', b] as const), ...shellBlocks('docs/API.md').map((b) => ['docs/API.md', b] as const)];

describe('documented curl examples', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'observai-docs-'));
  let proc: ChildProcess;
  let port = 0;
  let database: Awaited<ReturnType<typeof createDatabase>> | undefined;
  let vars: Record<string, string>;

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
    // The variables as API.md tells a reader to set them ("Trying the examples"), from demo.json.
    const preamble = /\*\*Trying the examples\.\*\*[\s\S]*?```\n([\s\S]*?)```/.exec(readFileSync('docs/API.md', 'utf8'))?.[1];
    expect(preamble, 'API.md defines the examples\' variables').toBeDefined();
    const names = ['JWT', 'API_KEY', 'ORG', 'PROJECT', 'SERVICE_JWT'];
    const printed = execFileSync('bash', ['-c', `set -eo pipefail\n${preamble}\nprintf '%s\\n' ${names.map((n) => `"$${n}"`).join(' ')}`], { cwd, encoding: 'utf8' });
    vars = Object.fromEntries(printed.trim().split('\n').map((v, i) => [names[i]!, v]));
    const demo = JSON.parse(readFileSync(join(cwd, '.observai', 'demo.json'), 'utf8'));
    expect(vars).toEqual({ JWT: demo.ownerJwt, API_KEY: demo.apiKey, ORG: demo.organizationId, PROJECT: demo.projectId, SERVICE_JWT: demo.serviceToken });
  }, 90_000);
  afterAll(async () => {
    proc?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await database?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('finds the examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
  });

  it.each(blocks.map(([file, block], i) => [`${file} #${i}`, block]))('%s runs', (_, block) => {
    const script = `set -eo pipefail\n${block.replaceAll('localhost:54321', `127.0.0.1:${port}`)}`;
    const out = execFileSync('bash', ['-c', script], { cwd, env: { ...process.env, ...vars }, encoding: 'utf8', timeout: 30_000 });
    expect(out.trim().length).toBeGreaterThan(0);
    // An error envelope, not the word: log answers carry levels such as "error".
    expect(out).not.toMatch(/\{\s*"error"\s*:\s*\{/);
    if (block.includes('/functions/v1/ingest -H')) expect(out).toMatch(/"accepted":[1-9]/);
  });
});
