/** API keys (/api-keys): create, list, revoke, rotate. User tokens (owners, admins) or admin-scoped keys. */
import { checkId, type Command, type Ctx } from '../command.ts';
import { usage } from '../errors.ts';
import { listing } from '../output.ts';
import { checkProjectId } from './auth.ts';

const SCOPES = ['ingest', 'read', 'admin'] as const;

interface ApiKey {
  id: string;
  projectId: string;
  name: string;
  prefix: string;
  scopes: string[];
  status: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

const keyId = (ctx: Ctx) => checkId(ctx.args[0], '<keyId>', "a key's id (as keys list shows it)")!;

function printSecret(ctx: Ctx, apiKey: ApiKey, secret: string): void {
  ctx.out.line(`API key ${apiKey.id} "${apiKey.name}" (${apiKey.scopes.join(',')}) in project ${apiKey.projectId}${apiKey.expiresAt ? `, expires ${apiKey.expiresAt}` : ''}`);
  ctx.out.line('');
  ctx.out.line(`  ${ctx.out.c.bold(secret)}`);
  ctx.out.line('');
  ctx.out.note('The secret is shown only now: store it (a secret manager, an environment variable).');
}

const create: Command = {
  path: ['keys', 'create'],
  summary: 'create an API key in a project; prints its secret once',
  description: 'POST /api-keys (owners and admins, or an admin-scoped key of the project). --project is required.',
  flags: {
    name: { type: 'string', value: 'name', description: 'what it is for (required)' },
    scopes: { type: 'string', multiple: true, value: 'scopes', description: 'ingest, read, admin: comma-separated or repeated (default ingest)' },
    'expires-in': { type: 'string', value: 'duration', description: 'expires after this long: 30d, 12h' },
    'expires-at': { type: 'string', value: 'time', description: 'expires then (ISO 8601)' },
  },
  examples: [
    'observai keys create --name otel-collector --scopes ingest --project 3f0c…',
    'observai keys create --name grafana --scopes read --expires-in 90d --json | jq -r .secret',
  ],
  async run(ctx) {
    const f = ctx.flags;
    const name = f.required('name');
    const projectId = checkProjectId(ctx.project());
    if (!projectId) throw usage('--project is required: keys belong to a project (or observai login --project <id>)');
    const scopes = f.choices('scopes', SCOPES);
    const expiresIn = f.duration('expires-in');
    let expiresAt = f.time('expires-at');
    if (expiresIn !== undefined && expiresAt !== undefined) throw usage('give --expires-in or --expires-at, not both');
    if (expiresIn !== undefined) expiresAt = new Date(ctx.io.now() + expiresIn).toISOString();
    const answer = await ctx.api().post<{ apiKey: ApiKey; secret: string }>('/api-keys', {
      projectId,
      name,
      ...(scopes.length ? { scopes } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    });
    if (ctx.json) return void ctx.out.json(answer);
    printSecret(ctx, answer.apiKey, answer.secret);
  },
};

const list: Command = {
  path: ['keys', 'list'],
  summary: 'API keys of the projects you see (or of --project), newest first; never their secrets',
  description: 'GET /api-keys.',
  flags: { 'include-revoked': { type: 'boolean', description: 'revoked keys too' } },
  examples: ['observai keys list', 'observai keys list --include-revoked --json'],
  async run(ctx) {
    const { apiKeys } = await ctx.api().get<{ apiKeys: ApiKey[] }>('/api-keys', {
      projectId: checkProjectId(ctx.project()),
      includeRevoked: ctx.flags.bool('include-revoked') ? 'true' : undefined,
    });
    if (ctx.json) return void ctx.out.json({ apiKeys });
    const c = ctx.out.c;
    const status = (s: string) => (s === 'active' ? c.green(s) : c.red(s));
    listing(
      ctx.out,
      apiKeys.map((k) => [k.id, `oai_${k.prefix}_…`, k.name, k.scopes.join(','), status(k.status), k.expiresAt ?? '', k.lastUsedAt ?? 'never']),
      ['id', 'key', 'name', 'scopes', 'status', 'expires', 'last used'],
      'no API keys',
    );
  },
};

const revoke: Command = {
  path: ['keys', 'revoke'],
  summary: 'revoke an API key: it stops working at once',
  description: 'POST /api-keys/:id/revoke. Revoking a revoked key changes nothing.',
  args: [{ name: 'keyId', required: true }],
  examples: ['observai keys revoke 9d3b…'],
  async run(ctx) {
    const { apiKey } = await ctx.api().post<{ apiKey: ApiKey }>(`/api-keys/${keyId(ctx)}/revoke`);
    if (ctx.json) return void ctx.out.json({ apiKey });
    ctx.out.line(`API key ${apiKey.id} "${apiKey.name}" revoked at ${apiKey.revokedAt}.`);
  },
};

const rotate: Command = {
  path: ['keys', 'rotate'],
  summary: 'rotate an API key: a new secret now, the old one until the grace period ends',
  description: 'POST /api-keys/:id/rotate. The new key has the same name, project and scopes.',
  args: [{ name: 'keyId', required: true }],
  flags: { grace: { type: 'string', value: 'duration', description: 'how long the old secret keeps working: 0s to 30d (default 1d)' } },
  examples: ['observai keys rotate 9d3b… --grace 1h', 'observai keys rotate 9d3b… --grace 0s --json | jq -r .secret'],
  async run(ctx) {
    const grace = ctx.flags.duration('grace');
    if (grace !== undefined && (grace % 1000 !== 0 || grace > 30 * 86_400_000)) throw usage('--grace must be whole seconds, at most 30d');
    const answer = await ctx.api().post<{ apiKey: ApiKey; secret: string; previous: ApiKey }>(`/api-keys/${keyId(ctx)}/rotate`, grace === undefined ? {} : { gracePeriodSeconds: grace / 1000 });
    if (ctx.json) return void ctx.out.json(answer);
    printSecret(ctx, answer.apiKey, answer.secret);
    ctx.out.note(`The previous secret (${answer.previous.id}) works until ${answer.previous.expiresAt ?? 'now'}.`);
  },
};

export const keyCommands: Command[] = [create, list, revoke, rotate];
