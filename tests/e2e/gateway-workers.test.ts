/**
 * GATEWAY_WORKERS=2 (local services mode): a worker that dies leaves no client waiting. Connections
 * being handed to it when it dies are closed (the client sees the connection drop and can retry at
 * once), the other worker serves on, and a replacement starts. With node:cluster's round robin such a
 * connection was held open by the primary and never answered (found by `npm run test:chaos`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, servicesMode } from '../helpers/env.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The gateway's workers: its child processes running scripts/gateway.ts (tsx also starts an esbuild child). */
function workersOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('scripts/gateway.ts');
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}

/**
 * One GET on a new connection: its status, or how it ended without one. The bound only ends a hung
 * request (the failure this file is about); an answer or a dropped connection comes in milliseconds.
 */
function get(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
    });
    req.setTimeout(20_000, () => {
      resolve('no answer');
      req.destroy();
    });
    req.on('error', () => resolve('connection closed'));
  });
}

describe.skipIf(!servicesMode() || process.platform !== 'linux')('gateway workers (GATEWAY_WORKERS=2)', () => {
  let dataDir: string | undefined;
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let gateway: ChildProcess;
  let base: string;
  let ready = 0;
  const waitFor = async (what: string, done: () => boolean) => {
    for (let i = 0; i < 600 && !done(); i++) {
      if (gateway.exitCode !== null) throw new Error(`the gateway exited with ${gateway.exitCode}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!done()) throw new Error(`timed out waiting for ${what}`);
  };

  beforeAll(async () => {
    database = await createDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'observai-workers-'));
    const port = await freePort();
    // node itself, not the tsx binary: the gateway is then the cluster's primary and its workers its children.
    gateway = spawn(process.execPath, ['--import', 'tsx', 'scripts/gateway.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        REDIS_URL: process.env.REDIS_URL ?? '',
        OBSERVAI_DATA_DIR: dataDir,
        PORT: String(port),
        GATEWAY_WORKERS: '2',
        SEED_DEMO: 'false',
        SCHEDULER_ENABLED: 'false',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: gateway.stdout! }).on('line', (line) => {
      if (line.includes('"gateway worker ready"')) ready += 1;
    });
    base = `http://127.0.0.1:${port}/functions/v1/orgs/health`;
    await waitFor('two workers', () => ready >= 2);
  }, 120_000);

  afterAll(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((r) => gateway.once('exit', r));
      gateway.kill('SIGTERM');
      await exited;
    }
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('closes the connections a dying worker was being handed, serves on, and replaces the worker', async () => {
    const workers = workersOf(gateway.pid!);
    expect(workers).toHaveLength(2);
    const [stuck] = workers as [number, number];
    // A stopped worker cannot take the connections handed to it; it is killed while they wait.
    process.kill(stuck, 'SIGSTOP');
    const outcomes = Array.from({ length: 6 }, () => get(base));
    let answered = 0;
    for (const o of outcomes) void o.then(() => (answered += 1));
    await waitFor('the running worker to answer its share', () => answered >= 1);
    process.kill(stuck, 'SIGKILL');
    const results = await Promise.all(outcomes);
    expect(results.filter((r) => r === 'no answer')).toEqual([]);
    expect(results).toContain('200');

    await waitFor('a replacement worker', () => ready >= 3);
    const replaced = workersOf(gateway.pid!);
    expect(replaced).toHaveLength(2);
    expect(replaced).not.toContain(stuck);
    const after = await Promise.all(Array.from({ length: 8 }, () => get(base)));
    expect(after).toEqual(Array(8).fill('200'));
  }, 120_000);
});
