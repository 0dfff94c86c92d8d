import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { API_KEY_COLUMNS, type ApiKeyRow, type ApiKeyView, toApiKeyView } from './schemas.ts';

export async function findVisibleKey(tx: Queryable, id: string): Promise<ApiKeyRow> {
  const [row] = await tx.query<ApiKeyRow>(`select ${API_KEY_COLUMNS} from public.api_keys where id = $1`, [id]);
  if (!row) throw notFound('API key');
  return row;
}

export async function getApiKey(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string): Promise<ApiKeyView> {
  const row = await withClaims(deps.db, actor, (tx) => findVisibleKey(tx, id));
  return toApiKeyView(row, deps.clock.now());
}
