'use client';

import Link from 'next/link';
import { formatDuration } from '../../lib/time.ts';
import { logTime, valueText } from '../logs/format.ts';
import { logsLink } from './links.ts';
import type { SpanNode } from './types.ts';

/** One span's details: status, timing, ids, attributes, resource, events and links. */
export function SpanDetails({ span, traceId, color, onClose }: { span: SpanNode; traceId: string; color?: string; onClose(): void }) {
  const attrs = Object.entries(span.attributes ?? {});
  const resource = Object.entries(span.resource ?? {});
  return (
    <section className="panel span-details" aria-labelledby="span-title" data-testid="span-details" data-span-id={span.spanId}>
      <header>
        <h2 id="span-title"><span className="swatch" style={{ background: color }} aria-hidden="true" />{span.name}</h2>
        <button type="button" className="secondary" onClick={onClose}>Close</button>
      </header>
      <dl className="lt-facts">
        <dt>Service</dt><dd>{span.service}</dd>
        <dt>Status</dt><dd>{span.status === 'error' ? <span className="level-badge error">error</span> : span.status}{span.statusMessage ? <span className="mono"> {span.statusMessage}</span> : null}</dd>
        <dt>Duration</dt><dd data-testid="span-duration">{formatDuration(span.durationMs)}</dd>
        <dt>Start</dt><dd className="mono">{logTime(span.start)} <span className="muted">(+{formatDuration(span.offsetMs)})</span></dd>
        <dt>Kind</dt><dd>{span.kind}</dd>
        <dt>Span id</dt><dd className="mono">{span.spanId}</dd>
        <dt>Parent</dt><dd className="mono">{span.parentSpanId ?? '(root)'}{span.orphan ? ' (not in the trace)' : ''}</dd>
        <dt>Trace id</dt><dd className="mono">{traceId}</dd>
      </dl>
      <p><Link href={logsLink(traceId, span.start, span.end, span.spanId)}>Logs of this span</Link></p>
      <Table title="Attributes" rows={attrs} />
      <Table title="Resource" rows={resource} />
      {span.events.length ? (
        <table aria-label="Events">
          <thead><tr><th scope="col">Event</th><th scope="col">At</th><th scope="col">Attributes</th></tr></thead>
          <tbody>
            {span.events.map((e, i) => (
              <tr key={i}><td>{e.name}</td><td className="mono">{e.offsetMs === null ? '—' : `+${formatDuration(e.offsetMs)}`}</td><td className="mono">{Object.keys(e.attributes ?? {}).length ? JSON.stringify(e.attributes) : ''}</td></tr>
            ))}
          </tbody>
        </table>
      ) : <p className="muted">No events.</p>}
      {span.links.length ? (
        <table aria-label="Links">
          <thead><tr><th scope="col">Linked trace</th><th scope="col">Span</th></tr></thead>
          <tbody>{span.links.map((l) => <tr key={`${l.traceId}:${l.spanId}`}><td className="mono"><Link href={`/traces/?id=${l.traceId}`}>{l.traceId}</Link></td><td className="mono">{l.spanId}</td></tr>)}</tbody>
        </table>
      ) : null}
    </section>
  );
}

function Table({ title, rows }: { title: string; rows: Array<[string, unknown]> }) {
  if (!rows.length) return <p className="muted">No {title.toLowerCase()}.</p>;
  return (
    <table className="kv" aria-label={title}>
      <thead><tr><th scope="col">{title}</th><th scope="col">Value</th></tr></thead>
      <tbody>{rows.map(([k, v]) => <tr key={k}><td className="mono">{k}</td><td className="mono">{valueText(v)}</td></tr>)}</tbody>
    </table>
  );
}
