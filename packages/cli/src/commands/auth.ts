/** login, logout, whoami: the stored credentials, checked against the server before they are kept. */
import { Api } from '../api.ts';
import { checkId, type Command, type Ctx } from '../command.ts';
import { configPath, type Credential, jwtClaims, keyPrefix, normalizeUrl, removeConfig, type StoredConfig, writeConfig } from '../config.ts';
import { CliError, EXIT, usage } from '../errors.ts';
import { table } from '../output.ts';

/**
 * The cheapest route that takes any user token and any API key, whatever its scopes: a 200 proves the
 * credential is good, a 401 that it is not (docs/API.md#webhooks).
 */
export const VERIFY_PATH = '/webhooks/event-types';

export function checkProjectId(id: string | undefined): string | undefined {
  return checkId(id, '--project', 'a project id');
}

function apiFor(ctx: Ctx, url: string, credential: Credential): Api {
  return new Api(url, credential, { fetch: ctx.io.fetch, timeoutMs: ctx.flags.duration('timeout') ?? 30_000, signal: ctx.signal });
}

function describeToken(token: string, now: number): { userId?: string; email?: string; role?: string; expiresAt?: string; expired: boolean } {
  const c = jwtClaims(token) ?? {};
  const exp = typeof c.exp === 'number' ? c.exp * 1000 : undefined;
  return {
    userId: typeof c.sub === 'string' ? c.sub : undefined,
    email: typeof c.email === 'string' ? c.email : undefined,
    role: typeof c.role === 'string' ? c.role : undefined,
    expiresAt: exp ? new Date(exp).toISOString() : undefined,
    expired: exp !== undefined && exp <= now,
  };
}

const login: Command = {
  path: ['login'],
  summary: 'check a URL and credentials against the server, then store them',
  description: [
    'Sends GET /webhooks/event-types (any token or key answers it) with each credential given, and',
    'stores { url, apiKey, token, project } only when the server accepted them: in $OBSERVAI_CONFIG,',
    'else $XDG_CONFIG_HOME/observai/config.json, else ~/.config/observai/config.json, readable by you',
    'only (file 0600, directory 0700). A new login replaces the stored one.',
    '',
    'Give --api-key, --token, or both: commands that read or manage use the token (a person), `send`',
    'uses the API key (ingest takes API keys with the ingest scope only). With a token, --project sets',
    'the project commands use by default (an API key always means its own project).',
  ].join('\n'),
  examples: [
    'observai login --url http://localhost:54321 --api-key oai_xxxxxxxxxxxx_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'observai login --url https://<ref>.supabase.co/functions/v1 --token "$JWT" --project 3f0c…',
    'observai login --url http://localhost:54321 --token "$(node -p "require(\'./.observai/demo.json\').ownerJwt")" \\',
    '  --api-key "$(node -p "require(\'./.observai/demo.json\').apiKey")"',
  ],
  async run(ctx) {
    const given = ctx.flags.str('url') ?? ctx.io.env.OBSERVAI_URL;
    if (!given) throw usage('login needs --url <functions base URL>', 'for example --url http://localhost:54321');
    const url = normalizeUrl(given, ctx.flags.str('url') ? '--url' : 'OBSERVAI_URL');
    const apiKey = ctx.flags.str('api-key');
    const token = ctx.flags.str('token');
    if (!apiKey && !token) throw usage('login needs --api-key <key> or --token <jwt> (or both)');
    const project = checkProjectId(ctx.flags.str('project'));
    const now = ctx.io.now();
    if (token && describeToken(token, now).expired) throw new CliError(EXIT.AUTH, 'TOKEN_EXPIRED', `the token expired at ${describeToken(token, now).expiresAt}`);
    for (const credential of [token && { kind: 'token', value: token }, apiKey && { kind: 'apiKey', value: apiKey }].filter(Boolean) as Credential[]) {
      try {
        await apiFor(ctx, url, credential).get(VERIFY_PATH);
      } catch (err) {
        if (err instanceof CliError && err.extra.status === 401) throw err.withHint(`the server at ${url} refused the ${credential.kind === 'token' ? 'token' : 'API key'}; nothing was stored`);
        throw err;
      }
    }
    const config: StoredConfig = { url, ...(apiKey ? { apiKey } : {}), ...(token ? { token } : {}), ...(project ? { project } : {}) };
    // Not ctx.settings(): a stored file that no longer parses is simply replaced.
    const path = configPath(ctx.io.env);
    writeConfig(path, config);
    const user = token ? describeToken(token, now) : undefined;
    if (ctx.json) {
      ctx.out.json({ url, configPath: path, project: project ?? null, token: user ? { userId: user.userId, email: user.email, expiresAt: user.expiresAt } : null, apiKey: apiKey ? { prefix: keyPrefix(apiKey) } : null });
      return;
    }
    const who = [user && `a token for ${user.email ?? user.userId ?? 'a user'}${user.expiresAt ? ` (expires ${user.expiresAt})` : ''}`, apiKey && `API key ${keyPrefix(apiKey)}`].filter(Boolean).join(' and ');
    ctx.out.line(`Logged in to ${url} with ${who}.`);
    ctx.out.line(`Saved to ${path} (readable by you only).`);
  },
};

