import type { Deps } from '../core/deps.ts';
import { AppError, forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findVisibleKey } from './get-api-key.ts';
import { API_KEY_COLUMNS, type ApiKeyRow, type ApiKeyView, type RotateApiKey, toApiKeyView } from './schemas.ts';
import { generateApiKey } from '../auth/api-key-secret.ts';

/**
 * Issues a new secret for a key. The new key inherits name, project, scopes and expiry; the old one
 * keeps working until the grace period ends (its expires_at is pulled in), so deployments can
 * switch over without downtime. Both changes commit together.
 */
export async function rotateApiKey(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Claims,
  id: string,
  input: RotateApiKey,
): Promise<{ apiKey: ApiKeyView; secret: string; previous: ApiKeyView }> {
  const now = deps.clock.now();
  const graceEnds = new Date(now.getTime() + input.gracePeriodSeconds * 1000);
  return withClaims(deps.db, actor, async (tx) => {
    const old = await findVisibleKey(tx, id);
    if (old.revoked_at) throw new AppError('CONFLICT', 'A revoked API key cannot be rotated');
    if (old.expires_at && new Date(old.expires_at) <= now) throw new AppError('CONFLICT', 'An expired API key cannot be rotated');
    const [previous] = await tx.query<ApiKeyRow>(
      `update public.api_keys set expires_at = least(coalesce(expires_at, 'infinity'), $2::timestamptz)
       where id = $1 returning ${API_KEY_COLUMNS}`,
      [id, graceEnds],
    );
    if (!previous) throw forbidden('Only owners and admins can rotate API keys');
    const { key, prefix, hash } = await generateApiKey();
    const [created] = await tx.query<ApiKeyRow>(
      `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes, expires_at, rotated_from)
       values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${API_KEY_COLUMNS}`,
      [old.organization_id, old.project_id, old.name, prefix, hash, old.scopes, old.expires_at, old.id],
    );
    return { apiKey: toApiKeyView(created!, now), secret: key, previous: toApiKeyView(previous, now) };
  });
}
