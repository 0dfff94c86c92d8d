/**
 * `npm run token`: tokens for the local modes, signed with the gateway's JWT secret (JWT_SECRET, or
 * the one generated in the data dir), under the same configuration (.env, then the environment).
 *
 *   npm run token -- user <email> [--ttl 1h] [--password <pw>]
 *                                              create the user in auth.users when new (as Supabase Auth
 *                                              would on sign-up) and print a user access token; with
 *                                              --password (8 characters or more) also set the password
 *                                              the local Auth stand-in (/auth/v1) signs in with
 *   npm run token -- service [--ttl 1h]        a service-role token (cron-*, /ingest/stats, retention preview)
 *   npm run token -- anon [--ttl 10y]          an anon key, what supabase-js's createClient takes
 *
 * --ttl: seconds, or a number with s, m, h, d or y (default 1h; anon 10y). Only the token is printed
 * on stdout, so `JWT=$(npm run -s token -- user me@example.com)` works; what happened goes to stderr.
 * In the embedded mode `user` opens the data dir's database, which only one process may hold: with
 * `npm start` running it says so and exits 75 (stop the gateway, run it, start the gateway again).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signJwt } from '../src/auth/jwt.ts';
import { hashPassword, passwordProblem } from '../src/auth-standin/password.ts';
import { ConfigError, parseConfig, type Config } from '../src/core/config.ts';
import { createDb, migrateDb, resolveJwtSecret } from '../src/node/deps.ts';
import { loadEnvFile } from '../src/node/env-file.ts';
import { ANON_KEY_TTL_S } from '../src/orgs/seed-demo.ts';

const USAGE = 'usage: npm run token -- user <email> [--password <pw>] | service | anon [--ttl <seconds|30m|12h|7d|1y>]';
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, y: 365 * 86400 };

class UsageError extends Error {}

export function parseTtl(text: string): number {
  const m = /^(\d+)([smhdy]?)$/.exec(text.trim());
  const seconds = m ? Number(m[1]) * UNITS[m[2] || 's']! : NaN;
  if (!(seconds >= 1 && seconds <= 20 * 365 * 86400)) throw new UsageError(`--ttl: must be seconds, or a number with s, m, h, d or y, between 1s and 20y (got "${text}")`);
  return seconds;
}

function parsePassword(text: string | undefined): string {
  if (text === undefined) throw new UsageError('--password: give the password after it');
  const problem = passwordProblem(text);
  if (problem) throw new UsageError(`--password: ${problem}`);
  return text;
}

function parseArgs(argv: string[]): { kind: 'user' | 'service' | 'anon'; email?: string; ttl?: number; password?: string } {
  const rest: string[] = [];
  let ttl: number | undefined;
  let password: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--ttl') ttl = parseTtl(argv[++i] ?? '');
    else if (a.startsWith('--ttl=')) ttl = parseTtl(a.slice(6));
    else if (a === '--password') password = parsePassword(argv[++i]);
    else if (a.startsWith('--password=')) password = parsePassword(a.slice(11));
    else if (a === '-h' || a === '--help') throw new UsageError(USAGE);
    else rest.push(a);
  }
  const [kind, email, extra] = rest;
  if (kind === 'user') {
    if (!email || extra !== undefined) throw new UsageError(`user: give one email address\n${USAGE}`);
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new UsageError(`user: "${email}" is not an email address`);
    return { kind, email: email.toLowerCase(), ttl, password };
  }
  if (password !== undefined) throw new UsageError(`--password: only for user\n${USAGE}`);
  if ((kind === 'service' || kind === 'anon') && email === undefined) return { kind, ttl };
  throw new UsageError(USAGE);
}

/** The pid of a running gateway holding the embedded database, if any. */
function gatewayHolding(config: Config): number | undefined {
  const file = join(config.dataDir, 'gateway.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** The user's id: created in auth.users when the address is new, as the demo seed creates its owner. */
async function ensureUser(config: Config, email: string, password: string | undefined): Promise<{ id: string; created: boolean }> {
  const db = createDb(config);
  try {
    await migrateDb(db, config);
    // Only the scrypt hash is stored (src/auth-standin/password.ts), never the password.
    const hash = password === undefined ? null : await hashPassword(password);
    const [created] = await db.query<{ id: string }>('insert into auth.users (email, encrypted_password) values ($1, $2) on conflict (email) do nothing returning id', [email, hash]);
    if (created) return { id: created.id, created: true };
    const [existing] = await db.query<{ id: string }>(
      'update auth.users set encrypted_password = coalesce($2, encrypted_password), updated_at = case when $2::text is null then updated_at else now() end where email = $1 returning id',
      [email, hash],
    );
    return { id: existing!.id, created: false };
  } finally {
    await db.close();
  }
}

async function main(): Promise<number> {
  let args;
  let config: Config;
  try {
    args = parseArgs(process.argv.slice(2));
    loadEnvFile();
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      return 64; // EX_USAGE
    }
    console.error((err as Error).message);
    return err instanceof ConfigError ? 78 : 1;
  }
  if (config.mode === 'supabase') {
    console.error('npm run token is for the local modes: on Supabase, Supabase Auth issues user tokens and the dashboard shows the anon and service-role keys');
    return 78;
  }
  const secret = resolveJwtSecret(config)!;
  const now = new Date();
  if (args.kind === 'service') {
    console.log(await signJwt(secret, { role: 'service_role' }, { expiresInSeconds: args.ttl ?? 3600, now }));
    return 0;
  }
  if (args.kind === 'anon') {
    console.log(await signJwt(secret, { role: 'anon' }, { expiresInSeconds: args.ttl ?? ANON_KEY_TTL_S, now }));
    return 0;
  }
  if (config.mode === 'embedded') {
    const pid = gatewayHolding(config);
    if (pid !== undefined) {
      console.error(`The embedded database in ${config.dataDir} is open in the running gateway (pid ${pid}), and only one process may open it: stop the gateway, run this again, then start it (or use the local services mode, DATABASE_URL).`);
      return 75; // EX_TEMPFAIL
    }
  }
  const user = await ensureUser(config, args.email!, args.password);
  console.error(
    (user.created ? `created user ${args.email} (${user.id})` : `user ${args.email} (${user.id}) exists`) + (args.password === undefined ? '' : '; password set (sign in at /auth/v1)'),
  );
  console.log(await signJwt(secret, { sub: user.id, role: 'authenticated', aud: config.jwt.audience, email: args.email }, { expiresInSeconds: args.ttl ?? 3600, now }));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
