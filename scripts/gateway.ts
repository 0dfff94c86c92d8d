/**
 * `npm start`: the Node gateway. Serves every function at http://HOST:PORT/functions/v1/<name>,
 * applies pending migrations, seeds a demo tenant on first start, and runs the job scheduler.
 * With GATEWAY_WORKERS > 1 (local services mode) the primary process migrates, seeds and schedules,
 * listens, and hands each connection to one of that many worker processes (src/node/cluster.ts).
 */
import cluster from 'node:cluster';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { serve } from '@hono/node-server';
import { ConfigError, parseConfig } from '../src/core/config.ts';
import { createGatewayApp } from '../src/app/app.ts';
import { signJwt } from '../src/auth/jwt.ts';
import { hashPassword } from '../src/auth-standin/password.ts';
import { randomToken } from '../src/core/ids.ts';
import { type DemoDataGenerator, startDemoData } from '../src/demo-data/start-demo-data.ts';
import { JOBS } from '../src/app/jobs.ts';
import { startScheduler } from '../src/jobs/scheduler.ts';
import { serveGatewayWorker, startGatewayPrimary } from '../src/node/cluster.ts';
import { dashboardBuildState, dashboardRoutes, ensureDashboardBuilt } from '../src/node/dashboard.ts';
import { createNodeDeps, migrateDb } from '../src/node/deps.ts';
import { loadEnvFile } from '../src/node/env-file.ts';
import { createNodeLogger } from '../src/node/logger.ts';
import { ANON_KEY_TTL_S, seedDemo } from '../src/orgs/seed-demo.ts';

async function main() {
  try {
    loadEnvFile();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(78); // EX_CONFIG
  }
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createNodeLogger(config);
  const deps = createNodeDeps(config, { logger });
  if (cluster.isWorker) return serveWorker(deps, logger);
  const applied = await migrateDb(deps.db, config);
  if (applied.length) logger.info({ applied }, 'migrations applied');

  if (config.mode === 'embedded') holdPidFile(config.dataDir);
  const publicUrl = `http://${['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host}:${config.port}`;
  const demoSignIn: { email?: string; password?: string } = {};
  if (config.seedDemo && config.mode !== 'supabase' && deps.jwtSecret) {
    const file = join(config.dataDir, 'demo.json');
    // The owner's password for the Auth stand-in (/auth/v1): supabase-js signInWithPassword works at once.
    const ownerPassword = randomToken(20);
    const demo = await seedDemo(deps, { jwtSecret: deps.jwtSecret, ownerPassword: { password: ownerPassword, hash: await hashPassword(ownerPassword) } });
    if (demo) {
      mkdirSync(config.dataDir, { recursive: true });
      const url = publicUrl;
      const { organizationId, projectId, apiKey, ownerJwt, ownerEmail, serviceToken, anonKey, expiresAt } = demo;
      const saved = { url, organizationId, projectId, apiKey, ownerEmail, ownerPassword, ownerJwt, serviceToken, anonKey, expiresAt };
      writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
      console.log(
        [
          '',
          `Demo tenant created (saved to ${displayPath(file)}; the tokens expire ${expiresAt}, \`npm run token\` mints more):`,
          `  organization   ${organizationId}`,
          `  project        ${projectId}`,
          `  API key        ${apiKey}`,
          `  owner JWT      ${ownerJwt}`,
          `  service token  ${serviceToken}`,
          `  anon key       ${anonKey}`,
          `  sign in as ${ownerEmail} / ${ownerPassword}  (supabase-js signInWithPassword, at ${url}/auth/v1)`,
          '',
        ].join('\n'),
      );
      Object.assign(demoSignIn, { email: ownerEmail, password: ownerPassword });
    } else if (existsSync(file)) {
      console.log(`Demo tenant: ${displayPath(file)}`);
      try {
        demoSignIn.email = (JSON.parse(readFileSync(file, 'utf8')) as { ownerEmail?: string }).ownerEmail;
      } catch {
        // An unreadable demo.json: the dashboard line names no user.
      }
    }
  }

  const scheduler = config.schedulerEnabled ? startScheduler(deps, Object.values(JOBS)) : undefined;
  prepareDashboard(config, logger, publicUrl, demoSignIn);
  if (config.gatewayWorkers > 1) {
    let primary;
    try {
      primary = await startGatewayPrimary({ workers: config.gatewayWorkers, host: config.host, port: config.port, logger });
    } catch (err) {
      logger.error({ err }, (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `port ${config.port} is in use: stop the other process or set PORT` : 'server error');
      process.exit(1);
    }
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      await demoData?.stop();
      // The workers first: a worker whose primary exits stops at once, with requests unanswered.
      await primary.stop();
      await scheduler?.stop();
      await deps.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    logger.info({ workers: config.gatewayWorkers, url: `http://${config.host}:${config.port}/functions/v1`, mode: config.mode }, 'gateway listening');
    const demoData = startDemoDataGenerator(config, logger, config.port);
    return;
  }
  serveRequests(config, deps, logger, scheduler);
}

/** A path as the user would type it: relative to the working directory when inside it. */
function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : `./${rel}`;
}

