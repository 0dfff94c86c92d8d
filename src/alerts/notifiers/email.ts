/**
 * Email, over SMTP (Node only: ctx.smtp, see src/node/smtp.ts) or over an HTTP email API in
 * Resend's shape (POST {from, to, subject, text, html} with `Authorization: Bearer <key>`), which
 * also works at the edge where outbound SMTP ports are blocked. The secret is the SMTP password or
 * the API key. Subject as Alertmanager's default title: `[FIRING:2] HighCPU web-1 (Prod)`.
 *
 * Every retry of one notification carries the same Message-ID (SMTP) and Idempotency-Key (API), so
 * a receiver that already took it can drop the copy.
 */
import { z } from 'zod';
import type { AlertView, Notification } from '../model.ts';
import { countAlerts, firingFirst, HttpUrl, misconfigured, notificationTitle, safeLink, sortedLabels, truncate } from './common.ts';
import { postJson } from '../../net/http-delivery.ts';
import type { Notifier } from './types.ts';

const Address = z.email().max(254);

/** `alerts@example.com` or `Alerts <alerts@example.com>` (a display name without quotes, brackets, commas or line breaks). */
const Sender = z
  .string()
  .trim()
  .max(360)
  .refine((s) => senderAddress(s) !== null, 'must be an address, or Name <address>');

function senderAddress(from: string): string | null {
  const named = /^([^<>"\r\n,;]{1,100}?)\s*<([^<>\s]+)>$/.exec(from);
  const address = named ? named[2]! : from;
  return Address.safeParse(address).success ? address : null;
}

/** A host name or an IP literal (the address policy judges where it points when sending). */
const Host = z
  .string()
  .trim()
  .max(253)
  .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[?[0-9A-Fa-f:.]+\]?)$/, 'must be a host name or an IP address');

export const EmailSettings = z
  .strictObject({
    to: z.array(Address).min(1).max(50),
    /** The sender; default the SMTP user name when that is an address. API providers need a verified domain here. */
    from: Sender.optional(),
    transport: z.enum(['smtp', 'http']),
    smtp: z
      .strictObject({
        host: Host,
        port: z.number().int().min(1).max(65535).default(587),
        /** true: TLS from the start (port 465); false: STARTTLS, required by the sender whenever a password is sent. */
        secure: z.boolean().default(false),
        username: z.string().trim().min(1).max(320).regex(/^[^\r\n]*$/).optional(),
      })
      .optional(),
    http: z.strictObject({ url: HttpUrl }).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.transport === 'smtp' && !s.smtp) ctx.addIssue({ code: 'custom', path: ['smtp'], message: 'is required when transport is smtp' });
    if (s.transport === 'http' && !s.http) ctx.addIssue({ code: 'custom', path: ['http'], message: 'is required when transport is http' });
    if (!s.from && !(s.transport === 'smtp' && s.smtp?.username && Address.safeParse(s.smtp.username).success)) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'is required unless the SMTP user name is an email address' });
    }
  });
export type EmailSettings = z.output<typeof EmailSettings>;

/** Alerts listed in one email; the rest are counted. */
export const EMAIL_MAX_ALERTS = 100;

export const SMTP_UNAVAILABLE =
  'SMTP is not available where this server runs (outbound SMTP ports are blocked here): use the http transport with an email API instead';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

interface Rendered {
  subject: string;
  text: string;
  html: string;
}

function describeAlert(a: AlertView) {
  const name = a.labels.alertname ?? 'Alert';
  const summary = a.annotations.summary ?? a.annotations.title;
  return {
    heading: summary ? `${name}: ${summary}` : name,
    description: a.annotations.description ?? a.annotations.message ?? null,
    labels: sortedLabels(a.labels).filter(([k]) => k !== 'alertname'),
    annotations: sortedLabels(a.annotations).filter(([k]) => !['summary', 'title', 'description', 'message'].includes(k)),
    when: a.status === 'firing' ? `since ${a.startsAt}` : `resolved ${a.endsAt ?? a.startsAt}`,
    link: safeLink(a.url),
  };
}

