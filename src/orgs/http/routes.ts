import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { actorClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { acceptInvitation } from '../accept-invitation.ts';
import { assignProjectMember } from '../assign-project-member.ts';
import { changeMemberRole } from '../change-member-role.ts';
import { createInvitation } from '../create-invitation.ts';
import { createOrganization } from '../create-organization.ts';
import { createProject } from '../create-project.ts';
import { deleteOrganization } from '../delete-organization.ts';
import { deleteProject } from '../delete-project.ts';
import { getOrganization } from '../get-organization.ts';
import { getProject } from '../get-project.ts';
import { listAuditLog } from '../list-audit-log.ts';
import { listInvitations } from '../list-invitations.ts';
import { listMembers } from '../list-members.ts';
import { listOrganizations } from '../list-organizations.ts';
import { listProjectMembers } from '../list-project-members.ts';
import { listProjects } from '../list-projects.ts';
import { removeMember } from '../remove-member.ts';
import { revokeInvitation } from '../revoke-invitation.ts';
import { unassignProjectMember } from '../unassign-project-member.ts';
import { updateOrganization } from '../update-organization.ts';
import { updateProject } from '../update-project.ts';
import {
  AcceptInvitation,
  AuditLogQuery,
  ChangeMemberRole,
  CreateInvitation,
  CreateOrganization,
  CreateProject,
  InvitationParams,
  MemberParams,
  OrgParams,
  ProjectMemberParams,
  ProjectParams,
  UpdateOrganization,
  UpdateProject,
} from '../schemas.ts';

/** The orgs function: organizations, members, invitations, projects, assignments, audit log. Users only. */
export function orgsRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/', async (c) => c.json({ organization: await createOrganization(deps, actorClaims(c), await parseBody(c, CreateOrganization)) }, 201));
  app.get('/', async (c) => c.json({ organizations: await listOrganizations(deps, actorClaims(c)) }));
  // Static path before /:orgId routes.
  app.post('/invitations/accept', async (c) => {
    const actor = actorClaims(c);
    return c.json(await acceptInvitation(deps, actor, (await parseBody(c, AcceptInvitation)).token));
  });

  app.get('/:orgId', async (c) => c.json({ organization: await getOrganization(deps, actorClaims(c), parseParams(c, OrgParams).orgId) }));
  app.patch('/:orgId', async (c) => {
    const actor = actorClaims(c);
    const { orgId } = parseParams(c, OrgParams);
    return c.json({ organization: await updateOrganization(deps, actor, orgId, await parseBody(c, UpdateOrganization)) });
  });
  app.delete('/:orgId', async (c) => {
    await deleteOrganization(deps, actorClaims(c), parseParams(c, OrgParams).orgId);
    return c.body(null, 204);
  });

  app.get('/:orgId/members', async (c) => c.json({ members: await listMembers(deps, actorClaims(c), parseParams(c, OrgParams).orgId) }));
  app.patch('/:orgId/members/:userId', async (c) => {
    const actor = actorClaims(c);
    const { orgId, userId } = parseParams(c, MemberParams);
    const { role } = await parseBody(c, ChangeMemberRole);
    return c.json({ member: await changeMemberRole(deps, actor, orgId, userId, role) });
  });
  app.delete('/:orgId/members/:userId', async (c) => {
    const actor = actorClaims(c);
    const { orgId, userId } = parseParams(c, MemberParams);
    await removeMember(deps, actor, orgId, userId);
    return c.body(null, 204);
  });

  app.post('/:orgId/invitations', async (c) => {
    const actor = actorClaims(c);
    const { orgId } = parseParams(c, OrgParams);
    return c.json(await createInvitation(deps, actor, orgId, await parseBody(c, CreateInvitation)), 201);
  });
  app.get('/:orgId/invitations', async (c) => c.json({ invitations: await listInvitations(deps, actorClaims(c), parseParams(c, OrgParams).orgId) }));
  app.post('/:orgId/invitations/:invitationId/revoke', async (c) => {
    const actor = actorClaims(c);
    const { orgId, invitationId } = parseParams(c, InvitationParams);
    return c.json({ invitation: await revokeInvitation(deps, actor, orgId, invitationId) });
  });

  app.post('/:orgId/projects', async (c) => {
    const actor = actorClaims(c);
    const { orgId } = parseParams(c, OrgParams);
    return c.json({ project: await createProject(deps, actor, orgId, await parseBody(c, CreateProject)) }, 201);
  });
  app.get('/:orgId/projects', async (c) => c.json({ projects: await listProjects(deps, actorClaims(c), parseParams(c, OrgParams).orgId) }));
  app.get('/:orgId/projects/:projectId', async (c) => {
    const { orgId, projectId } = parseParams(c, ProjectParams);
    return c.json({ project: await getProject(deps, actorClaims(c), orgId, projectId) });
  });
  app.patch('/:orgId/projects/:projectId', async (c) => {
    const actor = actorClaims(c);
    const { orgId, projectId } = parseParams(c, ProjectParams);
    return c.json({ project: await updateProject(deps, actor, orgId, projectId, await parseBody(c, UpdateProject)) });
  });
  app.delete('/:orgId/projects/:projectId', async (c) => {
    const actor = actorClaims(c);
    const { orgId, projectId } = parseParams(c, ProjectParams);
    await deleteProject(deps, actor, orgId, projectId);
    return c.body(null, 204);
  });

  app.get('/:orgId/projects/:projectId/members', async (c) => {
    const { orgId, projectId } = parseParams(c, ProjectParams);
    return c.json({ members: await listProjectMembers(deps, actorClaims(c), orgId, projectId) });
  });
  app.put('/:orgId/projects/:projectId/members/:userId', async (c) => {
    const actor = actorClaims(c);
    const { orgId, projectId, userId } = parseParams(c, ProjectMemberParams);
    await assignProjectMember(deps, actor, orgId, projectId, userId);
    return c.body(null, 204);
  });
  app.delete('/:orgId/projects/:projectId/members/:userId', async (c) => {
    const actor = actorClaims(c);
    const { orgId, projectId, userId } = parseParams(c, ProjectMemberParams);
    await unassignProjectMember(deps, actor, orgId, projectId, userId);
    return c.body(null, 204);
  });

  app.get('/:orgId/audit-log', async (c) => {
    const actor = actorClaims(c);
    const { orgId } = parseParams(c, OrgParams);
    return c.json(await listAuditLog(deps, actor, orgId, parseQuery(c, AuditLogQuery)));
  });

  return app;
}
