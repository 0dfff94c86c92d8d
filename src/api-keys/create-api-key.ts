import type { Deps } from '../core/deps.ts';
import { AppError, notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { API_KEY_COLUMNS, type ApiKeyRow, type ApiKeyView, type CreateApiKey, toApiKeyView } from './schemas.ts';
import { generateApiKey } from '../auth/api-key-secret.ts';

/** Creates a key for a project. The secret is returned here and never again. */
export async function createApiKey(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Claims,
  input: CreateApiKey,
): Promise<{ apiKey: ApiKeyView; secret: string }> {
  const now = deps.clock.now();
  if (input.expiresAt && new Date(input.expiresAt) <= now) {
    throw new AppError('VALIDATION_FAILED', 'expiresAt must be in the future', { details: [{ field: 'body.expiresAt', message: 'must be in the future' }] });
  }
  return withClaims(deps.db, actor, async (tx) => {
    const [project] = await tx.query<{ id: string; organization_id: string }>('select id, organization_id from public.projects where id = $1', [input.projectId]);
    if (!project) throw notFound('Project');
    const { key, prefix, hash } = await generateApiKey();
    const [row] = await tx.query<ApiKeyRow>(
      // created_by is the inserting user, set by its column default (auth.uid()): not a value we pass.
      `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7) returning ${API_KEY_COLUMNS}`,
      [project.organization_id, project.id, input.name, prefix, hash, input.scopes, input.expiresAt ?? null],
    );
    return { apiKey: toApiKeyView(row!, now), secret: key };
  });
}
