'use client';

import { useState } from 'react';
import { formatDuration } from '../../lib/time.ts';
import { flattenSpans, type SpanNode } from './types.ts';

/**
 * A trace's waterfall: one row per span, nested under its parent (indented, collapsible), its bar
 * placed on the trace's time axis (offset and duration over the whole trace), coloured by service.
 * An error span says so in text ("error"), not only with its red outline. Each row is a button:
 * click or Enter selects the span (its details open beside).
 */
export function Waterfall({ spans, durationMs, colors, selected, onSelect }: {
  spans: SpanNode[];
  durationMs: number;
  colors: Map<string, string>;
  selected?: string;
  onSelect(span: SpanNode): void;
}) {
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const rows = flattenSpans(spans, collapsed);
  const total = Math.max(durationMs, 0.001);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const toggle = (id: string) => setCollapsed((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    return n;
  });
  return (
    <div className="waterfall" data-testid="waterfall" data-spans={rows.length}>
      <div className="wf-head" aria-hidden="true">
        <span className="wf-name">Span</span>
        <span className="wf-track">
          {ticks.map((t) => <span key={t} className="wf-tick" style={{ left: `${t * 100}%` }}>{t === 0 ? '0 ms' : formatDuration(total * t)}</span>)}
        </span>
      </div>
      <ol className="wf-rows" aria-label="Spans, nested by parent">
        {rows.map(({ span: s, level }) => {
          const left = (Math.max(0, s.offsetMs) / total) * 100;
          const width = Math.max(0.3, (s.durationMs / total) * 100);
          const error = s.status === 'error';
          return (
            <li key={s.spanId} className={`wf-row${s.spanId === selected ? ' selected' : ''}${error ? ' error' : ''}`} data-span-id={s.spanId} data-name={s.name} data-service={s.service}>
              {s.children.length ? (
                <button type="button" className="wf-toggle" style={{ marginLeft: level * 14 }} aria-expanded={!collapsed.has(s.spanId)} aria-label={`${collapsed.has(s.spanId) ? 'Expand' : 'Collapse'} ${s.name} (${s.children.length} children)`} onClick={() => toggle(s.spanId)}>
                  {collapsed.has(s.spanId) ? '▸' : '▾'}
                </button>
              ) : <span className="wf-toggle spacer" style={{ marginLeft: level * 14 }} aria-hidden="true" />}
              <button type="button" className="wf-span" aria-pressed={s.spanId === selected} onClick={() => onSelect(s)}>
                <span className="wf-name">
                  <span className="swatch" style={{ background: colors.get(s.service) }} aria-hidden="true" />
                  <span className="wf-service">{s.service}</span> <span className="wf-op">{s.name}</span>
                  {error ? <span className="level-badge error">error</span> : null}
                  {s.orphan ? <span className="badge" title="Its parent span is not in the trace">orphan</span> : null}
                </span>
                <span className="wf-track">
                  <span className="wf-bar" style={{ left: `${left}%`, width: `${width}%`, background: colors.get(s.service) }} />
                  <span className={left + width > 80 && left < 15 ? 'wf-dur inside' : 'wf-dur'} style={left + width <= 80 ? { left: `${left + width + 0.5}%` } : left < 15 ? { right: `${100 - left - width + 0.5}%` } : { right: `${100 - left + 0.5}%` }}>{formatDuration(s.durationMs)}</span>
                </span>
              </button>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
