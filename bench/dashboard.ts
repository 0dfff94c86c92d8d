/**
 * `npm run bench:dashboard`: the dashboard's page timings in Chromium over the benchmark databases.
 *
 * 1. The databases: METRICS_DB and LOGS_DB name databases an earlier `KEEP_DB=1 npm run bench:query`
 *    and `KEEP_DB=1 npm run bench:logs` left (their names are printed); when unset, this runs those
 *    benchmarks (KEEP_DB=1, one measured request each; POINTS and LINES pass through: 10,000,000
 *    points over 30 days and 5,000,000 log lines over 7 days by default) and drops the databases at
 *    the end (KEEP_DB=1 keeps them).
 * 2. On each, the gateway as `npm start` runs it (local mode, Redis, one worker) serving the built
 *    dashboard (`npm run build:dashboard` first when it is stale), the demo owner given a password,
 *    and Chromium (/usr/bin/chromium, playwright-core) signed in once through the sign-in page.
 * 3. Measured, REPEAT times each (default 20) after WARMUP (3), one at a time:
 *    - first paint: a new tab opening /metrics/ with the session already stored, from navigation
 *      start until the chart has drawn its points (the first meaningful paint; the browser's first
 *      contentful paint is printed beside it);
 *    - metrics panel: in an open explorer, switching the 24 h panel to another series (a host filter,
 *      rotating over the 100 series of a metric; 1-minute rollups), from the change until the chart
 *      shows the new query;
 *    - log search: in an open logs page, searching another rare word over 24 h, from the submit until
 *      the results list shows that query.
 * Prints p50/p95/max per measure, and finally:
 *   dashboard: first paint p95 <ms> ms, metrics panel p95 <ms> ms, log search p95 <ms> ms
 */
import { spawn } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { hashPassword } from '../src/auth-standin/password.ts';
import { ensureDashboardBuilt } from '../src/node/dashboard.ts';
import { adminUrl, type BenchDatabase, createBenchDatabase, percentile } from './harness.ts';
import { needle } from './logs-data.ts';
import { METRICS } from './query-data.ts';

const REPEAT = Number(process.env.REPEAT ?? 20);
const WARMUP = Number(process.env.WARMUP ?? 3);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PASSWORD = 'bench-dashboard-password';
const port = 56000 + (process.pid % 400); // bench:logs uses 55500-55899

