import { generateApiKey } from '../auth/api-key-secret.ts';
import { signJwt } from '../auth/jwt.ts';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../db/types.ts';

export interface DemoSeed {
  organizationId: string;
  projectId: string;
  apiKey: string;
  ownerJwt: string;
  ownerEmail: string;
  ownerUserId: string;
  /** A service-role JWT (role service_role): the cron-*, /ingest/stats and retention preview routes. */
  serviceToken: string;
  /** An anon-role JWT, as Supabase's anon key is: what supabase-js's createClient takes. */
  anonKey: string;
  /** When ownerJwt and serviceToken expire (anonKey: ANON_KEY_TTL_S). */
  expiresAt: string;
  /** The owner's password for the local Auth stand-in (/auth/v1), when the caller gave one. */
  ownerPassword?: string;
}

export const DEMO_OWNER_EMAIL = 'demo@observai.local';
/** The demo's owner and service-role tokens last 30 days (`npm run token` mints new ones). */
export const DEMO_TOKEN_TTL_S = 30 * 86400;
/** Supabase's anon keys last about ten years; ours too. It identifies the project and grants nothing. */
export const ANON_KEY_TTL_S = 10 * 365 * 86400;

/**
 * On the first start against a new database: a demo organization, its owner, a project and an
 * ingest+read API key, so a newcomer can call the API at once. Runs once per database (a marker
 * in private.instance_state), in one transaction. Returns null when the database was seeded before.
 */
export async function seedDemo(
  deps: { db: Db; clock: Clock },
  /** ownerPassword: the owner's password and its hash (src/auth-standin/password.ts), stored in auth.users.encrypted_password. */
  opts: { jwtSecret: string; ownerPassword?: { password: string; hash: string } },
): Promise<DemoSeed | null> {
  const { key, prefix, hash } = await generateApiKey();
  const seeded = await deps.db.transaction(async (tx) => {
    const [marker] = await tx.query(`insert into private.instance_state (key, value) values ('demo_seeded', 'true') on conflict do nothing returning key`);
    if (!marker) return null;
    const [user] = await tx.query<{ id: string }>(
      `insert into auth.users (email, raw_user_meta_data, encrypted_password) values ($1, '{"full_name": "Demo Owner"}', $2) returning id`,
      [DEMO_OWNER_EMAIL, opts.ownerPassword?.hash ?? null],
    );
    const [org] = await tx.query<{ id: string }>(`insert into public.organizations (name, slug) values ('Demo Organization', 'demo') returning id`);
    await tx.query(`insert into public.organization_members (organization_id, user_id, role) values ($1, $2, 'owner')`, [org!.id, user!.id]);
    const [project] = await tx.query<{ id: string }>(
      `insert into public.projects (organization_id, name, slug) values ($1, 'Demo Project', 'demo') returning id`,
      [org!.id],
    );
    await tx.query(
      `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes, created_by)
       values ($1, $2, 'Demo key', $3, $4, array['ingest', 'read'], $5)`,
      [org!.id, project!.id, prefix, hash, user!.id],
    );
    return { organizationId: org!.id, projectId: project!.id, ownerUserId: user!.id };
  });
  if (!seeded) return null;
  const now = deps.clock.now();
  const ownerJwt = await signJwt(
    opts.jwtSecret,
    { sub: seeded.ownerUserId, role: 'authenticated', aud: 'authenticated', email: DEMO_OWNER_EMAIL },
    { expiresInSeconds: DEMO_TOKEN_TTL_S, now },
  );
  const serviceToken = await signJwt(opts.jwtSecret, { role: 'service_role' }, { expiresInSeconds: DEMO_TOKEN_TTL_S, now });
  const anonKey = await signJwt(opts.jwtSecret, { role: 'anon' }, { expiresInSeconds: ANON_KEY_TTL_S, now });
  const expiresAt = new Date(Math.floor(now.getTime() / 1000) * 1000 + DEMO_TOKEN_TTL_S * 1000).toISOString();
  return { ...seeded, apiKey: key, ownerJwt, ownerEmail: DEMO_OWNER_EMAIL, serviceToken, anonKey, expiresAt, ownerPassword: opts.ownerPassword?.password };
}
