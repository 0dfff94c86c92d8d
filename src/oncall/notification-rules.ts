import { z } from 'zod';
import type { Urgency } from './escalation.ts';

/**
 * A person's notification rules ("email at once, Slack after 2 min, phone after 10 min") and the
 * per-person rate cap, as pure functions. The escalation job turns each page of a user (escalation.ts)
 * into the personal notifications due now; the delivery log creates each once by its key.
 *
 * Invariants:
 * - rules are per urgency, each {methodId, delayMinutes} counted from the page's time; a notification
 *   is due once pagedAt + delay <= now, and `nextAt` is the earliest one still to come. The job sends
 *   them only while the page's incident is triggered (it checks under the same version guard as the
 *   escalation step), so an acknowledgement stops the later ones;
 * - low urgency never pages: its rules may only use email, Slack or a webhook (a rule naming an SMS
 *   or voice method is rejected);
 * - a notification's key is (page key, method, delay): the same rule never notifies twice for one page;
 * - rate cap: at most `max` notifications per person in any `windowMs`. The excess is not sent but
 *   counted and folded into one summary notice, at most one per window (the first fold sends one at
 *   once; later folds wait for the window to pass and are told together). Nothing is dropped
 *   silently: every folded notification is counted in a summary. The summary itself is not counted
 *   against the cap (it is at most one per window), like the storm summaries of alert dispatch;
 * - the input is never mutated.
 */

const MINUTE_MS = 60_000;

export const CONTACT_METHOD_KINDS = ['email', 'slack', 'webhook', 'sms', 'voice'] as const;
export type ContactMethodKind = (typeof CONTACT_METHOD_KINDS)[number];
/** Methods that page (wake someone up): high urgency only. */
const PAGING_KINDS: ReadonlySet<ContactMethodKind> = new Set(['sms', 'voice']);

const Id = z.string().min(1).max(200);

export const ContactMethod = z.strictObject({
  id: Id,
  kind: z.enum(CONTACT_METHOD_KINDS),
  /** Email address, Slack user id, webhook URL or E.164 phone number. */
  address: z.string().min(1).max(500),
});
export type ContactMethod = z.infer<typeof ContactMethod>;

export const NotificationRule = z.strictObject({
  methodId: Id,
  delayMinutes: z.number().int().min(0).max(1440),
});
export type NotificationRule = z.infer<typeof NotificationRule>;

/** An http(s) URL without credentials, as a webhook contact point's (the SSRF guard checks its host at every send). */
const WEB_URL = {
  test(s: string): boolean {
    if (!URL.canParse(s)) return false;
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && u.hostname !== '';
  },
};

const ADDRESS: Partial<Record<ContactMethodKind, [{ test(s: string): boolean }, string]>> = {
  email: [/^[^\s@]+@[^\s@]+$/, 'must be an email address'],
  sms: [/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number, e.g. +447700900123'],
  voice: [/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number, e.g. +447700900123'],
  webhook: [WEB_URL, 'must be an http(s) URL without a user name or password'],
};

export const NotificationRules = z
  .strictObject({
    methods: z.array(ContactMethod).max(20),
    high: z.array(NotificationRule).max(20),
    low: z.array(NotificationRule).max(20).default([]),
  })
  .superRefine((r, ctx) => {
    const byId = new Map<string, ContactMethod>();
    r.methods.forEach((m, i) => {
      if (byId.has(m.id)) ctx.addIssue({ code: 'custom', path: ['methods', i, 'id'], message: `method '${m.id}' is listed twice` });
      byId.set(m.id, m);
      const check = ADDRESS[m.kind];
      if (check && !check[0].test(m.address)) ctx.addIssue({ code: 'custom', path: ['methods', i, 'address'], message: check[1] });
    });
    for (const urgency of ['high', 'low'] as const) {
      const seen = new Set<string>();
      r[urgency].forEach((rule, i) => {
        const method = byId.get(rule.methodId);
        const key = `${rule.methodId}@${rule.delayMinutes}`;
        if (!method) ctx.addIssue({ code: 'custom', path: [urgency, i, 'methodId'], message: `no contact method '${rule.methodId}'` });
        else if (urgency === 'low' && PAGING_KINDS.has(method.kind)) {
          ctx.addIssue({ code: 'custom', path: [urgency, i, 'methodId'], message: `low urgency never pages: use email, slack or webhook, not ${method.kind}` });
        }
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [urgency, i], message: `the same method and delay are listed twice` });
        seen.add(key);
      });
    }
  });
