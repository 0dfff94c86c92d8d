/**
 * SMS and voice calls through a Twilio-compatible API (Twilio's, or any provider that speaks its
 * Programmable Messaging and Voice endpoints): `POST <apiBaseUrl>/2010-04-01/Accounts/<accountSid>/
 * Messages.json` with `To`, `From`, `Body`, or `.../Calls.json` with `To`, `From` and inline `Twiml`
 * (`<Response><Say>...</Say></Response>`), form-encoded, HTTP Basic auth of the account SID and the
 * auth token (the secret). One request per recipient number; the notification is delivered when
 * every number was accepted (201), else the first failure decides (a 4xx is permanent, 429 and 5xx
 * are retried). Text is short: a page, not a report (the title and where to look).
 */
import { z } from 'zod';
import type { Notification } from '../model.ts';
import { countAlerts, HttpUrl, misconfigured, notificationTitle, toBase64, truncate } from './common.ts';
import { postJson } from '../../net/http-delivery.ts';
import type { DeliveryResult, Notifier } from './types.ts';

const E164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number, e.g. +447700900123');

export const PhoneSettings = z.strictObject({
  /** The provider account (Twilio: AC followed by 32 hexadecimal characters). */
  accountSid: z.string().trim().regex(/^[A-Za-z0-9]{2,64}$/, 'must be the account SID'),
  /** The number (or messaging service) the messages and calls come from. */
  from: E164,
  /** Whom to text or call when the contact point is a route's receiver; a page to a person names its own. */
  to: z.array(E164).min(1).max(10),
  apiBaseUrl: HttpUrl.default('https://api.twilio.com'),
});
export type PhoneSettings = z.output<typeof PhoneSettings>;

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

function text(n: Notification): string {
  const { firing } = countAlerts(n);
  const link = n.actions?.[0]?.url ?? n.alerts[0]?.url ?? n.externalUrl;
  const lead = n.status === 'resolved' ? 'Resolved' : firing > 1 ? `${firing} firing` : 'Firing';
  return truncate(`[${n.project.name}] ${lead}: ${notificationTitle(n)}${link ? ` ${link}` : ''}`, 320);
}

function phoneNotifier(kind: 'sms' | 'voice'): Notifier<PhoneSettings> {
  return {
    kind,
    settings: PhoneSettings,
    secret: { required: true, describe: "The provider account's auth token (sent as HTTP Basic auth with the account SID)", schema: z.string().trim().min(8).max(200) },
    async send(n, target, ctx) {
      if (!target.secret) return misconfigured(`The ${kind} contact point has no auth token`);
      const s = target.settings;
      const url = `${s.apiBaseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(s.accountSid)}/${kind === 'sms' ? 'Messages' : 'Calls'}.json`;
      const auth = `Basic ${toBase64(new TextEncoder().encode(`${s.accountSid}:${target.secret}`))}`;
      let last: DeliveryResult | null = null;
      for (const to of s.to) {
        const form = new URLSearchParams({ To: to, From: s.from });
        if (kind === 'sms') form.set('Body', text(n));
        else form.set('Twiml', `<Response><Say>${xmlEscape(text(n).replace(/https?:\/\/\S+/g, ''))}</Say></Response>`);
        // The provider deduplicates nothing: a retry after a lost answer may text twice (the idempotency key is ours, for providers that read it).
        const result = await postJson(ctx, url, form.toString(), { 'content-type': 'application/x-www-form-urlencoded', authorization: auth, 'i-twilio-idempotency-token': `${n.id}:${to}` });
        if (!result.ok) return result;
        last = result;
      }
      return last!;
    },
  };
}

export const smsNotifier = phoneNotifier('sms');
export const voiceNotifier = phoneNotifier('voice');
