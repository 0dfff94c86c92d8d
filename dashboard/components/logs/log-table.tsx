'use client';

import Link from 'next/link';
import { Fragment, useState } from 'react';
import { logTime, valueText } from './format.ts';
import { searchValue } from './query-syntax.ts';

/** A log line as every logs route answers it. */
export interface LogLine {
  id: string;
  time: string;
  level: string;
  severityNumber: number | null;
  service: string;
  message: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  traceId: string | null;
  spanId: string | null;
}

/**
 * Log lines as a dense table: time, level badge, service, message; a line opens (click or Enter on
 * its message) to its attributes, resource and ids, with its context and its trace one click away.
 * `highlight` marks one line (a line's context); `onFilter` adds a `key:value` token to the search.
 */
export function LogTable({ logs, label, highlight, onFilter, onContext, testId = 'log-rows' }: {
  logs: LogLine[];
  label: string;
  highlight?: string;
  onFilter?(token: string): void;
  onContext?(log: LogLine): void;
  testId?: string;
}) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const toggle = (id: string) => setOpen((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    return n;
  });
  return (
    <table className="log-table" aria-label={label} data-testid={testId}>
      <thead>
        <tr><th scope="col" className="col-time">Time</th><th scope="col" className="col-level">Level</th><th scope="col" className="col-service">Service</th><th scope="col">Message</th><th scope="col" className="col-trace">Trace</th></tr>
      </thead>
      <tbody>
        {logs.map((l) => {
          const isOpen = open.has(l.id);
          const attrs = Object.entries(l.attributes ?? {});
          return (
            <Fragment key={l.id}>
              <tr className={`log-row level-${l.level}${l.id === highlight ? ' highlight' : ''}`} data-id={l.id} data-time={l.time} data-level={l.level} data-service={l.service}
                aria-current={l.id === highlight ? 'true' : undefined}>
                <td className="mono col-time">{logTime(l.time)}</td>
                <td className="col-level"><span className={`level-badge ${l.level}`}>{l.level}</span></td>
                <td className="col-service">{onFilter ? <button type="button" className="lt-link" onClick={() => onFilter(`service:${searchValue(l.service)}`)} title="Filter by this service">{l.service}</button> : l.service}</td>
                <td className="col-message">
                  <button type="button" className="message" aria-expanded={isOpen} onClick={() => toggle(l.id)}>
                    <span className="mono">{l.message}</span>
                    {attrs.length ? <span className="attr-count">{attrs.length} attr{attrs.length > 1 ? 's' : ''}</span> : null}
                  </button>
                </td>
                <td className="col-trace">{l.traceId ? <Link href={`/traces/?id=${l.traceId}`} aria-label={`Trace ${l.traceId.slice(0, 8)} of the line at ${logTime(l.time)}`}>{l.traceId.slice(0, 8)}</Link> : null}</td>
              </tr>
              {isOpen ? (
                <tr className="log-detail">
                  <td colSpan={5}>
                    <div className="log-detail-body">
                      <pre className="mono message-full">{l.message}</pre>
                      <dl className="ids">
                        <dt>Id</dt><dd className="mono">{l.id}</dd>
                        <dt>Time</dt><dd className="mono">{l.time}</dd>
                        {l.traceId ? <><dt>Trace</dt><dd className="mono"><Link href={`/traces/?id=${l.traceId}`}>{l.traceId}</Link></dd></> : null}
                        {l.spanId ? <><dt>Span</dt><dd className="mono">{l.spanId}</dd></> : null}
                      </dl>
                      <KeyValues title="Attributes" values={l.attributes} onFilter={onFilter} />
                      <KeyValues title="Resource" values={l.resource} onFilter={onFilter} />
                      <div className="log-actions">
                        {onContext ? <button type="button" className="secondary" onClick={() => onContext(l)}>Show context</button> : null}
                        {l.traceId ? <Link className="button-link" href={`/traces/?id=${l.traceId}`}>View trace</Link> : null}
                      </div>
                    </div>
                  </td>
                </tr>
              ) : null}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}

function KeyValues({ title, values, onFilter }: { title: string; values: Record<string, unknown>; onFilter?(token: string): void }) {
  const entries = Object.entries(values ?? {});
  if (!entries.length) return null;
  return (
    <table className="kv" aria-label={title}>
      <thead><tr><th scope="col">{title}</th><th scope="col">Value</th>{onFilter ? <th scope="col"><span className="sr-only">Filter</span></th> : null}</tr></thead>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <td className="mono">{k}</td>
            <td className="mono">{valueText(v)}</td>
            {onFilter ? (
              <td>{v === null || typeof v !== 'object' ? <button type="button" className="secondary small" onClick={() => onFilter(`@${k}:${searchValue(valueText(v))}`)} aria-label={`Filter by ${k} = ${valueText(v)}`}>Filter</button> : null}</td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
