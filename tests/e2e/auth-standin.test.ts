/**
 * The local Auth stand-in (/auth/v1, src/auth-standin) with the real supabase-js client against a
 * freshly started gateway (`npm start`), in the embedded or the local services mode: the demo
 * owner's password sign-in, a function called with that session, refresh-token rotation and reuse,
 * getUser, signOut, GoTrue's error codes, the failed-attempt limit, the admin API's createUser, and
 * what is stored.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { AuthApiError, createClient, type SupabaseClient, type WebSocketLikeConstructor } from '@supabase/supabase-js';
import postgres from 'postgres';
import ws from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/auth-standin/password.ts';
import { createDatabase, servicesMode } from '../helpers/env.ts';
import { withinOneMinute } from '../helpers/minute.ts';

interface Demo {
  url: string;
  organizationId: string;
  ownerEmail: string;
  ownerPassword: string;
  anonKey: string;
  serviceToken: string;
}

describe('the Auth stand-in with the real supabase-js client', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'observai-auth-'));
  const dataDir = join(cwd, '.observai');
  let proc: ChildProcess | undefined;
  let port = 0;
  let database: Awaited<ReturnType<typeof createDatabase>> | undefined;
  let demo: Demo;
  let stdout = '';
  /** A session left signed in, whose refresh token the last test looks for in the database. */
  let kept: { refresh_token: string } | undefined;

  const client = (key = demo.anonKey): SupabaseClient =>
    createClient(demo.url, key, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false }, realtime: { transport: ws as unknown as WebSocketLikeConstructor } });
  const signIn = async () => {
    const supabase = client();
    const { data, error } = await supabase.auth.signInWithPassword({ email: demo.ownerEmail, password: demo.ownerPassword });
    expect(error).toBeNull();
    return { supabase, session: data.session! };
  };

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
      env: { ...process.env, DATABASE_URL: database?.url ?? '', REDIS_URL: database ? (process.env.REDIS_URL ?? '') : '', JWT_SECRET: randomBytes(36).toString('base64url'), HOST: '127.0.0.1', PORT: String(port), OBSERVAI_DATA_DIR: dataDir, SCHEDULER_ENABLED: 'false', DEMO_DATA: 'false', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    proc.stdout!.on('data', (d) => (stdout += d));
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/functions/v1/ingest/health`)).ok) break;
      } catch {
        // starting
      }
      if (i > 300) throw new Error('gateway did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    demo = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8'));
  }, 90_000);
  afterAll(async () => {
    proc?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await database?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('gives the demo owner a password, saved to demo.json and printed at the first start', () => {
    expect(demo.ownerPassword).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(stdout).toContain(`sign in as ${demo.ownerEmail} / ${demo.ownerPassword}`);
  });

  it('signs the owner in, and functions.invoke answers with that session', async () => {
    const { supabase, session } = await signIn();
    expect(session.token_type).toBe('bearer');
    expect(session.expires_in).toBe(3600);
    expect(session.user.email).toBe(demo.ownerEmail);
    const claims = JSON.parse(Buffer.from(session.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ role: 'authenticated', aud: 'authenticated', sub: session.user.id, email: demo.ownerEmail });
    expect(claims.exp - claims.iat).toBe(3600);
    expect(typeof claims.session_id).toBe('string');
    const { data, error } = await supabase.functions.invoke('orgs', { method: 'GET' });
    expect(error).toBeNull();
    expect(data.organizations.map((o: { id: string }) => o.id)).toEqual([demo.organizationId]);
  });

  it('getUser answers the signed-in user', async () => {
    const { supabase, session } = await signIn();
    kept = session;
    const { data, error } = await supabase.auth.getUser();
    expect(error).toBeNull();
    expect(data.user).toMatchObject({ id: session.user.id, email: demo.ownerEmail, aud: 'authenticated', role: 'authenticated' });
  });

  it('rotates the refresh token: the old one no longer works, and its reuse ends the whole session', async () => {
    const { supabase, session } = await signIn();
    const { data, error } = await supabase.auth.refreshSession();
    expect(error).toBeNull();
    const renewed = data.session!;
    expect(renewed.refresh_token).not.toBe(session.refresh_token);
    // A new access token of the same session (within one second it may equal the old one, as GoTrue's would).
    const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
    expect(claimsOf(renewed.access_token)).toMatchObject({ sub: session.user.id, session_id: claimsOf(session.access_token).session_id });
    expect((await client().functions.invoke('orgs', { method: 'GET', headers: { Authorization: `Bearer ${renewed.access_token}` } })).error).toBeNull();

    const reuse = await client().auth.refreshSession({ refresh_token: session.refresh_token });
    expect(reuse.error).toBeInstanceOf(AuthApiError);
    expect(reuse.error).toMatchObject({ status: 400, code: 'refresh_token_already_used' });
    // The reuse revoked the family: the token it had been exchanged for is gone too.
    const after = await client().auth.refreshSession({ refresh_token: renewed.refresh_token });
    expect(after.error).toMatchObject({ status: 400, code: 'refresh_token_not_found' });
  });

  it('signOut ends the session: its refresh token fails, and /user refuses its access token', async () => {
    const { supabase, session } = await signIn();
    // scope local: this session only (the default, global, would end the one kept for the last test too).
    expect((await supabase.auth.signOut({ scope: 'local' })).error).toBeNull();
    const refreshed = await client().auth.refreshSession({ refresh_token: session.refresh_token });
    expect(refreshed.error).toBeInstanceOf(AuthApiError);
    expect(refreshed.error).toMatchObject({ code: 'refresh_token_not_found' });
    const user = await client().auth.getUser(session.access_token);
    expect(user.error?.name).toBe('AuthSessionMissingError');
  });

  // Before the failed-attempt tests: the new user's sign-in comes from the same address.
  it('creates a user through auth.admin.createUser with the service-role key only, and that user signs in', async () => {
    const admin = client(demo.serviceToken);
    const email = `Viewer-${randomBytes(4).toString('hex')}@Example.com`;
    const { data, error } = await admin.auth.admin.createUser({ email, password: 'a viewer passphrase', email_confirm: true, user_metadata: { name: 'Vi' } });
    expect(error).toBeNull();
    expect(data.user).toMatchObject({ email: email.toLowerCase(), aud: 'authenticated', role: 'authenticated', user_metadata: { name: 'Vi' } });
    expect(data.user!.email_confirmed_at).toEqual(expect.any(String));

    const again = await admin.auth.admin.createUser({ email: email.toUpperCase(), password: 'another passphrase', email_confirm: true });
    expect(again.error).toBeInstanceOf(AuthApiError);
    expect(again.error).toMatchObject({ status: 422, code: 'email_exists' });
    const weak = await admin.auth.admin.createUser({ email: 'weak@example.com', password: 'short', email_confirm: true });
    expect(weak.error).toMatchObject({ status: 422, code: 'weak_password' });
    expect(weak.error!.name).toBe('AuthWeakPasswordError');
    const bad = await admin.auth.admin.createUser({ email: 'not-an-email', password: 'a long passphrase', email_confirm: true });
    expect(bad.error).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(bad.error!.message).toContain('email');
    const unconfirmed = await admin.auth.admin.createUser({ email: 'unconfirmed@example.com', password: 'a long passphrase' });
    expect(unconfirmed.error).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(unconfirmed.error!.message).toContain('email_confirm');

    // Not the service role: the anon key and a user's session are refused, as GoTrue refuses them.
    const anon = await client().auth.admin.createUser({ email: 'anon@example.com', password: 'a long passphrase', email_confirm: true });
    expect(anon.error).toMatchObject({ status: 403, code: 'not_admin' });
    const { session } = await signIn();
    const asUser = await fetch(`${demo.url}/auth/v1/admin/users`, {
      method: 'POST',
      headers: { apikey: demo.anonKey, authorization: `Bearer ${session.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'user@example.com', password: 'a long passphrase', email_confirm: true }),
    });
    expect(asUser.status).toBe(403);
    expect(await asUser.json()).toMatchObject({ code: 403, error_code: 'not_admin' });
    const noBearer = await fetch(`${demo.url}/auth/v1/admin/users`, { method: 'POST', headers: { apikey: demo.anonKey, 'content-type': 'application/json' }, body: '{}' });
    expect(noBearer.status).toBe(401);
    expect(await noBearer.json()).toMatchObject({ code: 401, error_code: 'no_authorization' });

    // The new user signs in with that password and is in no organization yet.
    const viewer = client();
    const signedIn = await viewer.auth.signInWithPassword({ email: email.toLowerCase(), password: 'a viewer passphrase' });
    expect(signedIn.error).toBeNull();
    expect(signedIn.data.user!.id).toBe(data.user!.id);
    const orgs = await viewer.functions.invoke('orgs', { method: 'GET' });
    expect(orgs.error).toBeNull();
    expect(orgs.data.organizations).toEqual([]);
  });

  it('refuses a wrong password with invalid_credentials, and a request without the anon key', async () => {
    const { data, error } = await client().auth.signInWithPassword({ email: demo.ownerEmail, password: `${demo.ownerPassword}x` });
    expect(data.session).toBeNull();
    expect(error).toBeInstanceOf(AuthApiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_credentials', message: 'Invalid login credentials' });
    const unknown = await client().auth.signInWithPassword({ email: 'nobody@example.com', password: 'whatever-password' });
    expect(unknown.error).toMatchObject({ status: 400, code: 'invalid_credentials', message: 'Invalid login credentials' });
    const res = await fetch(`${demo.url}/auth/v1/token?grant_type=password`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: demo.ownerEmail, password: demo.ownerPassword }) });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 401, error_code: 'no_authorization' });
  });

  it('answers 429 with Retry-After after 10 failed attempts, even for the right password', async () => {
    const email = 'target@example.com';
    const codes: string[] = [];
    // Bounded: at most 10 failures per address per minute and per email per 15 minutes (the earlier
    // tests failed twice from this address already).
    // The minute is a sliding window weighted by the minute before: a minute's end between the loop's
    // 429 and the right password lowered the count below 10.
    await withinOneMinute(15_000);
    for (let i = 0; i < 12; i++) {
      const { error } = await client().auth.signInWithPassword({ email, password: `wrong-password-${i}` });
      codes.push(error!.code!);
      if (error!.code === 'over_request_rate_limit') {
        expect(error).toBeInstanceOf(AuthApiError);
        expect(error!.status).toBe(429);
        break;
      }
    }
    expect(codes.at(-1)).toBe('over_request_rate_limit');
    expect(codes.filter((c) => c === 'invalid_credentials').length).toBeLessThanOrEqual(10);
    expect(codes.slice(0, -1).every((c) => c === 'invalid_credentials')).toBe(true);
    const res = await fetch(`${demo.url}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', apikey: demo.anonKey },
      body: JSON.stringify({ email: demo.ownerEmail, password: demo.ownerPassword }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ code: 429, error_code: 'over_request_rate_limit' });
  }, 60_000);

  it('stores the password as a scrypt hash and refresh tokens as SHA-256, never in plain text', async () => {
    // The embedded database opens in one process only: stop the gateway first.
    proc!.kill('SIGTERM');
    await new Promise<void>((resolve) => (proc!.exitCode !== null ? resolve() : proc!.once('exit', () => resolve())));
    proc = undefined;
    const query = async (text: string): Promise<Array<Record<string, unknown>>> => {
      if (database) {
        const sql = postgres(database.url, { max: 1, onnotice: () => {} });
        try {
          return [...(await sql.unsafe(text))];
        } finally {
          await sql.end();
        }
      }
      const db = new PGlite(join(dataDir, 'pgdata'));
      try {
        return (await db.query<Record<string, unknown>>(text)).rows;
      } finally {
        await db.close();
      }
    };
    const [user] = await query(`select encrypted_password from auth.users where email = '${demo.ownerEmail}'`);
    expect(user!.encrypted_password).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(user!.encrypted_password).not.toContain(demo.ownerPassword);
    const tokens = (await query('select token from auth.refresh_tokens')).map((t) => t.token as string);
    expect(tokens.length).toBeGreaterThan(0);
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{64}$/);
    expect(tokens).not.toContain(kept!.refresh_token);
    expect(tokens).toContain(createHash('sha256').update(kept!.refresh_token).digest('hex'));

    // `npm run token -- user <email> --password <pw>` stores the hash too (the gateway is stopped, so
    // the embedded database is free); a short password is a usage error.
    const token = (args: string[]) =>
      spawnSync(join(process.cwd(), 'node_modules/.bin/tsx'), [join(process.cwd(), 'scripts/token.ts'), ...args], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: database?.url ?? '', REDIS_URL: '', OBSERVAI_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      });
    expect(token(['user', 'carol@example.com', '--password', 'short']).status).toBe(64);
    const set = token(['user', 'carol@example.com', '--password', 'a long passphrase']);
    expect(set.stderr).toContain('password set');
    expect(set.status).toBe(0);
    const [carol] = await query(`select encrypted_password from auth.users where email = 'carol@example.com'`);
    expect(await verifyPassword('a long passphrase', carol!.encrypted_password as string)).toBe(true);
    expect(await verifyPassword('another passphrase', carol!.encrypted_password as string)).toBe(false);
  }, 60_000);
});
