import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findVisibleKey } from './get-api-key.ts';
import { API_KEY_COLUMNS, type ApiKeyRow, type ApiKeyView, toApiKeyView } from './schemas.ts';

/** Revokes a key at once. Revoking a revoked key is a no-op that returns it unchanged. */
export async function revokeApiKey(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string): Promise<ApiKeyView> {
  const now = deps.clock.now();
  const row = await withClaims(deps.db, actor, async (tx) => {
    const existing = await findVisibleKey(tx, id);
    if (existing.revoked_at) return existing;
    const [updated] = await tx.query<ApiKeyRow>(
      `update public.api_keys set revoked_at = $2 where id = $1 and revoked_at is null returning ${API_KEY_COLUMNS}`,
      [id, now],
    );
    // Visible but not updatable: the caller may read this project's keys but not manage them.
    if (!updated) throw forbidden('Only owners and admins can revoke API keys');
    return updated;
  });
  return toApiKeyView(row, now);
}
