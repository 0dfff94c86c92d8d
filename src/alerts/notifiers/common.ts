/**
 * Text and shape helpers every notifier kind shares: titles as Alertmanager's default templates
 * write them, caps on the number of alerts, safe links, and the zod pieces of settings.
 */
import { z } from 'zod';
import type { AlertView, Notification } from '../model.ts';

/** An http(s) URL without credentials, the shape the outbound guard accepts (checked again when sending). */
export const HttpUrl = z
  .string()
  .trim()
  .max(2000)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without a user name or password');

/** Alerts per notification; 0 means all (Alertmanager's webhook `max_alerts`). */
export const MaxAlerts = z.number().int().min(0).max(10_000);

export function alertName(n: Notification): string {
  return n.groupLabels.alertname ?? n.commonLabels.alertname ?? n.alerts[0]?.labels.alertname ?? 'Alert';
}

export function countAlerts(n: Notification): { firing: number; resolved: number } {
  let firing = 0;
  for (const a of n.alerts) if (a.status === 'firing') firing++;
  return { firing, resolved: n.alerts.length - firing };
}

/**
 * `[FIRING:2] HighCPU web-1 (Prod)`: status and firing count, the alert name, the other group label
 * values (sorted by label name, as Alertmanager's default title), then the project in parentheses.
 */
export function notificationTitle(n: Notification): string {
  const { firing } = countAlerts(n);
  const status = n.status === 'firing' ? `FIRING:${firing}` : 'RESOLVED';
  const others = Object.keys(n.groupLabels)
    .filter((k) => k !== 'alertname')
    .sort()
    .map((k) => n.groupLabels[k]!)
    .filter((v) => v !== '');
  return oneLine(`[${status}] ${[alertName(n), ...others].join(' ')} (${n.project.name})`);
}

/** No line breaks or control characters: titles go into mail headers and one-line UI fields. */
export function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Cut to at most `max` characters (code units), ending with '…' when cut. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  // Do not split a surrogate pair.
  let end = max - 1;
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}

/** The URL when it is http(s) (never javascript:, data: or a relative path), else null. */
export function safeLink(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** Firing alerts first (they matter more when some must be left out), each group in its given order. */
export function firingFirst(alerts: readonly AlertView[]): AlertView[] {
  return [...alerts.filter((a) => a.status === 'firing'), ...alerts.filter((a) => a.status !== 'firing')];
}

/** The notification with at most `max` alerts (0 = all), those left out counted in truncatedAlerts. */
export function capAlerts(n: Notification, max: number | undefined): Notification {
  if (!max || n.alerts.length <= max) return n;
  const kept = firingFirst(n.alerts).slice(0, max);
  return { ...n, alerts: kept, truncatedAlerts: n.truncatedAlerts + (n.alerts.length - kept.length) };
}

/** Labels worth showing, alertname first and the rest sorted. */
export function sortedLabels(labels: Record<string, string>): Array<[string, string]> {
  return Object.entries(labels).sort(([a], [b]) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

export { fromBase64, toBase64 } from '../../net/standard-webhooks.ts';

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A permanent failure caused by the contact point's own configuration (no request was made). */
export function misconfigured(error: string) {
  return { ok: false as const, retryable: false, status: null, retryAfterMs: null, error };
}