/**
 * The embedded database (PGlite) must be open in one process only: <data dir>/gateway.pid says which
 * one holds it, so `npm run token -- user` refuses to open it under a running gateway. Removed on exit.
 */
function holdPidFile(dataDir: string) {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'gateway.pid');
  writeFileSync(file, `${process.pid}\n`);
  process.on('exit', () => rmSync(file, { force: true }));
}

/**
 * What the gateway serves besides the functions, in the embedded and local modes: the Auth stand-in
 * at /auth/v1 and the dashboard at / (its config names the anon key and the demo owner's email). On
 * Supabase, Supabase Auth and a static host serve those (docs/DASHBOARD.md).
 */
function gatewayOptions(deps: ReturnType<typeof createNodeDeps>) {
  const jwtSecret = deps.jwtSecret;
  if (!jwtSecret || deps.config.mode === 'supabase') return {};
  let anonKey: Promise<string> | undefined;
  const demoFile = join(deps.config.dataDir, 'demo.json');
  const config = async () => {
    anonKey ??= signJwt(jwtSecret, { role: 'anon' }, { expiresInSeconds: ANON_KEY_TTL_S });
    let demoEmail: string | undefined;
    try {
      demoEmail = (JSON.parse(readFileSync(demoFile, 'utf8')) as { ownerEmail?: string }).ownerEmail;
    } catch {
      demoEmail = undefined;
    }
    return { supabaseUrl: '', anonKey: await anonKey, mode: deps.config.mode, ...(demoEmail ? { demoEmail } : {}) };
  };
  return { authStandin: { jwtSecret }, dashboard: dashboardRoutes({ config }) };
}

/**
 * The dashboard's build on start: none when current (`npm install` built it); when missing (an
 * install with --ignore-scripts), built now in the background while the API serves (the pages answer
 * 503 until it is done); when older than its sources, a warning (`npm run build:dashboard`): spawned
 * gateways in tests must not start builds of their own.
 */
function prepareDashboard(config: ReturnType<typeof parseConfig>, logger: ReturnType<typeof createNodeLogger>, url: string, demo: { email?: string; password?: string }) {
  if (config.mode === 'supabase') return;
  const ready = () =>
    console.log(`Dashboard: ${url}/  (sign in as ${demo.email ?? 'a user of this deployment'}${demo.password ? ` / ${demo.password}` : demo.email ? `; the password is ownerPassword in ${displayPath(join(config.dataDir, 'demo.json'))}` : ''})`);
  const state = dashboardBuildState();
  if (state === 'current') return ready();
  if (state === 'stale') {
    logger.warn('the dashboard build is older than its sources: run `npm run build:dashboard`');
    return ready();
  }
  logger.info('the dashboard is not built: building it now (about a minute; the API is already serving)');
  ensureDashboardBuilt({ log: (line) => logger.info(line) }).then(ready, (err: Error) => logger.error({ err }, 'the dashboard build failed: run `npm run build:dashboard` to see why'));
}

/** A worker of GATEWAY_WORKERS > 1: serves the connections its primary hands over. */
function serveWorker(deps: ReturnType<typeof createNodeDeps>, logger: ReturnType<typeof createNodeLogger>) {
  const worker = serveGatewayWorker(createGatewayApp(deps, gatewayOptions(deps)).fetch);
  logger.info({ pid: process.pid }, 'gateway worker ready');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await worker.stop();
    await deps.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

function serveRequests(
  config: ReturnType<typeof parseConfig>,
  deps: ReturnType<typeof createNodeDeps>,
  logger: ReturnType<typeof createNodeLogger>,
  scheduler: { stop(): Promise<void> } | undefined,
) {
  const app = createGatewayApp(deps, gatewayOptions(deps));
  let demoData: DemoDataGenerator | undefined;
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    logger.info({ url: `http://${config.host}:${info.port}/functions/v1`, mode: config.mode }, 'gateway listening');
    demoData = startDemoDataGenerator(config, logger, info.port);
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    logger.error({ err }, err.code === 'EADDRINUSE' ? `port ${config.port} is in use: stop the other process or set PORT` : 'server error');
    process.exit(1);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // The generator first: it sends to this server, and its send in flight is awaited.
    await demoData?.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await scheduler?.stop();
    await deps.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/**
 * The demo project's sample data (src/demo-data; DEMO_DATA=false turns it off): metrics, logs and
 * traces sent through this gateway's own ingest once it listens, with the API key demo.json holds.
 */
function startDemoDataGenerator(config: ReturnType<typeof parseConfig>, logger: ReturnType<typeof createNodeLogger>, port: number): DemoDataGenerator | undefined {
  if (!config.demoData || !config.seedDemo || config.mode === 'supabase') return undefined;
  const file = join(config.dataDir, 'demo.json');
  let demo: { apiKey?: string; projectId?: string } = {};
  try {
    demo = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // Reported below.
  }
  if (!demo.apiKey || !demo.projectId) {
    logger.info(`demo data: off, ${displayPath(file)} is missing or has no apiKey (DEMO_DATA=false silences this)`);
    return undefined;
  }
  const host = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return startDemoData({ url: `http://${host}:${port}/functions/v1`, apiKey: demo.apiKey, seed: demo.projectId, logger });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
