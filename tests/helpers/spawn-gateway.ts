/**
 * `npm start` as a test starts it: the real gateway (scripts/gateway.ts) in a child process, in the
 * embedded mode or, with DATABASE_URL set (the services mode), on a fresh Postgres database and the
 * shared Redis; a temporary data directory; the demo tenant seeded. Stops it and drops what it made.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, servicesMode } from './env.ts';
import { freePort } from './ports.ts';

export interface DemoTenant {
  url: string;
  organizationId: string;
  projectId: string;
  apiKey: string;
  ownerEmail: string;
  ownerPassword: string;
  ownerJwt: string;
  serviceToken: string;
  anonKey: string;
}

export interface SpawnedGateway {
  url: string;
  demo: DemoTenant;
  dataDir: string;
  /** What the gateway printed on stdout so far. */
  stdout(): string;
  stop(): Promise<void>;
}

export async function spawnGateway(opts: { env?: Record<string, string> } = {}): Promise<SpawnedGateway> {
  const cwd = mkdtempSync(join(tmpdir(), 'observai-gw-'));
  const dataDir = join(cwd, '.observai');
  const port = await freePort();
  const database = servicesMode() ? await createDatabase() : undefined;
  let out = '';
  let err = '';
  const proc: ChildProcess = spawn(join(process.cwd(), 'node_modules/.bin/tsx'), [join(process.cwd(), 'scripts/gateway.ts')], {
    cwd,
    env: {
      ...process.env,
      DATABASE_URL: database?.url ?? '',
      REDIS_URL: database ? (process.env.REDIS_URL ?? '') : '',
      JWT_SECRET: randomBytes(36).toString('base64url'),
      HOST: '127.0.0.1',
      PORT: String(port),
      OBSERVAI_DATA_DIR: dataDir,
      SCHEDULER_ENABLED: 'false',
      DEMO_DATA: 'false',
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          proc.kill('SIGKILL');
          resolve();
        }, 10_000);
        proc.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await database?.drop();
    rmSync(cwd, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      if (proc.exitCode !== null) throw new Error(`the gateway exited (${proc.exitCode}):\n${err.slice(-2000)}`);
      try {
        if ((await fetch(`${url}/functions/v1/ingest/health`)).ok) break;
      } catch {
        // starting
      }
      if (i > 400) throw new Error(`the gateway did not start in 80 s:\n${err.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const demo = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')) as DemoTenant;
    return { url, demo, dataDir, stdout: () => out, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
