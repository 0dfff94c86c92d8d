import { type Claims, withClaims } from '../db/scoped.ts';
import type { Db, Queryable } from '../db/types.ts';
import { apiKeyStatus } from './api-key-status.ts';
import type { Identity } from './identity.ts';

/**
 * The credential a long-lived read (a Server-Sent Events stream: the live log tail, the alert stream)
 * was opened with, as every poll re-checks it. The claims were built when the stream opened, and RLS
 * alone would keep a revoked key's stream going, since a key's claims name its project whatever its
 * row says; so no poll reads anything once the credential no longer holds.
 */
export type StreamCredential = { kind: 'apiKey'; keyId: string } | { kind: 'user'; /** The token's exp, ms. */ expiresAt?: number };

/** Why a stream ended: its credential was revoked (or the key deleted), expired, or lost the project. */
export type CredentialEndReason = 'credential_revoked' | 'credential_expired' | 'access_revoked';

/** A stream's transactions: short reads, one a poll. */
export const STREAM_READ: Readonly<Record<string, string>> = { statement_timeout: '10s' };

/** The credential of a reader's request (a user or an API key; readerClaims refused the rest). */
export function streamCredential(identity: Identity, claims: Claims): StreamCredential {
  return identity.kind === 'apiKey' ? { kind: 'apiKey', keyId: identity.keyId } : { kind: 'user', expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined };
}

/**
 * Whether the credential still holds for `projectId`, read on the poll's own transaction: an API key
 * not revoked, expired or deleted (apiKeyStatus, at `now` of the caller's clock); a user still able
 * to read the project (the same helper as the read policies: removed from the organization or the
 * project, the user loses it). Its statement is issued before this returns a promise, so a caller
 * that does not await it at once has it pipelined ahead of its reads.
 */
export function credentialEnd(tx: Queryable, credential: StreamCredential, projectId: string, now: Date): Promise<CredentialEndReason | undefined> {
  if (credential.kind === 'apiKey') {
    return apiKeyStatus(tx, credential.keyId, now).then((s) => (s === 'active' ? undefined : s === 'expired' ? 'credential_expired' : 'credential_revoked'));
  }
  return tx
    .query<{ ok: boolean }>('select $1::uuid in (select private.readable_project_ids()) as ok', [projectId])
    .then(([row]) => (row?.ok ? undefined : 'access_revoked'));
}

/**
 * One poll of a stream: `read` runs under the stream's claims in one transaction, with the credential
 * re-checked in that transaction, pipelined ahead of the reads; when it no longer holds, what was read
 * is thrown away and the answer is the reason to end. A user's token past its `exp` ends the stream
 * before anything is read.
 */
export async function readIfCredentialHolds<T>(
  db: Db,
  claims: Claims,
  credential: StreamCredential,
  projectId: string,
  now: Date,
  read: (tx: Queryable) => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; end: CredentialEndReason }> {
  if (credential.kind === 'user' && credential.expiresAt !== undefined && now.getTime() >= credential.expiresAt) return { ok: false, end: 'credential_expired' };
  return withClaims(
    db,
    claims,
    async (tx) => {
      const ended = credentialEnd(tx, credential, projectId, now);
      ended.catch(() => {}); // awaited below, after the reads it is pipelined with
      const value = await read(tx);
      const end = await ended;
      return end ? { ok: false as const, end } : { ok: true as const, value };
    },
    STREAM_READ,
  );
}
