import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';

/**
 * The dashboard (dashboard/, a Next.js static export) as the Node gateway serves it, and its build.
 * The export is plain files: every page is a client component that reads through the functions
 * under the user's session, so the gateway serves them from `dashboard/out` at `/` next to
 * /functions/v1 and /auth/v1 (one origin: no CORS, one URL to open). docs/DASHBOARD.md.
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The app's folder; DASHBOARD_DIR points a gateway (and its build) at another copy (development). */
export const DASHBOARD_DIR = resolve(process.env.DASHBOARD_DIR || join(REPO, 'dashboard'));
export const DASHBOARD_OUT = join(DASHBOARD_DIR, 'out');
const HASH_FILE = '.build-hash';

/** What the build depends on: the app's sources, its config and the typed client it imports. */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  for (const d of ['app', 'components', 'lib', 'public']) if (existsSync(join(DASHBOARD_DIR, d))) walk(join(DASHBOARD_DIR, d));
  for (const f of ['next.config.mjs', 'package.json', 'tsconfig.json']) out.push(join(DASHBOARD_DIR, f));
  out.push(join(REPO, 'packages/sdk/src/query.ts'), join(REPO, 'packages/sdk/src/api-types.ts'), join(REPO, 'node_modules/next/package.json'));
  return out.filter((f) => existsSync(f)).sort();
}

/** A digest of the sources: the build in `out/` is current when it recorded the same one. */
export function dashboardSourceHash(): string {
  const h = createHash('sha256');
  for (const f of sourceFiles()) h.update(f.slice(REPO.length)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 32);
}

export type BuildState = 'current' | 'stale' | 'missing';

export function dashboardBuildState(outDir = DASHBOARD_OUT): BuildState {
  const file = join(outDir, HASH_FILE);
  if (!existsSync(join(outDir, 'index.html')) || !existsSync(file)) return 'missing';
  return readFileSync(file, 'utf8').trim() === dashboardSourceHash() ? 'current' : 'stale';
}

/**
 * `next build` when the export is missing or older than its sources; one build at a time on this
 * checkout (a lock file; a second caller waits for the first and then finds the export current).
 * Resolves when the export is current; rejects with the build's output when it fails.
 */
export async function ensureDashboardBuilt(opts: { log?: (line: string) => void; force?: boolean } = {}): Promise<'built' | 'current'> {
  const lock = join(DASHBOARD_DIR, '.build.lock');
  for (let waited = 0; ; waited += 500) {
    if (!opts.force && dashboardBuildState() === 'current') return 'current';
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock older than 10 minutes is from a build that died.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 600_000) rmSync(lock, { force: true });
      if (waited > 900_000) throw new Error(`waited 15 minutes for another dashboard build (${lock})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (!opts.force && dashboardBuildState() === 'current') return 'current';
    const hash = dashboardSourceHash();
    opts.log?.('building the dashboard (next build)…');
    const output = await run(process.execPath, [join(REPO, 'node_modules/next/dist/bin/next'), 'build'], DASHBOARD_DIR);
    if (!existsSync(join(DASHBOARD_OUT, 'index.html'))) throw new Error(`next build left no ${DASHBOARD_OUT}/index.html:\n${output}`);
    writeFileSync(join(DASHBOARD_OUT, HASH_FILE), `${hash}\n`);
    opts.log?.('dashboard built');
    return 'built';
  } finally {
    rmSync(lock, { force: true });
  }
}

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolvePromise(output) : reject(new Error(`next build failed (exit ${code}):\n${output}`))));
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/**
 * The exported files at `/`: `/logs/` (or `/logs`) is `logs/index.html`, `/_next/static/…` is cached for good
 * (the names carry content hashes), pages are revalidated. `config` is what the app fetches from
 * /dashboard-config.json: the anon key and the demo owner's email (never a password). When the
 * export is missing, an honest 503 that says how to build it.
 */
export function dashboardRoutes(opts: { outDir?: string; config: () => Promise<Record<string, unknown>> }): Hono<AppEnv> {
  const root = resolve(opts.outDir ?? DASHBOARD_OUT);
  const app = new Hono<AppEnv>();
  app.get('/dashboard-config.json', async (c) => {
    c.header('cache-control', 'no-store');
    return c.json(await opts.config());
  });
  app.on(['GET', 'HEAD'], '*', async (c) => {
    const raw = new URL(c.req.url).pathname;
    // The API's own paths answer the API's 404 (JSON), never a page.
    if (/^\/(functions|auth)\//.test(raw)) return c.notFound();
    let path: string;
    try {
      path = decodeURIComponent(raw);
    } catch {
      return c.text('Bad Request: the path is not valid percent-encoding', 400);
    }
    const rel = normalize(path).replace(/^([/\\])+/, '');
    const file = join(root, rel.endsWith(sep) || rel === '' ? join(rel, 'index.html') : rel);
    if (!file.startsWith(root + sep)) return c.notFound();
    let body: Buffer | undefined;
    let target = file;
    for (const candidate of [file, extname(file) ? undefined : join(file, 'index.html')]) {
      if (!candidate) continue;
      body = await readFile(candidate).catch(() => undefined);
      if (body) {
        target = candidate;
        break;
      }
    }
    if (!body) {
      if (!existsSync(join(root, 'index.html'))) {
        return c.html('<!doctype html><title>ObservAI</title><h1>The dashboard is not built yet</h1><p>Run <code>npm run build:dashboard</code> (or wait: the gateway builds it on its first start) and reload.</p>', 503);
      }
      const notFound = await readFile(join(root, '404.html')).catch(() => undefined);
      return notFound ? c.html(notFound.toString('utf8'), 404) : c.notFound();
    }
    const type = TYPES[extname(target)] ?? 'application/octet-stream';
    c.header('content-type', type);
    c.header('cache-control', path.startsWith('/_next/static/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    c.header('x-content-type-options', 'nosniff');
    if (type.startsWith('text/html')) {
      c.header('x-frame-options', 'DENY');
      c.header('referrer-policy', 'same-origin');
    }
    if (c.req.method === 'HEAD') return c.body(null, 200);
    return c.body(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer, 200);
  });
  return app;
}