const logout: Command = {
  path: ['logout'],
  summary: 'forget the stored login (the file is removed; nothing changes on the server)',
  description: 'API keys stay valid: revoke one with observai keys revoke <id>.',
  examples: ['observai logout'],
  async run(ctx) {
    const path = configPath(ctx.io.env);
    const removed = removeConfig(path);
    if (ctx.json) return void ctx.out.json({ loggedOut: removed, configPath: path });
    ctx.out.line(removed ? `Logged out: removed ${path}.` : `Not logged in (no ${path}).`);
  },
};

interface OrgView {
  id: string;
  name: string;
  role: string;
}
interface KeyView {
  id: string;
  prefix: string;
  name: string;
  projectId: string;
  scopes: string[];
  expiresAt: string | null;
}

const whoami: Command = {
  path: ['whoami'],
  summary: 'who the server takes you for: the token\'s user and organizations, the API key\'s project',
  description: [
    'A token: its user (read from the token) and GET /orgs. An API key: checked with',
    'GET /webhooks/event-types; with the admin scope GET /api-keys tells its name, project and scopes,',
    'with the read scope GET /logs/retention its project.',
  ].join('\n'),
  examples: ['observai whoami', 'observai whoami --json | jq .token.organizations'],
  async run(ctx) {
    const s = ctx.settings();
    if (!s.url) throw new CliError(EXIT.AUTH, 'NOT_LOGGED_IN', 'not logged in', { hint: 'observai login --url <url> --api-key <key> (or --token <jwt>)' });
    if (!s.token && !s.apiKey) throw new CliError(EXIT.AUTH, 'NOT_LOGGED_IN', 'no credentials', { hint: 'observai login --url <url> --api-key <key> (or --token <jwt>)' });
    const result: Record<string, unknown> = { url: s.url, configPath: s.configPath, credentialSource: s.credentialSource, project: s.project ?? null, token: null, apiKey: null };
    if (s.token) {
      const user = describeToken(s.token, ctx.io.now());
      const { organizations } = await apiFor(ctx, s.url, { kind: 'token', value: s.token }).get<{ organizations: OrgView[] }>('/orgs');
      result.token = { ...user, organizations: organizations.map((o) => ({ id: o.id, name: o.name, role: o.role })) };
    }
    if (s.apiKey) {
      const api = apiFor(ctx, s.url, { kind: 'apiKey', value: s.apiKey });
      await api.get(VERIFY_PATH);
      const view: Record<string, unknown> = { prefix: keyPrefix(s.apiKey), projectId: null, name: null, scopes: null };
      const prefix = /^oai_([a-zA-Z0-9]{12})_/.exec(s.apiKey)?.[1];
      const own = await api
        .get<{ apiKeys: KeyView[] }>('/api-keys')
        .then((r) => r.apiKeys.find((k) => k.prefix === prefix))
        .catch(() => undefined);
      if (own) Object.assign(view, { id: own.id, name: own.name, projectId: own.projectId, scopes: own.scopes, expiresAt: own.expiresAt });
      else {
        const retention = await api.get<{ retention: { projectId: string } }>('/logs/retention').catch(() => undefined);
        if (retention) view.projectId = retention.retention.projectId;
      }
      result.apiKey = view;
    }
    if (ctx.json) return void ctx.out.json(result);
    const rows: string[][] = [['url', `${s.url}  (${s.urlSource})`]];
    const t = result.token as (ReturnType<typeof describeToken> & { organizations: OrgView[] }) | null;
    if (t) {
      rows.push(['user', `${t.email ?? ''} ${t.userId ?? ''}`.trim() + (t.expiresAt ? `  (token expires ${t.expiresAt})` : '')]);
      rows.push(['organizations', t.organizations.map((o) => `${o.name} (${o.role}, ${o.id})`).join(', ') || '(none)']);
    }
    const k = result.apiKey as Record<string, unknown> | null;
    if (k) {
      const scopes = Array.isArray(k.scopes) ? ` scopes ${(k.scopes as string[]).join(',')}` : '';
      rows.push(['API key', `${k.prefix}${k.name ? ` "${k.name}"` : ''}${k.projectId ? ` project ${k.projectId}` : ''}${scopes}`]);
    }
    if (s.project) rows.push(['project', s.project]);
    rows.push(['credentials from', s.credentialSource === 'config' ? s.configPath : s.credentialSource]);
    ctx.out.line(table(rows));
  },
};

export const authCommands: Command[] = [login, logout, whoami];
