/**
 * A complete tenant for permission tests: one organization with an owner, an admin, a member assigned
 * to project A, a member assigned to nothing, and a viewer; projects A and B; an API key on A; and a
 * second organization with its own owner and project.
 */
import { generateApiKey } from '../../src/auth/api-key-secret.ts';
import type { TestEnv } from './env.ts';

export type Actor = 'owner' | 'admin' | 'member' | 'unassigned' | 'viewer' | 'outsider';
export interface Person {
  id: string;
  email: string;
  jwt: string;
}

export interface Tenant {
  orgId: string;
  projectA: string;
  projectB: string;
  people: Record<Actor, Person>;
  keyA: { id: string; secret: string };
  other: { orgId: string; projectId: string; keyId: string };
}

export async function createTenant(env: TestEnv): Promise<Tenant> {
  const people = {} as Record<Actor, Person>;
  for (const actor of ['owner', 'admin', 'member', 'unassigned', 'viewer', 'outsider'] as const) people[actor] = await env.createUser();
  const { db } = env;
  const slug = () => `t-${Math.random().toString(36).slice(2, 10)}`;
  const [org] = await db.query<{ id: string }>('insert into public.organizations (name, slug) values ($1, $2) returning id', ['Acme', slug()]);
  const [other] = await db.query<{ id: string }>('insert into public.organizations (name, slug) values ($1, $2) returning id', ['Other', slug()]);
  const roles: Array<[Actor, string, string]> = [
    ['owner', org!.id, 'owner'],
    ['admin', org!.id, 'admin'],
    ['member', org!.id, 'member'],
    ['unassigned', org!.id, 'member'],
    ['viewer', org!.id, 'viewer'],
    ['outsider', other!.id, 'owner'],
  ];
  for (const [actor, orgId, role] of roles) {
    await db.query('insert into public.organization_members (organization_id, user_id, role) values ($1, $2, $3)', [orgId, people[actor].id, role]);
  }
  const [a] = await db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'A', 'proj-a') returning id`, [org!.id]);
  const [b] = await db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'B', 'proj-b') returning id`, [org!.id]);
  const [op] = await db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'O', 'proj-o') returning id`, [other!.id]);
  await db.query('insert into public.project_members (project_id, organization_id, user_id) values ($1, $2, $3)', [a!.id, org!.id, people.member.id]);
  const key = await generateApiKey();
  const [k] = await db.query<{ id: string }>(
    `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'k', $3, $4, array['ingest','read']) returning id`,
    [org!.id, a!.id, key.prefix, key.hash],
  );
  const otherKey = await generateApiKey();
  const [ok] = await db.query<{ id: string }>(
    `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'o', $3, $4, array['admin']) returning id`,
    [other!.id, op!.id, otherKey.prefix, otherKey.hash],
  );
  return {
    orgId: org!.id,
    projectA: a!.id,
    projectB: b!.id,
    people,
    keyA: { id: k!.id, secret: key.key },
    other: { orgId: other!.id, projectId: op!.id, keyId: ok!.id },
  };
}
