import type { Queryable } from '../db/types.ts';

export type ApiKeyStatus = 'active' | 'revoked' | 'expired';

/**
 * Whether a key verified earlier still holds, read in the caller's own transaction under the key's
 * own claims: a key with the read scope sees its project's key rows (api_keys select policy), its
 * own among them. For requests that outlive their verification (the live tail re-checks on every
 * poll), as ingest confirms cached keys at write time (ADR 0004). A deleted key counts as revoked.
 * `now` is the caller's clock, the one verifyApiKey checks expiry against.
 */
export async function apiKeyStatus(tx: Queryable, keyId: string, now: Date): Promise<ApiKeyStatus> {
  const [row] = await tx.query<{ revoked: boolean; expires_at: Date | string | null }>(
    'select revoked_at is not null as revoked, expires_at from public.api_keys where id = $1',
    [keyId],
  );
  if (!row || row.revoked) return 'revoked';
  if (row.expires_at !== null && new Date(row.expires_at) <= now) return 'expired';
  return 'active';
}
