import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { API_KEY_COLUMNS, type ApiKeyRow, type ApiKeyView, type ListApiKeysQuery, toApiKeyView } from './schemas.ts';

/** The keys the caller may see (RLS decides), newest first. Revoked keys only when asked for. */
export async function listApiKeys(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, query: ListApiKeysQuery): Promise<ApiKeyView[]> {
  const rows = await withClaims(deps.db, actor, (tx) =>
    tx.query<ApiKeyRow>(
      `select ${API_KEY_COLUMNS} from public.api_keys
       where ($1::uuid is null or project_id = $1) and ($2 or revoked_at is null)
       order by created_at desc, id
       limit 1000`,
      [query.projectId ?? null, query.includeRevoked],
    ),
  );
  const now = deps.clock.now();
  return rows.map((r) => toApiKeyView(r, now));
}
