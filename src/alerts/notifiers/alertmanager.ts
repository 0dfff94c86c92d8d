/**
 * Alertmanager's webhook receiver payload, version "4", field for field, so every tool written for
 * Alertmanager webhooks (alertmanager-webhook-logger, prometheus-msteams, ntfy's bridge, custom
 * receivers) reads our notifications unchanged. Like Alertmanager it is unsigned; the optional
 * secret is sent as HTTP authorization, as Alertmanager's `http_config` does:
 *
 * - `auth: 'bearer'` (the default): `Authorization: Bearer <secret>`;
 * - `auth: 'basic'`: the secret is `user:password`, sent as `Authorization: Basic base64(user:password)`.
 */
import { z } from 'zod';
import type { Notification } from '../model.ts';
import { capAlerts, HttpUrl, MaxAlerts, misconfigured, toBase64 } from './common.ts';
import { postJson } from '../../net/http-delivery.ts';
import type { Notifier } from './types.ts';

export const AlertmanagerSettings = z.strictObject({
  url: HttpUrl,
  /** Alerts per request; 0 (the default) = all, as Alertmanager's `max_alerts`. */
  maxAlerts: MaxAlerts.default(0),
  /** How the secret, when there is one, is sent. */
  auth: z.enum(['bearer', 'basic']).default('bearer'),
});
export type AlertmanagerSettings = z.output<typeof AlertmanagerSettings>;

/** What Alertmanager sends as endsAt of a firing alert: Go's zero time. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface AlertmanagerPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: Array<{
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }>;
}

export function alertmanagerPayload(notification: Notification, maxAlerts: number): AlertmanagerPayload {
  const n = capAlerts(notification, maxAlerts);
  return {
    version: '4',
    groupKey: n.groupKey,
    truncatedAlerts: n.truncatedAlerts,
    status: n.status,
    receiver: n.receiver,
    groupLabels: n.groupLabels,
    commonLabels: n.commonLabels,
    commonAnnotations: n.commonAnnotations,
    externalURL: n.externalUrl ?? '',
    alerts: n.alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      endsAt: a.status === 'firing' || !a.endsAt ? ZERO_TIME : a.endsAt,
      generatorURL: a.url ?? '',
      fingerprint: a.fingerprint,
    })),
  };
}

export const alertmanagerNotifier: Notifier<AlertmanagerSettings> = {
  kind: 'alertmanager',
  settings: AlertmanagerSettings,
  secret: {
    required: false,
    describe: "Optional: a bearer token (auth 'bearer') or user:password (auth 'basic') for the receiver",
    schema: z.string().min(1).max(4096).regex(/^[^\r\n]*$/, 'must be one line'),
  },
  async send(n, target, ctx) {
    const headers: Record<string, string> = {};
    if (target.secret) {
      if (target.settings.auth === 'basic') {
        if (!target.secret.includes(':')) return misconfigured("The secret must be user:password when auth is 'basic'");
        headers.authorization = `Basic ${toBase64(new TextEncoder().encode(target.secret))}`;
      } else {
        headers.authorization = `Bearer ${target.secret}`;
      }
    }
    return postJson(ctx, target.settings.url, JSON.stringify(alertmanagerPayload(n, target.settings.maxAlerts)), headers);
  },
};
