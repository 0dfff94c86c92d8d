import type { Queryable } from '../db/types.ts';
import { decideRefresh, type RefreshDecision } from './rules.ts';

/** The SQL of the Auth stand-in: auth.users, auth.sessions and auth.refresh_tokens (supabase/bootstrap/supabase-compat.sql). */

export interface AuthUserRow {
  id: string;
  email: string;
  encrypted_password: string | null;
  raw_user_meta_data: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  last_sign_in_at: Date | null;
}

const USER_COLUMNS = 'id, email, encrypted_password, raw_user_meta_data, created_at, updated_at, last_sign_in_at';

export async function findUserByEmail(db: Queryable, email: string): Promise<AuthUserRow | undefined> {
  const [row] = await db.query<AuthUserRow>(`select ${USER_COLUMNS} from auth.users where lower(email) = lower($1)`, [email]);
  return row;
}

export async function findUser(db: Queryable, id: string): Promise<AuthUserRow | undefined> {
  const [row] = await db.query<AuthUserRow>(`select ${USER_COLUMNS} from auth.users where id = $1`, [id]);
  return row;
}

/**
 * A new user with a password (its hash), or undefined when the email is taken (compared as
 * findUserByEmail compares it, case-insensitively; the unique key catches a concurrent insert).
 */
export async function createUser(db: Queryable, email: string, passwordHash: string, meta: Record<string, unknown>): Promise<AuthUserRow | undefined> {
  if (await findUserByEmail(db, email)) return undefined;
  const [row] = await db.query<AuthUserRow>(
    `insert into auth.users (email, encrypted_password, raw_user_meta_data) values ($1, $2, $3::text::jsonb) on conflict (email) do nothing returning ${USER_COLUMNS}`,
    [email, passwordHash, JSON.stringify(meta)],
  );
  return row;
}

/** A new session for the user, with its first refresh token (stored as its hash), and the sign-in recorded. */
export async function startSession(db: Queryable, userId: string, tokenHash: string, now: Date): Promise<string> {
  const [session] = await db.query<{ id: string }>(`insert into auth.sessions (user_id, created_at, updated_at) values ($1, $2, $2) returning id`, [userId, now]);
  await db.query(`insert into auth.refresh_tokens (token, user_id, session_id, created_at, updated_at) values ($1, $2, $3, $4, $4)`, [tokenHash, userId, session!.id, now]);
  await db.query(`update auth.users set last_sign_in_at = $2 where id = $1`, [userId, now]);
  return session!.id;
}

export type RefreshOutcome = { ok: true; userId: string; sessionId: string } | { ok: false; code: Exclude<RefreshDecision, { action: 'rotate' }>['code'] };

/**
 * Exchanges the refresh token with hash `tokenHash` for `nextHash` (decideRefresh says whether):
 * the row is locked, so two exchanges of one token cannot both rotate it. The caller runs this in a
 * transaction; a reuse deletes the session, which takes every token of the family with it.
 */
export async function rotateRefreshToken(tx: Queryable, tokenHash: string, nextHash: string, now: Date): Promise<RefreshOutcome> {
  const [row] = await tx.query<{ id: string; user_id: string; session_id: string; revoked: boolean }>(
    `select id, user_id, session_id, revoked from auth.refresh_tokens where token = $1 for update`,
    [tokenHash],
  );
  const decision = decideRefresh(row ? { revoked: row.revoked } : null);
  if (decision.action === 'reject') return { ok: false, code: decision.code };
  if (decision.action === 'revoke_session') {
    await tx.query(`delete from auth.sessions where id = $1`, [row!.session_id]);
    return { ok: false, code: decision.code };
  }
  await tx.query(`update auth.refresh_tokens set revoked = true, updated_at = $2 where id = $1`, [row!.id, now]);
  await tx.query(`insert into auth.refresh_tokens (token, user_id, session_id, parent, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)`, [
    nextHash,
    row!.user_id,
    row!.session_id,
    tokenHash,
    now,
  ]);
  await tx.query(`update auth.sessions set updated_at = $2 where id = $1`, [row!.session_id, now]);
  return { ok: true, userId: row!.user_id, sessionId: row!.session_id };
}

export async function sessionExists(db: Queryable, sessionId: string, userId: string): Promise<boolean> {
  const rows = await db.query(`select 1 from auth.sessions where id = $1 and user_id = $2`, [sessionId, userId]);
  return rows.length > 0;
}

/**
 * Signs out as GoTrue's `scope` says: `local` this session, `others` the user's other sessions,
 * `global` all of them. Their refresh tokens go with the sessions (on delete cascade).
 */
export async function endSessions(db: Queryable, userId: string, sessionId: string, scope: 'global' | 'local' | 'others'): Promise<void> {
  if (scope === 'local') await db.query(`delete from auth.sessions where id = $1 and user_id = $2`, [sessionId, userId]);
  else if (scope === 'others') await db.query(`delete from auth.sessions where user_id = $1 and id <> $2`, [userId, sessionId]);
  else await db.query(`delete from auth.sessions where user_id = $1`, [userId]);
}
