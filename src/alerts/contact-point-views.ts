/**
 * What the contact-point verbs share: the row and its view (never the secret: `hasSecret` says
 * whether there is one), the fetch-or-404 lookup that also says whether the caller may manage it,
 * and the checks of a kind's settings, secret and URLs, each a 400 naming the field.
 */
import { toIso as iso } from '../core/time.ts';
import type { Deps } from '../core/deps.ts';
import { AppError, forbidden, notFound } from '../core/errors.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { invalid } from '../http/validate.ts';
import { loadPolicy, receiverPaths } from './get-policy.ts';
import { type ContactKind, NOTIFIERS } from './notifiers/index.ts';

/** The columns users may read (settings are not among them: see sealedParts). */
export const CONTACT_POINT_COLUMNS =
  'id, project_id, organization_id, name, kind, send_resolved, disabled_at, disabled_reason, created_by, created_at, updated_at';
/** As CONTACT_POINT_COLUMNS, with whether the caller may manage the contact point (its organization's owners and admins). */
export const CONTACT_POINT_COLUMNS_MANAGED = `${CONTACT_POINT_COLUMNS}, organization_id in (select private.org_ids_with_role(array['owner', 'admin'])) as may_manage`;

export interface ContactPointRow {
  id: string;
  project_id: string;
  organization_id: string;
  name: string;
  kind: ContactKind;
  send_resolved: boolean;
  disabled_at: Date | null;
  disabled_reason: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}


/**
 * A contact point as the API shows it. Its settings in full to those who may manage it; to other
 * readers (members, viewers, read keys) every URL reduced to its origin: webhook, Alertmanager and
 * chat URLs often carry a token in their path or query (Teams, Discord, Google Chat).
 */
export const toContactPointView = (r: ContactPointRow, parts: SealedParts, mayManage: boolean) => ({
  id: r.id,
  projectId: r.project_id,
  organizationId: r.organization_id,
  name: r.name,
  kind: r.kind,
  settings: mayManage ? parts.settings : redactUrls(parts.settings),
  hasSecret: parts.hasSecret,
  sendResolved: r.send_resolved,
  /** False once a receiver answered 410 Gone (or a user disabled it); PATCH {enabled: true} clears it. */
  enabled: r.disabled_at === null,
  disabledAt: iso(r.disabled_at),
  disabledReason: r.disabled_reason,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});
export type ContactPointView = ReturnType<typeof toContactPointView>;

export interface SealedParts {
  settings: Record<string, unknown>;
  hasSecret: boolean;
}

/**
 * The settings of these contact points and whether each has a sealed secret. No API role may read
 * settings or secret_ciphertext (not even `is not null` of it), so the service role answers, and
 * only about ids the caller's own (RLS-scoped) read returned.
 */
export async function sealedParts(deps: Pick<Deps, 'db'>, ids: string[]): Promise<Map<string, SealedParts>> {
  if (ids.length === 0) return new Map();
  const rows = await asServiceRole(deps.db, (tx) =>
    tx.query<{ id: string; settings: Record<string, unknown>; has_secret: boolean }>(
      'select id, settings, secret_ciphertext is not null as has_secret from public.contact_points where id = any($1::text[]::uuid[])',
      [ids],
    ),
  );
  return new Map(rows.map((r) => [r.id, { settings: r.settings, hasSecret: r.has_secret }]));
}

/** Settings with every http(s) URL in them (at any depth) reduced to its origin, `…` marking what was cut. */
export function redactUrls(value: Record<string, unknown>): Record<string, unknown> {
  const redact = (v: unknown): unknown => {
    if (typeof v === 'string' && /^https?:\/\//i.test(v)) {
      try {
        const u = new URL(v);
        return u.pathname === '/' && !u.search && !u.hash && !u.username ? u.origin : `${u.origin}/…`;
      } catch {
        return '…';
      }
    }
    if (Array.isArray(v)) return v.map(redact);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x)]));
    return v;
  };
  return redact(value) as Record<string, unknown>;
}

/** The contact point under the caller's claims, or 404 (another tenant's id looks like an unknown one). */
export async function findContactPoint(tx: Queryable, id: string): Promise<ContactPointRow & { may_manage: boolean }> {
  const [row] = await tx.query<ContactPointRow & { may_manage: boolean }>(
    `select ${CONTACT_POINT_COLUMNS_MANAGED} from public.contact_points where id = $1`,
    [id],
  );
  if (!row) throw notFound('Contact point');
  return row;
}

/**
 * The project (already resolved and visible) when the caller may manage its alerting configuration:
 * contact points and the notification policy are owners' and admins' (what the pager does is theirs
 * to decide); a 403 otherwise, before anything else is checked.
 */
export async function managedProject(tx: Queryable, projectId: string, what: string): Promise<{ id: string; organization_id: string; name: string }> {
  const [p] = await tx.query<{ id: string; organization_id: string; name: string; may_manage: boolean }>(
    `select id, organization_id, name, organization_id in (select private.org_ids_with_role(array['owner', 'admin'])) as may_manage
     from public.projects where id = $1`,
    [projectId],
  );
  if (!p) throw notFound('Project');
  if (!p.may_manage) throw forbidden(`Only owners and admins can manage ${what}`);
  return p;
}

