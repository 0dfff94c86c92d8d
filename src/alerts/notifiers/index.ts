/**
 * Every contact-point kind behind the one Notifier interface (./types.ts). The delivery engine looks
 * the kind up here, validates settings and secret with the notifier's schemas, and calls `send`
 * (all but `oncall`, whose notifications the escalate-incidents job applies from the log).
 */
import { alertmanagerNotifier } from './alertmanager.ts';
import { emailNotifier } from './email.ts';
import { oncallNotifier } from './oncall.ts';
import { smsNotifier, voiceNotifier } from './phone.ts';
import { pagerDutyNotifier } from './pagerduty.ts';
import { slackNotifier } from './slack.ts';
import type { ContactKind, Notifier } from './types.ts';
import { webhookNotifier } from './webhook.ts';

// `any`: each entry has its own settings type; callers validate with its own schema first.
export const NOTIFIERS: Record<ContactKind, Notifier<any>> = {
  webhook: webhookNotifier,
  slack: slackNotifier,
  pagerduty: pagerDutyNotifier,
  alertmanager: alertmanagerNotifier,
  email: emailNotifier,
  oncall: oncallNotifier,
  sms: smsNotifier,
  voice: voiceNotifier,
};

export { classifyResponse, MAX_RESPONSE_BYTES, NO_ANSWER } from '../../net/http-delivery.ts';
export { generateWebhookSecret, signStandardWebhook } from './webhook.ts';
export type { ContactKind, ContactTarget, DeliveryResult, Notifier, NotifyContext, SmtpMessage, SmtpSender } from './types.ts';
