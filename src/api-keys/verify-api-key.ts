import { apiKeyClaims, type Identity } from '../auth/identity.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { sha256Hex, timingSafeEqual } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Db } from '../db/types.ts';
import type { ApiKeyScope } from './schemas.ts';
import { prefixOf } from './secret.ts';

interface VerifyDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  defer(work: Promise<unknown>): void;
}

/** A dummy hash compared against when no key has the prefix, so both paths do the same work. */
const NO_KEY_HASH = '0'.repeat(64);

/**
 * When this process last asked to record each key's use. The database moves last_used_at at most
 * once a minute (recordUse); this keeps a process from asking more often, so a busy key costs one
 * write transaction a minute per process, not one per request. Bounded: cleared past 10,000 keys.
 */
const lastRecorded = new Map<string, number>();
const RECORD_EVERY_MS = 60_000;

/**
 * Resolves an API key to the project it belongs to. Unknown and wrong keys get the same answer;
 * revoked and expired keys say so, since the caller already holds the full secret.
 */
export async function verifyApiKey(deps: VerifyDeps, key: string): Promise<Extract<Identity, { kind: 'apiKey' }>> {
  const hash = await sha256Hex(key);
  const prefix = prefixOf(key);
  // One statement outside any transaction (a security definer lookup, migration ..2700): one round
  // trip on every request, where a service-role transaction took three.
  const row = prefix
    ? (
        await deps.db.query<{ id: string; organization_id: string; project_id: string; secret_hash: string; scopes: ApiKeyScope[]; expires_at: Date | null; revoked_at: Date | null }>(
          'select id, organization_id, project_id, secret_hash, scopes, expires_at, revoked_at from private.api_key_by_prefix($1)',
          [prefix],
        )
      )[0]
    : undefined;
  const matches = timingSafeEqual(row?.secret_hash ?? NO_KEY_HASH, hash);
  if (!row || !matches) throw new AppError('UNAUTHENTICATED', 'Invalid API key');
  if (row.revoked_at) throw new AppError('UNAUTHENTICATED', 'This API key has been revoked');
  const now = deps.clock.now();
  if (row.expires_at && new Date(row.expires_at) <= now) throw new AppError('UNAUTHENTICATED', 'This API key has expired');
  const t = now.getTime();
  const last = lastRecorded.get(row.id);
  // A clock that moved back (a test's fake one) records again rather than never.
  if (last === undefined || t - last >= RECORD_EVERY_MS || t < last) {
    if (lastRecorded.size >= 10_000) lastRecorded.clear();
    lastRecorded.set(row.id, t);
    deps.defer(recordUse(deps, row.id, now));
  }
  const verified = { id: row.id, projectId: row.project_id, organizationId: row.organization_id, scopes: row.scopes };
  return { kind: 'apiKey', keyId: verified.id, projectId: verified.projectId, organizationId: verified.organizationId, scopes: verified.scopes, claims: apiKeyClaims(verified) };
}

/** last_used_at moves at most once a minute per key (in the database, across processes). */
async function recordUse(deps: VerifyDeps, keyId: string, now: Date): Promise<void> {
  try {
    await asServiceRole(deps.db, (tx) =>
      tx.query(
        `update public.api_keys set last_used_at = $2
         where id = $1 and (last_used_at is null or last_used_at < $2::timestamptz - interval '1 minute')`,
        [keyId, now],
      ),
    );
  } catch (err) {
    deps.logger.warn({ err, keyId }, 'could not record API key use');
  }
}
