import { prefixOf } from './api-key-secret.ts';
import { apiKeyClaims, type ApiKeyScope, type Identity } from './identity.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { sha256Hex, timingSafeEqual } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Db, Queryable } from '../db/types.ts';

interface VerifyDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  defer(work: Promise<unknown>): void;
}

/** A dummy hash compared against when no key has the prefix, so both paths do the same work. */
const NO_KEY_HASH = '0'.repeat(64);

const RECORD_EVERY_MS = 60_000;

type KeyRow = { id: string; organization_id: string; project_id: string; secret_hash: string; scopes: ApiKeyScope[]; expires_at: Date | null; revoked_at: Date | null };

type ApiKeyIdentity = Extract<Identity, { kind: 'apiKey' }>;

const CACHE_MS = 60_000;

export interface ApiKeyVerifier {
  verify(key: string, opts?: { confirmAtWrite?: boolean }): Promise<ApiKeyIdentity>;
  confirm(q: Queryable, key: ApiKeyIdentity, now: Date): Promise<void>;
}

/**
 * API-key verification with its two per-process caches as instance state: one verifier per process
 * (built with the deps, src/node/deps.ts and supabase/functions/_shared/serve.ts), none at module
 * scope, so each test's deps start empty.
 */
export function createApiKeyVerifier(deps: VerifyDeps): ApiKeyVerifier {
  /**
   * Keys this process verified lately, by hash, for callers that confirm the key again inside the
   * transaction that writes (ingest: see ADR 0004). Nothing else reads it: every other request looks
   * its key up. Bounded: cleared past 10,000 keys; an entry serves for CACHE_MS.
   */
  const verified = new Map<string, { identity: ApiKeyIdentity; expiresAt: Date | null; at: number }>();
  /**
   * When this process last asked to record each key's use. The database moves last_used_at at most
   * once a minute (recordUse); this keeps a process from asking more often, so a busy key costs one
   * write transaction a minute per process, not one per request. Bounded: cleared past 10,000 keys.
   */
  const lastRecorded = new Map<string, number>();
  const caches = { verified, lastRecorded };
  return {
    verify: (key, opts) => verifyApiKey(deps, caches, key, opts),
    confirm: (q, key, now) => confirmApiKey(caches, q, key, now),
  };
}

interface Caches {
  verified: Map<string, { identity: ApiKeyIdentity; expiresAt: Date | null; at: number }>;
  lastRecorded: Map<string, number>;
}

/**
 * Resolves an API key to the project it belongs to. Unknown and wrong keys get the same answer;
 * revoked and expired keys say so, since the caller already holds the full secret.
 *
 * With `confirmAtWrite`, a key this process verified within the last minute is accepted without a
 * lookup (its expiry still checked against the clock) and returned with `pending` set: the caller
 * must then pass it to confirmApiKey in the transaction that writes, so a revoked key never writes.
 */
async function verifyApiKey(deps: VerifyDeps, { verified, lastRecorded }: Caches, key: string, opts: { confirmAtWrite?: boolean } = {}): Promise<ApiKeyIdentity> {
  const hash = await sha256Hex(key);
  const prefix = prefixOf(key);
  const now = deps.clock.now();
  const t = now.getTime();
  if (opts.confirmAtWrite && prefix) {
    const hit = verified.get(hash);
    if (hit && t - hit.at < CACHE_MS && t >= hit.at && !(hit.expiresAt && hit.expiresAt <= now)) {
      noteUse(deps, lastRecorded, hit.identity.keyId, now);
      return { ...hit.identity, pending: { prefix, hash } };
    }
  }
  // One statement outside any transaction (a security definer lookup, migration ..2700): one round
  // trip on every request, where a service-role transaction took three.
  const row = prefix ? (await lookUp(deps.db, prefix))[0] : undefined;
  const identity = checkKeyRow(row, hash, now);
  if (verified.size >= 10_000) verified.clear();
  verified.set(hash, { identity, expiresAt: row!.expires_at ? new Date(row!.expires_at) : null, at: t });
  noteUse(deps, lastRecorded, identity.keyId, now);
  return identity;
}

/**
 * Confirms, on `q` (the writing transaction), that a key accepted from the cache (`key.pending`) still
 * verifies: the same lookup and checks as verifyApiKey, so a key revoked, expired or deleted since is
 * refused with the same 401 before anything commits. A key without `pending` was looked up already.
 */
async function confirmApiKey({ verified }: Caches, q: Queryable, key: ApiKeyIdentity, now: Date): Promise<void> {
  const pending = key.pending;
  if (!pending) return;
  try {
    const current = checkKeyRow((await lookUp(q, pending.prefix))[0], pending.hash, now);
    // No API changes a key's project or scopes; were one to, the cached identity would be stale.
    if (current.keyId !== key.keyId || current.projectId !== key.projectId || current.scopes.join() !== key.scopes.join()) {
      throw new AppError('UNAUTHENTICATED', 'Invalid API key');
    }
  } catch (err) {
    verified.delete(pending.hash);
    throw err;
  }
}

function lookUp(q: Queryable, prefix: string): Promise<KeyRow[]> {
  return q.query<KeyRow>('select id, organization_id, project_id, secret_hash, scopes, expires_at, revoked_at from private.api_key_by_prefix($1)', [prefix]);
}

/** The checks a key passes: a row of its prefix with its hash (compared in constant time), not revoked, not expired. */
function checkKeyRow(row: KeyRow | undefined, hash: string, now: Date): ApiKeyIdentity {
  const matches = timingSafeEqual(row?.secret_hash ?? NO_KEY_HASH, hash);
  if (!row || !matches) throw new AppError('UNAUTHENTICATED', 'Invalid API key');
  if (row.revoked_at) throw new AppError('UNAUTHENTICATED', 'This API key has been revoked');
  if (row.expires_at && new Date(row.expires_at) <= now) throw new AppError('UNAUTHENTICATED', 'This API key has expired');
  const key = { id: row.id, projectId: row.project_id, organizationId: row.organization_id, scopes: row.scopes };
  return { kind: 'apiKey', keyId: key.id, projectId: key.projectId, organizationId: key.organizationId, scopes: key.scopes, claims: apiKeyClaims(key) };
}

/** Asks for the key's last use to be recorded, at most once a minute per process (recordUse). */
function noteUse(deps: VerifyDeps, lastRecorded: Caches['lastRecorded'], keyId: string, now: Date): void {
  const t = now.getTime();
  const last = lastRecorded.get(keyId);
  // A clock that moved back (a test's fake one) records again rather than never.
  if (last === undefined || t - last >= RECORD_EVERY_MS || t < last) {
    if (lastRecorded.size >= 10_000) lastRecorded.clear();
    lastRecorded.set(keyId, t);
    deps.defer(recordUse(deps, keyId, now));
  }
}

/** last_used_at moves at most once a minute per key (in the database, across processes). */
async function recordUse(deps: VerifyDeps, keyId: string, now: Date): Promise<void> {
  try {
    await asServiceRole(deps.db, (tx) =>
      tx.query(
        `update public.api_keys set last_used_at = $2
         where id = $1 and revoked_at is null and (last_used_at is null or last_used_at < $2::timestamptz - interval '1 minute')`,
        [keyId, now],
      ),
    );
  } catch (err) {
    deps.logger.warn({ err, keyId }, 'could not record API key use');
  }
}
