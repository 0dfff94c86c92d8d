/** The organization roles, weakest first, as the API's RBAC orders them (docs/API.md, Roles). */
export const ROLES = ['viewer', 'member', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `role` is at least `min`: the dashboard hides controls the API would refuse anyway. */
export function atLeast(role: Role | undefined, min: Role): boolean {
  return role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(min);
}
