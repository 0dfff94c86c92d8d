import type { Claims } from '../db/scoped.ts';

export type ApiKeyScope = 'ingest' | 'read' | 'admin';

/** Who is calling. Resolved once per request by the identity middleware. */
export type Identity =
  | { kind: 'anonymous' }
  | { kind: 'user'; userId: string; claims: Claims }
  | { kind: 'service'; claims: Claims }
  | {
      kind: 'apiKey';
      keyId: string;
      projectId: string;
      organizationId: string;
      scopes: ApiKeyScope[];
      claims: Claims;
      /**
       * Set when the key was accepted from this process's cache of verified keys, which only a
       * function that confirms keys at write time asks for (FunctionSpec.confirmsApiKeysAtWrite): its
       * write must pass this to confirmApiKey inside the transaction, and nothing may be written or
       * read for it otherwise.
       */
      pending?: PendingKey;
    };

/** What confirmApiKey needs of a key accepted from the cache: its prefix to look up, its hash to compare. */
export interface PendingKey {
  prefix: string;
  hash: string;
}

/**
 * The claims a request runs under in Postgres. API keys run as `authenticated` with an
 * `observai_key` claim (and no `sub`), so the same RLS policies decide what a key may touch.
 */
export function apiKeyClaims(key: { id: string; projectId: string; organizationId: string; scopes: ApiKeyScope[] }): Claims {
  return {
    role: 'authenticated',
    observai_key: { id: key.id, project_id: key.projectId, organization_id: key.organizationId, scopes: key.scopes },
  };
}