export function renderEmail(n: Notification): Rendered {
  const subject = truncate(notificationTitle(n), 250);
  const { firing, resolved } = countAlerts(n);
  const alerts = firingFirst(n.alerts);
  const shown = alerts.slice(0, EMAIL_MAX_ALERTS);
  const hidden = alerts.length - shown.length + n.truncatedAlerts;
  const hub = safeLink(n.externalUrl);
  const counts = n.status === 'resolved' ? 'All alerts resolved' : `${firing} firing${resolved ? `, ${resolved} resolved` : ''}`;
  const intro = `${counts} in project ${n.project.name} (contact point ${n.receiver})`;

  const text: string[] = [subject, '', intro, ''];
  const html: string[] = [
    '<!doctype html><html><body style="font-family:sans-serif;font-size:14px;color:#222">',
    `<h2 style="margin:0 0 8px">${escapeHtml(subject)}</h2>`,
    `<p style="margin:0 0 16px;color:#555">${escapeHtml(intro)}</p>`,
  ];
  for (const a of shown) {
    const d = describeAlert(a);
    const status = a.status === 'firing' ? 'FIRING' : 'RESOLVED';
    const pairs = (list: Array<[string, string]>) => list.map(([k, v]) => `${k}=${v}`).join(', ');
    text.push(`${status}  ${d.heading}`);
    if (d.description) text.push(`  ${d.description}`);
    if (d.labels.length) text.push(`  Labels: ${pairs(d.labels)}`);
    if (d.annotations.length) text.push(`  Annotations: ${pairs(d.annotations)}`);
    text.push(`  ${d.when}${a.value === null ? '' : `, value ${a.value}`}`);
    if (d.link) text.push(`  ${d.link}`);
    text.push('');

    const colour = a.status === 'firing' ? '#c62828' : '#2e7d32';
    const rows = (list: Array<[string, string]>) =>
      list.map(([k, v]) => `<code style="background:#f3f3f3;padding:1px 4px">${escapeHtml(k)}=${escapeHtml(v)}</code>`).join(' ');
    html.push(
      `<div style="border-left:4px solid ${colour};padding:4px 12px;margin:0 0 12px">`,
      `<div><strong style="color:${colour}">${status}</strong> <strong>${escapeHtml(d.heading)}</strong></div>`,
      d.description ? `<div>${escapeHtml(d.description)}</div>` : '',
      d.labels.length ? `<div>${rows(d.labels)}</div>` : '',
      d.annotations.length ? `<div style="color:#555">${rows(d.annotations)}</div>` : '',
      `<div style="color:#777">${escapeHtml(d.when)}${a.value === null ? '' : `, value ${escapeHtml(String(a.value))}`}</div>`,
      d.link ? `<div><a href="${escapeHtml(d.link)}">View alert</a></div>` : '',
      '</div>',
    );
  }
  if (hidden > 0) {
    text.push(`…and ${hidden} more alert${hidden === 1 ? '' : 's'}`, '');
    html.push(`<p>…and ${hidden} more alert${hidden === 1 ? '' : 's'}</p>`);
  }
  for (const action of n.actions ?? []) {
    const url = safeLink(action.url);
    if (!url) continue;
    text.push(`${action.label}: ${url}`);
    html.push(`<p><a href="${escapeHtml(url)}" style="font-weight:bold">${escapeHtml(action.label)}</a></p>`);
  }
  if (hub) {
    text.push(`Open ObservAI Hub: ${hub}`);
    html.push(`<p><a href="${escapeHtml(hub)}">Open ObservAI Hub</a></p>`);
  }
  html.push('</body></html>');
  return { subject, text: text.join('\n'), html: html.filter(Boolean).join('\n') };
}

/** `<notification id@sender's domain>`: the same on every retry. */
export function emailMessageId(n: Notification, from: string): string {
  const domain = from.slice(from.lastIndexOf('@') + 1).replace(/[^A-Za-z0-9.-]/g, '') || 'observai-hub.invalid';
  return `<${n.id.replace(/[^A-Za-z0-9._-]/g, '_')}@${domain}>`;
}

export const emailNotifier: Notifier<EmailSettings> = {
  kind: 'email',
  settings: EmailSettings,
  secret: {
    required: false,
    describe: 'The SMTP password (transport smtp, with a user name) or the email API key (transport http)',
    schema: z.string().min(1).max(4096).regex(/^[^\r\n]*$/, 'must be one line'),
  },
  async send(n, target, ctx) {
    const s = target.settings;
    const from = s.from ?? s.smtp?.username;
    const fromAddress = from ? senderAddress(from) : null;
    if (!from || !fromAddress) return misconfigured('The email contact point has no sender address (from)');
    const { subject, text, html } = renderEmail(n);
    if (s.transport === 'http') {
      if (!s.http) return misconfigured('The email contact point has no API URL (http.url)');
      if (!target.secret) return misconfigured('The email API key (the secret) is missing');
      const body = JSON.stringify({ from, to: s.to, subject, text, html });
      return postJson(ctx, s.http.url, body, { authorization: `Bearer ${target.secret}`, 'idempotency-key': n.id });
    }
    if (!s.smtp) return misconfigured('The email contact point has no SMTP server (smtp.host)');
    if (!ctx.smtp) return misconfigured(SMTP_UNAVAILABLE);
    return ctx.smtp.send({
      host: s.smtp.host,
      port: s.smtp.port,
      secure: s.smtp.secure,
      ...(s.smtp.username ? { username: s.smtp.username } : {}),
      ...(target.secret ? { password: target.secret } : {}),
      from,
      to: s.to,
      subject,
      text,
      html,
      messageId: emailMessageId(n, fromAddress),
    });
  },
};
