/**
 * Links from notifications into the dashboard (`DASHBOARD_URL`, docs/DASHBOARD.md). The dashboard
 * is a static export, so a page is a path and what it shows is in the query: `project` selects the
 * project (its organization follows), `alert` highlights one alert instance by fingerprint, `id`
 * opens one incident. A signed-out reader is sent to sign in and back to the same link.
 */
const base = (dashboardUrl: string) => dashboardUrl.replace(/\/+$/, '');

/** The Alerts page of the alert's project, its instance highlighted. */
export function alertLink(dashboardUrl: string, projectId: string, fingerprint: string): string {
  return `${base(dashboardUrl)}/alerts/?${new URLSearchParams({ project: projectId, alert: fingerprint })}`;
}

/** One incident of a project. */
export function incidentLink(dashboardUrl: string, projectId: string, incidentId: string): string {
  return `${base(dashboardUrl)}/incidents/?${new URLSearchParams({ project: projectId, id: incidentId })}`;
}
