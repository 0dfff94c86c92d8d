import { z } from 'zod';
import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { actOnIncident } from './act-on-incident.ts';
import { linkSecret } from './action-links.ts';
import { type LinkAction, verifyActionLink } from './signatures.ts';

/**
 * A signed one-click link followed (action-links.ts): GET shows what it will do and asks to confirm
 * (link scanners and previews fetch every link in a message: a GET never changes anything); POST
 * verifies the link again and acts as the person it was signed for, through the same verb as the
 * API (actOnIncident: RLS decides whether they still may; a repeat changes nothing). Answers are
 * small HTML pages for a browser; the token never leaves the page (no-referrer, no-store).
 */
export type LinkDeps = Pick<Deps, 'db' | 'clock'> & Partial<Pick<Deps, 'config'>> & { jwtSecret?: string };

export interface LinkPage {
  status: 200 | 400 | 401 | 403 | 404 | 409 | 501;
  html: string;
}

const VERB: Record<LinkAction, { title: string; done: string; type: 'acknowledge' | 'resolve' }> = {
  ack: { title: 'Acknowledge', done: 'Acknowledged', type: 'acknowledge' },
  resolve: { title: 'Resolve', done: 'Resolved', type: 'resolve' },
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="referrer" content="no-referrer">` +
    `<title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">` +
    `<h1 style="font-size:1.3rem">${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** The actions a link may carry, as the route's path parameter takes them. */
export const LinkActionName = z.enum(['ack', 'resolve'] as const satisfies readonly LinkAction[]);

export function isLinkAction(s: string): s is LinkAction {
  return LinkActionName.safeParse(s).success;
}

/** A link whose action is none of ours (a mangled URL): the same kind of page as every other answer. */
export function unknownLinkPage(): LinkPage {
  return { status: 404, html: page('This link does not work', '<p>It names no action we know. Open the incident in ObservAI Hub instead.</p>') };
}

async function verify(deps: LinkDeps, action: LinkAction, token: string) {
  const secret = await linkSecret(deps);
  if (!secret) return { ok: false as const, page: { status: 501 as const, html: page('Links are not enabled', '<p>This server signs no action links.</p>') } };
  const v = await verifyActionLink(secret, token, action, deps.clock.now().getTime());
  if (!v.ok) return { ok: false as const, page: { status: 401 as const, html: page('This link does not work', `<p>${escapeHtml(v.reason)}. Open the incident in ObservAI Hub instead.</p>`) } };
  return { ok: true as const, claims: v.claims };
}

/** GET: what the link does, and a button to do it. */
export async function showLink(deps: LinkDeps, action: LinkAction, token: string): Promise<LinkPage> {
  const v = await verify(deps, action, token);
  if (!v.ok) return v.page;
  const verb = VERB[action];
  return {
    status: 200,
    html: page(`${verb.title} this incident?`, `<form method="post"><button type="submit" style="font-size:1rem;padding:.5rem 1rem">${verb.title}</button></form>`),
  };
}

/** POST: verifies the link and acts as its person. */
export async function followLink(deps: LinkDeps, action: LinkAction, token: string): Promise<LinkPage> {
  const v = await verify(deps, action, token);
  if (!v.ok) return v.page;
  const verb = VERB[action];
  try {
    const incident = await actOnIncident(deps, { role: 'authenticated', sub: v.claims.userId }, v.claims.incidentId, { type: verb.type });
    return { status: 200, html: page(`${verb.done}`, `<p>${escapeHtml(incident.title)} is ${escapeHtml(incident.state)}.</p>`) };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const status = err.code === 'NOT_FOUND' ? 404 : err.code === 'FORBIDDEN' ? 403 : err.code === 'CONFLICT' ? 409 : 400;
    return { status, html: page(`Could not ${verb.title.toLowerCase()}`, `<p>${escapeHtml(err.message)}</p>`) };
  }
}
