import type { PlanView } from './plans.ts';
import { SIGNALS, type Signal, type UsageSignal } from './quota.ts';

export interface StatementLine {
  signal: Signal;
  events: number;
  bytes: number;
  included: number;
  billable: number;
  pricePerMillionCents: number;
  amountCents: number;
}

export interface Statement {
  organizationId: string;
  month: string;
  plan: { id: string; name: string };
  basePriceCents: number;
  lines: StatementLine[];
  projects: Array<{ projectId: string; signal: UsageSignal; events: number; bytes: number }>;
  /** Reads of telemetry in the month: counted, not priced (no plan prices queries). */
  queries: number;
  peakActiveSeries: number;
  totalCents: number;
  currency: 'usd';
  /** True while the month is not over: the figures still grow. */
  provisional: boolean;
}

/**
 * A month's statement under a plan, pure: per signal the events beyond the included amount, priced
 * per million (rounded up to the cent), plus the base price. The cost is an estimate under the
 * current plan; Stripe's invoice, from the same meter events, is the bill.
 */
export function buildStatement(
  a: { organizationId: string; month: string; plan: PlanView; provisional: boolean },
  usage: ReadonlyArray<{ signal: UsageSignal; events: number; bytes: number }>,
  projects: Statement['projects'],
  peakActiveSeries: number,
): Statement {
  const lines = SIGNALS.map((signal): StatementLine => {
    const u = usage.find((x) => x.signal === signal) ?? { events: 0, bytes: 0 };
    const terms = a.plan.signals[signal];
    const billable = Math.max(0, u.events - terms.included);
    return {
      signal,
      events: u.events,
      bytes: u.bytes,
      included: terms.included,
      billable,
      pricePerMillionCents: terms.pricePerMillionCents,
      amountCents: Math.ceil((billable * terms.pricePerMillionCents) / 1_000_000),
    };
  });
  return {
    organizationId: a.organizationId,
    month: a.month,
    plan: { id: a.plan.id, name: a.plan.name },
    basePriceCents: a.plan.basePriceCents,
    lines,
    projects,
    queries: usage.find((x) => x.signal === 'queries')?.events ?? 0,
    peakActiveSeries,
    totalCents: a.plan.basePriceCents + lines.reduce((n, l) => n + l.amountCents, 0),
    currency: 'usd',
    provisional: a.provisional,
  };
}

const csvCell = (v: string | number) => {
  const s = String(v);
  // Quote what needs it, and neutralise cells a spreadsheet would read as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** The statement as CSV: one row per signal, the queries counted (not priced), then the base price and the total. */
export function statementCsv(s: Statement): string {
  const rows: Array<Array<string | number>> = [['month', 'plan', 'item', 'events', 'bytes', 'included', 'billable', 'price_per_million_cents', 'amount_cents']];
  for (const l of s.lines) rows.push([s.month, s.plan.id, l.signal, l.events, l.bytes, l.included, l.billable, l.pricePerMillionCents, l.amountCents]);
  rows.push([s.month, s.plan.id, 'queries', s.queries, '', '', '', '', '']);
  rows.push([s.month, s.plan.id, 'base', '', '', '', '', '', s.basePriceCents]);
  rows.push([s.month, s.plan.id, 'total', '', '', '', '', '', s.totalCents]);
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
