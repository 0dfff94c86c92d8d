import { AppError, notFound } from '../core/errors.ts';
import type { Queryable } from '../db/types.ts';
import { type OrganizationRow, PROJECT_COLUMNS, type ProjectRow } from './schemas.ts';

/**
 * Reads run under RLS, so "not visible" and "does not exist" look the same to the caller: both are
 * 404. A mutation that RLS then refuses on a visible row is a 403 (the caller knows it exists).
 */
export async function findMyOrganization(tx: Queryable, orgId: string): Promise<OrganizationRow> {
  const [org] = await tx.query<OrganizationRow>(
    `select o.id, o.name, o.slug, o.plan, o.billing_email, o.created_at, m.role
     from public.organizations o
     join public.organization_members m on m.organization_id = o.id and m.user_id = (select auth.uid())
     where o.id = $1`,
    [orgId],
  );
  if (!org) throw notFound('Organization');
  return org;
}

export async function findVisibleProject(tx: Queryable, orgId: string, projectId: string): Promise<ProjectRow> {
  const [project] = await tx.query<ProjectRow>(
    `select ${PROJECT_COLUMNS} from public.projects where id = $1 and organization_id = $2`,
    [projectId, orgId],
  );
  if (!project) throw notFound('Project');
  return project;
}

/** Where a request names its project: the field a missing projectId is reported under. */
export type ProjectField = 'query.projectId' | 'body.projectId';

/**
 * The project a read or write is about: the one the request names, or the API key's own when it
 * names none. A request with neither (a user or service token naming no project) is a 400 naming
 * `field`, the place the caller should have put it; 404 when the caller cannot see the project (RLS).
 */
export async function resolveProject(tx: Queryable, projectId: string | undefined, keyProjectId: string | undefined, field: ProjectField = 'query.projectId'): Promise<string> {
  const id = projectId ?? keyProjectId;
  if (!id) throw projectRequired(field);
  const [row] = await tx.query('select id from public.projects where id = $1', [id]);
  if (!row) throw notFound('Project');
  return id;
}

/** The 400 for a request that names no project and whose credential has none of its own. */
export function projectRequired(field: ProjectField): AppError {
  const message = 'is required unless the request is made with a project API key';
  return new AppError('VALIDATION_FAILED', `${field}: ${message}`, { details: [{ field, message }] });
}

/** As resolveProject, for listings that span every visible project when the request names none (null). */
export async function resolveOptionalProject(tx: Queryable, projectId: string | undefined, keyProjectId: string | undefined, field: ProjectField = 'query.projectId'): Promise<string | null> {
  return projectId || keyProjectId ? resolveProject(tx, projectId, keyProjectId, field) : null;
}
