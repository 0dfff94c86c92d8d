'use client';

import { useState } from 'react';
import type { TimelineEntry } from './types.ts';

type Named = (id: string | null | undefined) => string;
type Target = { type: string; id: string };

const KIND_LABEL: Record<string, string> = {
  opened: 'Opened',
  alert_added: 'Alert added',
  held: 'Held (maintenance)',
  released: 'Released (maintenance ended)',
  reopened: 'Reopened',
  acknowledged: 'Acknowledged',
  unacknowledged: 'Unacknowledged',
  snoozed: 'Snoozed',
  reassigned: 'Reassigned',
  escalated: 'Escalated',
  notified: 'Paged',
  person_notified: 'Notified',
  notify_failed: 'Notification failed',
  notify_folded: 'Notification folded (rate cap)',
  note: 'Note',
  merged_into: 'Merged into',
  merged_from: 'Merged from',
  resolved: 'Resolved',
};

export function kindLabel(kind: string): string {
  return KIND_LABEL[kind] ?? kind.replace(/_/g, ' ');
}

function target(t: Target, name: Named, targetName?: (t: Target) => string): string {
  if (targetName) return targetName(t);
  return t.type === 'user' ? name(t.id) : `${t.type.replace('_', ' ')} ${t.id.slice(0, 8)}`;
}

/** What happened, in words: each kind's own details (src/oncall/incidents.ts, escalate-incidents.ts). */
export function describeEntry(e: TimelineEntry, name: Named, targetName?: (t: Target) => string): string {
  const d = e.details as Record<string, unknown>;
  switch (e.kind) {
    case 'opened':
      return `${d.urgency ? `${String(d.urgency)} urgency` : ''}${d.held ? ', held: nobody paged during a maintenance window' : ''}`;
    case 'alert_added': {
      const a = (d.alert ?? {}) as Record<string, unknown>;
      return [a.summary, a.source ? `source ${String(a.source)}` : '', a.severity ? `severity ${String(a.severity)}` : ''].filter(Boolean).join(' · ');
    }
    case 'snoozed':
      return typeof d.until === 'number' || typeof d.until === 'string' ? `until ${new Date(d.until as number).toLocaleString()}` : '';
    case 'reassigned':
      return Array.isArray(d.targets) ? `to ${(d.targets as Target[]).map((t) => target(t, name, targetName)).join(', ')}` : '';
    case 'escalated': {
      const un = Array.isArray(d.unreachable) ? (d.unreachable as Target[]) : [];
      return `level ${String(d.level)} (cycle ${String(d.cycle)}, round ${String(d.round)})${un.length ? `; reached nobody: ${un.map((t) => target(t, name, targetName)).join(', ')}` : ''}`;
    }
    case 'notified': {
      const r = d.recipient as Target | undefined;
      return `${r ? target(r, name, targetName) : ''}${d.channel ? ` via ${String(d.channel).replace(/_/g, ' ')}` : ''} (level ${String(d.level)})`;
    }
    case 'person_notified':
    case 'notify_failed':
    case 'notify_folded':
      return `${name(d.userId as string)}${d.method ? ` by ${String(d.method)}` : ''}${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'note':
      return String(d.text ?? '');
    case 'merged_into':
    case 'merged_from':
      return String(d.incidentId ?? '');
    case 'resolved':
      return d.automatically ? 'automatically (every alert resolved)' : '';
    default:
      return Object.entries(d).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ');
  }
}

/**
 * The incident's timeline: every entry the API records, newest or oldest first, with who (a person,
 * the service's inbound events, or the system) and when.
 */
export function Timeline({ entries, name, targetName }: { entries: TimelineEntry[]; name: Named; targetName?: (t: Target) => string }) {
  const [newestFirst, setNewestFirst] = useState(true);
  const rows = [...entries].sort((a, b) => (Date.parse(a.at) - Date.parse(b.at) || a.id - b.id) * (newestFirst ? -1 : 1));
  return (
    <section className="panel" aria-labelledby="timeline-h">
      <div className="inc-head">
        <h2 id="timeline-h">Timeline <span className="muted">({entries.length})</span></h2>
        <label>Order
          <select value={newestFirst ? 'newest' : 'oldest'} onChange={(e) => setNewestFirst(e.target.value === 'newest')}>
            <option value="newest">Newest first</option>
            <option value="oldest">Oldest first</option>
          </select>
        </label>
      </div>
      <div className="oc-scroll" role="region" aria-label="Timeline entries" tabIndex={0}>
        <table data-testid="timeline">
          <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">Details</th></tr></thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id} data-kind={e.kind}>
                <td className="oc-nowrap"><time dateTime={e.at}>{new Date(e.at).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })}</time></td>
                <td><span className={`oc-kind oc-kind-${e.kind}`}>{kindLabel(e.kind)}</span></td>
                <td>{e.actor ? name(e.actor) : <span className="muted">system</span>}</td>
                <td className="oc-details">{describeEntry(e, name, targetName)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