export type NotificationRules = z.infer<typeof NotificationRules>;

export interface PersonalNotification {
  /** Unique per page: (method, delay). The delivery key is `${page.key}/${ruleKey}`. */
  ruleKey: string;
  method: ContactMethod;
  at: number;
}

/** The notifications of one page to one person that are due by `now`, and when the next one is. */
export function personalNotifications(rules: NotificationRules, urgency: Urgency, pagedAt: number, now: number): { due: PersonalNotification[]; nextAt: number | null } {
  const due: PersonalNotification[] = [];
  let nextAt: number | null = null;
  for (const rule of rules[urgency]) {
    const method = rules.methods.find((m) => m.id === rule.methodId);
    // Validated rules always name a method; low urgency never pages, even with rules stored before
    // that was checked.
    if (!method || (urgency === 'low' && PAGING_KINDS.has(method.kind))) continue;
    const at = pagedAt + rule.delayMinutes * MINUTE_MS;
    if (at <= now) due.push({ ruleKey: `${rule.methodId}@${rule.delayMinutes}`, method, at });
    else if (nextAt === null || at < nextAt) nextAt = at;
  }
  due.sort((a, b) => a.at - b.at);
  return { due, nextAt };
}

export interface PersonalCap {
  max: number;
  windowMs: number;
}

/**
 * 10 per 15 minutes: a storm reaches a person as a few notifications and a summary, not a phone that
 * rings all night (GoAlert throttles per number, e.g. SMS 5 per 15 minutes).
 */
export const DEFAULT_PERSONAL_CAP: Readonly<PersonalCap> = Object.freeze({ max: 10, windowMs: 15 * MINUTE_MS });

/** The most incident ids a summary lists (the count covers the rest). */
const SUMMARY_INCIDENTS = 50;

export interface RateState {
  /** Send times within the window (pruned at every step). */
  sentAt: number[];
  /** Folded since the last summary, and the incidents they were for. */
  folded: number;
  foldedIncidents: string[];
  lastSummaryAt: number | null;
}

export const EMPTY_RATE_STATE: Readonly<RateState> = Object.freeze({ sentAt: [], folded: 0, foldedIncidents: [], lastSummaryAt: null });

export interface Summary {
  folded: number;
  incidentIds: string[];
}

/**
 * Caps one person's notifications: `candidates` (in the order they should go) are sent while the
 * window has room, the rest folded. Returns the summary to send now (or null) and when to call again
 * for a summary still owed.
 */
export function capNotifications<T extends { incidentId: string }>(
  prev: RateState,
  candidates: readonly T[],
  now: number,
  cap: PersonalCap = DEFAULT_PERSONAL_CAP,
): { state: RateState; send: T[]; summary: Summary | null; wakeAt: number | null } {
  const sentAt = prev.sentAt.filter((t) => now - t < cap.windowMs);
  const send: T[] = [];
  let folded = prev.folded;
  const incidents = new Set(prev.foldedIncidents);
  for (const c of candidates) {
    if (sentAt.length < cap.max) {
      send.push(c);
      sentAt.push(now);
    } else {
      folded += 1;
      if (incidents.size < SUMMARY_INCIDENTS) incidents.add(c.incidentId);
    }
  }
  const summaryDue = folded > 0 && (prev.lastSummaryAt === null || now - prev.lastSummaryAt >= cap.windowMs);
  if (summaryDue) {
    return {
      state: { sentAt, folded: 0, foldedIncidents: [], lastSummaryAt: now },
      send,
      summary: { folded, incidentIds: [...incidents] },
      wakeAt: null,
    };
  }
  return {
    state: { sentAt, folded, foldedIncidents: [...incidents], lastSummaryAt: prev.lastSummaryAt },
    send,
    summary: null,
    wakeAt: folded > 0 ? prev.lastSummaryAt! + cap.windowMs : null,
  };
}
