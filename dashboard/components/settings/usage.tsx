'use client';

import { useState } from 'react';
import { errorText } from '../../lib/api.ts';
import { useApp } from '../app-context.tsx';
import { Alert, bytes, count, ReadOnlyNote, TableRegion, useLoad } from './shared.tsx';

const SIGNALS = ['metrics', 'logs', 'traces'] as const;
const percent = (share: number) => (share > 0 && share < 0.0001 ? '<0.01%' : `${(share * 100).toFixed(share < 0.1 ? 2 : 0)}%`);
const dollars = (cents: number) => (cents / 100).toLocaleString('en-US', { style: 'currency', currency: 'USD' });

/**
 * This month's usage per signal (GET /billing/{orgId}/usage: every member; members and viewers count
 * the projects they read) drawn against the plan's monthly limits, which the API gives owners and
 * admins. Owners also see the billing details and this month's statement (GET /billing/{orgId},
 * /statements/{month}), with its CSV.
 */
export function UsageSection() {
  const { clients, organization, can } = useApp();
  const api = clients.api;
  const orgId = organization!.id;
  const owner = can('owner');
  const usage = useLoad(() => api.get('/billing/{orgId}/usage', { params: { path: { orgId }, query: { groupBy: 'signal' } } }), [api, orgId]);
  const u = usage.data;
  const limits = u?.plan?.limits;
  // The usage answer names the plan for owners and admins; others find its name in the plan list.
  const admin = can('admin');
  const plans = useLoad(() => (admin ? Promise.resolve([]) : api.get('/billing/plans').then((r) => r.plans)), [api, admin]);
  const planName = u?.plan?.name ?? plans.data?.find((p) => p.id === organization!.plan)?.name ?? organization!.plan;

  return (
    <section aria-labelledby="usage-h" className="settings-section">
      <h2 id="usage-h">Usage and plan</h2>
      <Alert text={usage.error} />
      <p className="settings-plan">
        Plan <strong data-testid="plan-name">{planName}</strong>
        {u ? <span className="muted"> · {u.from} to {u.to} (UTC){u.plan ? `, billing period ${u.plan.period}` : ''}</span> : null}
      </p>
      {!admin ? <ReadOnlyNote>Your usage counts the projects you can read; owners and admins see the plan's limits, owners the billing details.</ReadOnlyNote> : null}
      <div className="settings-usage" data-testid="usage">
        {SIGNALS.map((s) => {
          const used = u?.totals[s];
          const limit = limits?.[s].monthlyLimit ?? null;
          const share = used !== undefined && limit ? Math.min(1, used / limit) : 0;
          const level = share >= 1 ? 'over' : share >= 0.8 ? 'near' : 'ok';
          return (
            <div key={s} className="settings-usage-row" data-testid={`usage-${s}`} data-events={used ?? ''} data-limit={limit ?? ''}>
              <span className="settings-usage-name">{s}</span>
              {limits ? <span className={`settings-bar ${level}`} aria-hidden="true">{share > 0 ? <span style={{ width: `${(share * 100).toFixed(1)}%` }} /> : null}</span> : <span />}
              <span className="num">
                <strong>{used === undefined ? '…' : count(used)}</strong> events
                {limits ? <span className="muted"> / {limit === null ? 'no limit' : `${count(limit)} (${percent(share)}, ${limits[s].policy === 'block' ? 'refused past it' : 'overage billed'})`}</span> : null}
              </span>
            </div>
          );
        })}
        <div className="settings-usage-row" data-testid="usage-queries" data-events={u?.totals.queries ?? ''}>
          <span className="settings-usage-name">queries</span>
          <span />
          <span className="num"><strong>{u ? count(u.totals.queries) : '…'}</strong> reads <span className="muted">(counted, not priced)</span></span>
        </div>
      </div>
      {u && u.usage.length > 0 ? (
        <p className="hint">Ingested: {u.usage.filter((r) => r.signal !== 'queries').map((r) => `${r.signal} ${bytes(r.bytes)} in ${count(r.requests)} request${r.requests === 1 ? '' : 's'}`).join(' · ')}</p>
      ) : null}
      {owner ? <Billing orgId={orgId} month={u?.plan?.period} /> : null}
    </section>
  );
}

function Billing({ orgId, month }: { orgId: string; month: string | undefined }) {
  const { clients, config } = useApp();
  const api = clients.api;
  const billing = useLoad(() => api.get('/billing/{orgId}', { params: { path: { orgId } } }), [api, orgId]);
  const statement = useLoad(
    () => (month ? api.get('/billing/{orgId}/statements/{month}', { params: { path: { orgId, month } } }).then((r) => (r as { statement: StatementView }).statement) : Promise.resolve(undefined)),
    [api, orgId, month],
  );
  const [csvError, setCsvError] = useState<string>();
  const downloadCsv = async () => {
    try {
      const res = await fetch(`${clients.functionsUrl}/billing/${orgId}/statements/${month}?format=csv`, { headers: { authorization: `Bearer ${await clients.accessToken()}`, apikey: config.anonKey } });
      if (!res.ok) throw new Error(`The statement answered ${res.status}`);
      const href = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = href;
      a.download = `statement-${month}.csv`;
      a.click();
      URL.revokeObjectURL(href);
      setCsvError(undefined);
    } catch (err) {
      setCsvError(errorText(err));
    }
  };
  const d = billing.data?.details;
  const s = statement.data;
  return (
    <>
      <h3>Billing details</h3>
      <Alert text={billing.error ?? statement.error ?? csvError} />
      {d ? (
        <dl className="settings-dl">
          <dt>Billing email</dt><dd>{d.billingEmail ?? '—'}</dd>
          <dt>Company</dt><dd>{d.companyName ?? '—'}</dd>
          <dt>Address</dt><dd>{d.address ?? '—'}</dd>
          <dt>Tax id</dt><dd>{d.taxId ?? '—'}</dd>
          <dt>Base price</dt><dd>{dollars(billing.data!.plan.basePriceCents)} a month</dd>
          <dt>Stripe</dt><dd>{d.stripe.customerId ? `${d.stripe.customerId} · subscription ${d.stripe.subscriptionStatus}` : 'not billed through Stripe'}</dd>
        </dl>
      ) : null}
      {s ? (
        <>
          <h3>Statement {s.month} {s.provisional ? <span className="muted">(provisional: the month is not over)</span> : null}</h3>
          <TableRegion label={`Statement ${s.month}`}>
            <table data-testid="statement">
              <thead><tr><th scope="col">Item</th><th scope="col" className="num">Events</th><th scope="col" className="num">Included</th><th scope="col" className="num">Billable</th><th scope="col" className="num">Per million</th><th scope="col" className="num">Amount</th></tr></thead>
              <tbody>
                <tr><th scope="row">base ({s.plan.name})</th><td /><td /><td /><td /><td className="num">{dollars(s.basePriceCents)}</td></tr>
                {s.lines.map((l) => (
                  <tr key={l.signal}><th scope="row">{l.signal}</th><td className="num">{count(l.events)}</td><td className="num">{count(l.included)}</td><td className="num">{count(l.billable)}</td><td className="num">{dollars(l.pricePerMillionCents)}</td><td className="num">{dollars(l.amountCents)}</td></tr>
                ))}
                <tr className="settings-total"><th scope="row">total</th><td /><td /><td /><td /><td className="num">{dollars(s.totalCents)}</td></tr>
              </tbody>
            </table>
          </TableRegion>
          <div className="toolbar settings-after"><button type="button" className="secondary" onClick={() => void downloadCsv()}>Download CSV</button></div>
        </>
      ) : null}
    </>
  );
}

interface StatementView {
  month: string;
  plan: { id: string; name: string };
  basePriceCents: number;
  lines: Array<{ signal: string; events: number; included: number; billable: number; pricePerMillionCents: number; amountCents: number }>;
  totalCents: number;
  provisional: boolean;
}
