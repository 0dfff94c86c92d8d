import type { Deps } from '../core/deps.ts';
import { type LinkAction, signActionLink } from './signatures.ts';

/**
 * Signed one-click links in pages to people (issue 20 item 5): "Acknowledge" and "Resolve", each
 * for one incident, one person and one action, for LINK_TTL_MS (signatures.ts signs and verifies).
 * Following one opens a page that asks to confirm (mail scanners and link previews fetch links: a
 * GET never changes anything); its POST acts as that person (RLS decides whether they still may).
 *
 * The secret: ONCALL_LINK_SECRET, or derived from the JWT secret (HMAC under a label of its own, so
 * no link is ever a token or the other way round). Links need PUBLIC_URL (or SUPABASE_URL): without
 * one, or without a secret, pages carry no links.
 */
export const LINK_TTL_MS = 24 * 3600_000;
const LABEL = 'observai/oncall-action-links/1';

const cache = new Map<string, string>();

async function derive(jwtSecret: string): Promise<string> {
  const hit = cache.get(jwtSecret);
  if (hit) return hit;
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(jwtSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(LABEL)));
  const secret = Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
  cache.set(jwtSecret, secret);
  return secret;
}

type LinkDeps = Partial<Pick<Deps, 'config'>> & { jwtSecret?: string };

/** The secret links are signed with, or null when this server has none. */
export async function linkSecret(deps: LinkDeps): Promise<string | null> {
  const configured = deps.config?.oncall.linkSecret;
  if (configured) return configured;
  const jwt = deps.jwtSecret ?? deps.config?.jwt.secret;
  return jwt ? derive(jwt) : null;
}

export const actionPath = (action: LinkAction, token: string) => `/functions/v1/oncall/actions/${action}/${token}`;

/** Acknowledge and resolve links for this person and incident, or none (no public URL or secret). */
export async function actionLinks(deps: LinkDeps, incidentId: string, userId: string, now: number): Promise<Array<{ label: string; url: string }>> {
  const base = deps.config?.publicUrl;
  const secret = base ? await linkSecret(deps) : null;
  if (!base || !secret) return [];
  const expiresAt = now + LINK_TTL_MS;
  const link = async (action: LinkAction, label: string) => ({
    label,
    url: new URL(actionPath(action, await signActionLink(secret, { incidentId, action, userId, expiresAt })), base).toString(),
  });
  return Promise.all([link('ack', 'Acknowledge'), link('resolve', 'Resolve')]);
}