/** Runs another benchmark with KEEP_DB=1 and answers the name of the database it kept. */
async function keptDatabase(script: string, env: Record<string, string>): Promise<string> {
  console.log(`creating the ${script} database (npm run ${script} with KEEP_DB=1; this takes minutes)…`);
  const child = spawn(process.execPath, ['--import', 'tsx', `bench/${script.replace('bench:', '')}.ts`], { env: { ...process.env, KEEP_DB: '1', REPEAT: '1', WARMUP: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    process.stdout.write(`  | ${d.toString().trimEnd().split('\n').join('\n  | ')}\n`);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const name = /kept database \S+\/(\w+)/.exec(out)?.[1];
  if (code !== 0 || !name) throw new Error(`${script} failed (exit ${code})`);
  return name;
}

async function dropDatabase(name: string) {
  const postgres = (await import('postgres')).default;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
}

/** The bench database's demo owner, given a password for the Auth stand-in. */
async function owner(bench: BenchDatabase): Promise<string> {
  const [row] = await bench.sql<Array<{ email: string }>>`
    select u.email from auth.users u join public.organization_members m on m.user_id = u.id
    where m.organization_id = ${bench.demo.organizationId} and m.role = 'owner' limit 1`;
  if (!row) throw new Error(`no owner in ${bench.name}`);
  await bench.sql`update auth.users set encrypted_password = ${await hashPassword(PASSWORD)} where email = ${row.email}`;
  return row.email;
}

async function signIn(context: BrowserContext, base: string, email: string): Promise<void> {
  const page = await context.newPage();
  await page.goto(`${base}/sign-in/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/metrics\//);
  await page.close();
}

function summary(name: string, xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const r = { p50: percentile(s, 0.5), p95: percentile(s, 0.95), max: s.at(-1)! };
  console.log(`${name.padEnd(14)} | ${String(xs.length).padStart(3)} | ${r.p50.toFixed(0).padStart(6)} | ${r.p95.toFixed(0).padStart(6)} | ${r.max.toFixed(0).padStart(6)}`);
  return r;
}

/** `fn` WARMUP + REPEAT times; the measured ones' results. */
async function measure(label: string, fn: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < WARMUP + REPEAT; i++) {
    const ms = await fn(i);
    if (i >= WARMUP) out.push(ms);
  }
  process.stdout.write(`${label}: done\n`);
  return out;
}

async function metricsTimings(bench: BenchDatabase, context: BrowserContext, base: string) {
  const metric = METRICS[0]!.name;
  const fcp: number[] = [];
  const firstPaint = await measure('first paint', async (i) => {
    const page = await context.newPage();
    await page.goto(`${base}/metrics/?metric=${encodeURIComponent(METRICS[i % METRICS.length]!.name)}&agg=avg&range=1h`);
    const ms = await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid=chart]');
      return el && Number(el.getAttribute('data-points')) > 0 ? performance.now() : false;
    }, undefined, { polling: 'raf', timeout: 30_000 });
    const at = (await ms.jsonValue()) as number;
    fcp.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN));
    await page.close();
    return at;
  });

  const page = await context.newPage();
  await page.goto(`${base}/metrics/?metric=${encodeURIComponent(metric)}&agg=avg&range=24h&fk=host`);
  await page.waitForSelector('[data-testid=metrics-panel][data-drawn]:not([data-drawn=""])', { timeout: 30_000 });
  const values = await page.getByLabel('Value of host').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
  if (values.length === 0) throw new Error(`no host values for ${metric}`);
  const panel = await measure('metrics panel', (i) => switchSeries(page, values[i % values.length]!));
  await page.close();
  return { firstPaint, fcp: fcp.slice(WARMUP), panel };
}

/** Picks a host in the open explorer and times it until the chart shows that query. */
async function switchSeries(page: Page, host: string): Promise<number> {
  const t0 = await page.evaluate((h) => {
    const select = document.querySelector<HTMLSelectElement>('select[aria-label="Value of host"]')!;
    if (select.value === h) select.value = '';
    const t = performance.now();
    select.value = h;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    return t;
  }, host);
  const done = await page.waitForFunction((h) => {
    const el = document.querySelector('[data-testid=metrics-panel]');
    return el?.getAttribute('data-drawn')?.includes(`|host=${h}|`) ? performance.now() : false;
  }, host, { polling: 'raf', timeout: 30_000 });
  return ((await done.jsonValue()) as number) - t0;
}

async function logTimings(context: BrowserContext, base: string) {
  const page = await context.newPage();
  await page.goto(`${base}/logs/?range=24h`);
  const box = page.getByRole('searchbox', { name: /search/i });
  await box.waitFor({ timeout: 30_000 });
  const search = await measure('log search', async (i) => {
    const word = needle(i % 40);
    const t0 = await page.evaluate(() => performance.now());
    await box.fill(word);
    await box.press('Enter');
    const done = await page.waitForFunction((w) => {
      const el = document.querySelector('[data-testid=log-results]');
      return el?.getAttribute('data-drawn')?.includes(w) ? performance.now() : false;
    }, word, { polling: 'raf', timeout: 30_000 });
    return ((await done.jsonValue()) as number) - t0;
  });
  await page.close();
  return search;
}

// ============================================================================ main
let exitCode = 0;
const created: string[] = [];
const benches: BenchDatabase[] = [];
try {
  console.log(`dashboard build: ${await ensureDashboardBuilt({ log: (l) => console.log(l) })}`);
  const metricsDb = process.env.METRICS_DB ?? (await keptDatabase('bench:query', { BREAKDOWN: '0', TYPE_SECONDS: '1' }).then((n) => (created.push(n), n)));
  const logsDb = process.env.LOGS_DB ?? (await keptDatabase('bench:logs', {}).then((n) => (created.push(n), n)));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });

  const m = await createBenchDatabase('observai_dbench', { reuse: metricsDb });
  benches.push(m);
  const mEmail = await owner(m);
  await m.startGateway('metrics', port, { DEMO_DATA: 'false' });
  const mBase = `http://127.0.0.1:${port}`;
  const mContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await signIn(mContext, mBase, mEmail);
  const metrics = await metricsTimings(m, mContext, mBase);
  await mContext.close();
  await m.cleanup();

  const l = await createBenchDatabase('observai_dbench', { reuse: logsDb });
  benches.push(l);
  const lEmail = await owner(l);
  await l.startGateway('logs', port + 1, { DEMO_DATA: 'false' });
  const lBase = `http://127.0.0.1:${port + 1}`;
  const lContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await signIn(lContext, lBase, lEmail);
  const logs = await logTimings(lContext, lBase);
  await lContext.close();
  await browser.close();

  console.log('');
  console.log(`measure        |   n | p50 ms | p95 ms | max ms     (${metricsDb}, ${logsDb})`);
  const fp = summary('first paint', metrics.firstPaint);
  summary('(browser FCP)', metrics.fcp.filter(Number.isFinite));
  const mp = summary('metrics panel', metrics.panel);
  const ls = summary('log search', logs);
  console.log('');
  console.log(`dashboard: first paint p95 ${fp.p95.toFixed(0)} ms, metrics panel p95 ${mp.p95.toFixed(0)} ms, log search p95 ${ls.p95.toFixed(0)} ms`);
} catch (err) {
  exitCode = 1;
  console.error(err);
} finally {
  for (const b of benches) await b.cleanup();
  if (process.env.KEEP_DB !== '1') for (const name of created) await dropDatabase(name).catch((err) => console.error(`could not drop ${name}: ${err}`));
  else if (created.length) console.log(`kept: METRICS_DB=${created[0]} LOGS_DB=${created[1] ?? ''}`);
}
process.exit(exitCode);
