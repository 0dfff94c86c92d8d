import { z } from 'zod';

export const ApiKeyScope = z.enum(['ingest', 'read', 'admin']);
export type ApiKeyScope = z.infer<typeof ApiKeyScope>;

export const CreateApiKey = z.strictObject({
  projectId: z.uuid(),
  name: z.string().trim().min(1).max(200),
  scopes: z.array(ApiKeyScope).min(1).max(3).default(['ingest']).transform((s) => [...new Set(s)]),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
export type CreateApiKey = z.infer<typeof CreateApiKey>;

export const RotateApiKey = z.strictObject({
  /** How long the old secret keeps working; 0 ends it now. Default one day, at most 30 days. */
  gracePeriodSeconds: z.number().int().min(0).max(30 * 86400).default(86400),
});
export type RotateApiKey = z.infer<typeof RotateApiKey>;

export const ListApiKeysQuery = z.strictObject({
  projectId: z.uuid().optional(),
  includeRevoked: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});
export type ListApiKeysQuery = z.infer<typeof ListApiKeysQuery>;

const Time = z.iso.datetime();

/** What the API returns for a key: never the secret or its hash. */
export const ApiKeyView = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid(),
    projectId: z.uuid(),
    name: z.string(),
    /** The recognisable start of the key (`oai_xxxxxxxxxxxx`). */
    prefix: z.string(),
    scopes: z.array(ApiKeyScope),
    status: z.enum(['active', 'expired', 'revoked']),
    expiresAt: Time.nullable(),
    revokedAt: Time.nullable(),
    lastUsedAt: Time.nullable(),
    createdBy: z.uuid().nullable(),
    rotatedFrom: z.uuid().nullable(),
    createdAt: Time,
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyView = z.infer<typeof ApiKeyView>;

/** The secret is in this answer and never again. */
export const ApiKeyCreated = z.object({ apiKey: ApiKeyView, secret: z.string().regex(/^oai_[a-zA-Z0-9]{12}_[a-zA-Z0-9]{32}$/) });
export const ApiKeyRotated = ApiKeyCreated.extend({ previous: ApiKeyView });
export const ApiKeyResponse = z.object({ apiKey: ApiKeyView });
export const ApiKeysResponse = z.object({ apiKeys: z.array(ApiKeyView) });

export const API_KEY_COLUMNS =
  'id, organization_id, project_id, name, prefix, scopes, expires_at, revoked_at, last_used_at, created_by, rotated_from, created_at';

export interface ApiKeyRow {
  id: string;
  organization_id: string;
  project_id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  created_by: string | null;
  rotated_from: string | null;
  created_at: Date;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function toApiKeyView(row: ApiKeyRow, now: Date): ApiKeyView {
  const status = row.revoked_at ? 'revoked' : row.expires_at && new Date(row.expires_at) <= now ? 'expired' : 'active';
  return {
    id: row.id,
    organizationId: row.organization_id,
    projectId: row.project_id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    status,
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
    lastUsedAt: iso(row.last_used_at),
    createdBy: row.created_by,
    rotatedFrom: row.rotated_from,
    createdAt: iso(row.created_at)!,
  };
}
