/**
 * The one interface every contact-point kind implements (Alertmanager's `notify.Notifier`): the
 * delivery engine hands a Notification, the contact point (public settings already validated, the
 * secret already opened) and a context, and gets a DeliveryResult back. A notifier never throws
 * for an expected failure and never retries by itself: retrying is the engine's job
 * (src/net/retry-policy.ts), so no kind carries its own copy of a retry loop.
 *
 * Runtime-neutral: the outbound guard and the SMTP sender are injected; only their types are
 * imported here.
 */
import type { z } from 'zod';
import type { OutboundGuard } from '../../net/outbound.ts';
import type { DeliveryResult, SmtpMessage, SmtpSender } from '../../net/delivery.ts';
import type { Notification } from '../model.ts';

export type ContactKind = 'webhook' | 'slack' | 'pagerduty' | 'alertmanager' | 'email' | 'oncall' | 'sms' | 'voice';

export interface ContactTarget {
  id: string;
  name: string;
  kind: ContactKind;
  /** Public settings, validated by the kind's `settings` schema before they reach `send`. */
  settings: unknown;
  /** The sealed secret, opened (a signing key, routing key, webhook URL, password or API key). */
  secret: string | null;
}

export type { DeliveryResult, SmtpMessage, SmtpSender };

export interface NotifyContext {
  /** Every HTTP request goes through `outbound.fetch` (SSRF guard; redirects never followed). */
  outbound: OutboundGuard;
  smtp?: SmtpSender;
  /** This attempt's time (webhook-timestamp); notifiers never read a clock themselves. */
  now: Date;
  /** 1-based. */
  attempt: number;
  /** Bound on the whole request, body included. */
  timeoutMs: number;
}

export interface Notifier<S> {
  kind: ContactKind;
  settings: z.ZodType<S>;
  secret: { required: boolean; describe: string; schema: z.ZodType<string> };
  send(n: Notification, target: ContactTarget & { settings: S }, ctx: NotifyContext): Promise<DeliveryResult>;
}
