/**
 * The stored login: `{ url, apiKey?, token?, project? }` in $OBSERVAI_CONFIG, else
 * $XDG_CONFIG_HOME/observai/config.json, else ~/.config/observai/config.json. Written owner-only (the
 * file 0600, a directory we create 0700), replaced atomically (a temporary file renamed over it), so
 * a crash never leaves half a secret or a readable copy behind.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT, usage } from './errors.ts';

export interface StoredConfig {
  url?: string;
  apiKey?: string;
  token?: string;
  project?: string;
}

export function configPath(env: Record<string, string | undefined>): string {
  if (env.OBSERVAI_CONFIG) return env.OBSERVAI_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'observai', 'config.json');
}

export function readConfig(path: string): { config: StoredConfig; mode: number } | undefined {
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(EXIT.ERROR, 'CONFIG', `cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(EXIT.ERROR, 'CONFIG', `${path} is not valid JSON`, { hint: 'observai logout removes it; then log in again' });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(EXIT.ERROR, 'CONFIG', `${path} must hold a JSON object`);
  const o = parsed as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
  return { config: { url: str('url'), apiKey: str('apiKey'), token: str('token'), project: str('project') }, mode };
}

export function writeConfig(path: string, config: StoredConfig): void {
  const dir = dirname(path);
  // Only a directory made here is ours to restrict: $OBSERVAI_CONFIG may point into /tmp.
  const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (created) chmodSync(created, 0o700);
  const tmp = join(dir, `.config.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600); // whatever the umask
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new CliError(EXIT.ERROR, 'CONFIG', `cannot write ${path}: ${(err as Error).message}`);
  }
}

export function removeConfig(path: string): boolean {
  try {
    rmSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new CliError(EXIT.ERROR, 'CONFIG', `cannot remove ${path}: ${(err as Error).message}`);
  }
}

/**
 * The functions base URL: `http(s)://host[:port]` alone gets `/functions/v1` (what the gateway and
 * Supabase serve); a URL with a path is kept as given, without trailing slashes.
 */
export function normalizeUrl(text: string, source: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw usage(`${source} must be a URL such as http://localhost:54321/functions/v1 (got "${text}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`${source} must be an http or https URL (got "${text}")`);
  if (url.username || url.password) throw usage(`${source} must not hold a user name or password: use --api-key or --token`);
  url.search = '';
  url.hash = '';
  let path = url.pathname.replace(/\/+$/, '');
  if (path === '') path = '/functions/v1';
  return `${url.origin}${path}`;
}

/** Which credential a request sends, and where it came from (for messages). */
export interface Credential {
  kind: 'token' | 'apiKey';
  value: string;
}

export interface Settings {
  configPath: string;
  stored: StoredConfig | undefined;
  /** The stored file's permission bits, when there is one. */
  storedMode: number | undefined;
  url: string | undefined;
  urlSource: string;
  apiKey: string | undefined;
  token: string | undefined;
  /** Where the credentials came from: flags, the environment, or the config file (one set, never mixed). */
  credentialSource: 'flags' | 'environment' | 'config' | 'none';
  project: string | undefined;
}

/**
 * Flags over environment over the config file. Credentials come as one set from the first place that
 * has any, so `--api-key` on the command line is what a command uses even when a token is stored.
 */
export function resolveSettings(flags: { url?: string; apiKey?: string; token?: string; project?: string }, env: Record<string, string | undefined>): Settings {
  const path = configPath(env);
  const file = readConfig(path);
  const stored = file?.config;
  let urlSource = 'none';
  let url: string | undefined;
  if (flags.url) [url, urlSource] = [normalizeUrl(flags.url, '--url'), '--url'];
  else if (env.OBSERVAI_URL) [url, urlSource] = [normalizeUrl(env.OBSERVAI_URL, 'OBSERVAI_URL'), 'OBSERVAI_URL'];
  else if (stored?.url) [url, urlSource] = [stored.url, path];
  let credentialSource: Settings['credentialSource'] = 'none';
  let apiKey: string | undefined;
  let token: string | undefined;
  if (flags.apiKey || flags.token) [apiKey, token, credentialSource] = [flags.apiKey, flags.token, 'flags'];
  else if (env.OBSERVAI_API_KEY || env.OBSERVAI_TOKEN) [apiKey, token, credentialSource] = [env.OBSERVAI_API_KEY || undefined, env.OBSERVAI_TOKEN || undefined, 'environment'];
  else if (stored?.apiKey || stored?.token) [apiKey, token, credentialSource] = [stored.apiKey, stored.token, 'config'];
  const project = flags.project || env.OBSERVAI_PROJECT || stored?.project;
  return { configPath: path, stored, storedMode: file?.mode, url, urlSource, apiKey, token, credentialSource, project };
}

/** A JWT's claims, read without verifying (the server verifies): for messages about expiry and identity. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `oai_<12 public characters>_<secret>`: the public part, safe to print. */
export function keyPrefix(key: string): string {
  const m = /^oai_([a-zA-Z0-9]{12})_/.exec(key);
  return m ? `oai_${m[1]}_…` : `${key.slice(0, 4)}…`;
}