/**
 * Serialises changes to one project's contact points and policy (transaction-scoped), so a policy
 * saved while its last contact point is deleted cannot end up naming nothing, and limits hold.
 */
export async function lockAlertingConfig(tx: Queryable, projectId: string): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(hashtext('observai.alerting_config:' || $1::text))`, [projectId]);
}

/**
 * A 409 when the project's policy routes to this contact point's name and no other contact point
 * has that name: deleting or renaming it would leave the tree routing to nothing. Call under
 * lockAlertingConfig, so a policy saved meanwhile cannot slip past.
 */
export async function assertNotLastReceiver(tx: Queryable, cp: Pick<ContactPointRow, 'id' | 'project_id' | 'name'>, change: string): Promise<void> {
  const policy = await loadPolicy(tx, cp.project_id);
  const uses = policy ? receiverPaths(policy.document).filter((r) => r.receiver === cp.name) : [];
  if (uses.length === 0) return;
  const [other] = await tx.query('select 1 from public.contact_points where project_id = $1 and name = $2 and id <> $3 limit 1', [cp.project_id, cp.name, cp.id]);
  if (other) return;
  const details = uses.map((u) => ({ field: `policy.${u.path}`, message: `routes to '${cp.name}', whose only contact point this is` }));
  throw new AppError(
    'CONFLICT',
    `The notification policy routes to '${cp.name}' (${details.map((d) => d.field).join(', ')}) and this is its only contact point: change the policy before you ${change} it`,
    { details },
  );
}

function validationError(prefix: string, issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>): AppError {
  const details = issues.map((i) => ({ field: [prefix, ...i.path.map(String)].join('.'), message: i.message }));
  return new AppError('VALIDATION_FAILED', `${details[0]!.field}: ${details[0]!.message}`, { details });
}

/** The kind's settings, parsed (defaults applied) by its notifier's schema; 400 naming body.settings.<field>. */
export function parseSettings(kind: ContactKind, raw: unknown): Record<string, unknown> {
  const r = NOTIFIERS[kind].settings.safeParse(raw);
  if (!r.success) throw validationError('body.settings', r.error.issues);
  return r.data as Record<string, unknown>;
}

/** The secret as the kind's notifier takes it; 400 naming body.secret. */
export function parseSecret(kind: ContactKind, secret: string): string {
  const r = NOTIFIERS[kind].secret.schema.safeParse(secret);
  if (!r.success) throw validationError('body.secret', r.error.issues);
  return r.data;
}

export function secretRequired(kind: ContactKind): AppError {
  return invalid('body.secret', `is required for a ${kind} contact point: ${NOTIFIERS[kind].secret.describe}`);
}

/** Kinds whose secret is the URL itself (Slack's incoming webhook URL carries its token). */
const URL_SECRET: ReadonlySet<ContactKind> = new Set(['slack']);

/** Every string under a key named `url` or `...Url`, with its path: the destinations a kind posts to. */
function urlFields(value: unknown, path: string[] = []): Array<[string[], string]> {
  if (typeof value !== 'object' || value === null) return [];
  const out: Array<[string[], string]> = [];
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string' && /^(url|.*Url)$/.test(k)) out.push([[...path, k], v]);
    else out.push(...urlFields(v, [...path, k]));
  }
  return out;
}

/**
 * Every URL the contact point would post to passes the outbound guard's URL check when saved (a
 * 400 naming the field). Where it points is judged again at every send, after DNS resolution, inside
 * the guard: a name can resolve somewhere else tomorrow, so a check here could never be the real one.
 */
export function checkDestinations(outbound: Deps['outbound'], kind: ContactKind, settings: Record<string, unknown> | undefined, secret: string | undefined): void {
  const check = (field: string, url: string) => {
    try {
      outbound.checkUrl(url);
    } catch (err) {
      // Duck-typed, as src/net/http-delivery.ts does: importing OutboundError would pull node:http into the edge bundle.
      const e = err as { name?: unknown; kind?: unknown; detail?: unknown; message?: unknown } | null;
      if (e?.name !== 'OutboundError') throw err;
      throw invalid(field, e.kind === 'invalid-url' && typeof e.detail === 'string' ? e.detail : String(e.message));
    }
  };
  for (const [path, url] of urlFields(settings)) check(['body.settings', ...path].join('.'), url);
  if (secret !== undefined && URL_SECRET.has(kind)) check('body.secret', secret);
}

/** An on-call contact point names a service of its own project (readable by the caller), or it is a 400. */
export async function checkOncallService(tx: Queryable, kind: ContactKind, settings: Record<string, unknown> | undefined, projectId: string): Promise<void> {
  if (kind !== 'oncall' || settings === undefined) return;
  const [found] = await tx.query('select 1 from public.oncall_services where id = $1 and project_id = $2', [settings.serviceId, projectId]);
  if (!found) throw invalid('body.settings.serviceId', "is not an on-call service of the contact point's project");
}
