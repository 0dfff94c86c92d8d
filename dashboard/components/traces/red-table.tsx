'use client';

import { formatDuration } from '../../lib/time.ts';

export interface ServiceRow {
  service: string;
  requests: number;
  ratePerSecond: number;
  errors: number;
  errorRate: number;
  durationMs: { p50: number | null; p95: number | null; p99: number | null };
  series?: Array<{ time: string; requests: number; errors: number }>;
}

/** Spans per bucket as bars, errors in vermillion on top of them: the shape of the range at a glance. */
function Spark({ row, color }: { row: ServiceRow; color?: string }) {
  const s = row.series ?? [];
  if (!s.length) return null;
  const max = Math.max(1, ...s.map((b) => b.requests));
  const w = 120;
  const h = 22;
  const bw = w / s.length;
  const peak = s.reduce((m, b) => Math.max(m, b.requests), 0);
  return (
    <svg width={w} height={h} role="img" aria-label={`${row.service}: at most ${peak} spans in a bucket, ${row.errors} errors in the range`}>
      <line x1={0} x2={w} y1={h - 0.5} y2={h - 0.5} stroke="#d0d7de" />
      {s.map((b, i) => {
        const bh = (b.requests / max) * h;
        const eh = (b.errors / max) * h;
        return (
          <g key={b.time}>
            {b.requests ? <rect x={i * bw} y={h - bh} width={Math.max(1, bw - 1)} height={bh} fill={color ?? '#0072b2'} opacity={0.75} /> : null}
            {b.errors ? <rect x={i * bw} y={h - eh} width={Math.max(1, bw - 1)} height={eh} fill="#d55e00" /> : null}
          </g>
        );
      })}
    </svg>
  );
}

const rate = (r: number) => (r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2));
const ms = (v: number | null) => (v === null ? '—' : formatDuration(v));

/**
 * Rate, errors and duration per service (GET /logs/traces/services) over the search's range: the
 * RED view of SigNoz's services page. A service's name filters the trace search by it.
 */
export function RedTable({ rows, truncated, colors, onService }: { rows: ServiceRow[]; truncated: boolean; colors: Map<string, string>; onService(service: string): void }) {
  if (!rows.length) return <p className="muted">No spans in this time range.</p>;
  return (
    <>
      <table className="red-table" aria-label="Requests, errors and duration per service" data-testid="red-table">
        <thead>
          <tr>
            <th scope="col">Service</th><th scope="col" className="num">Spans</th><th scope="col" className="num">Rate (/s)</th>
            <th scope="col" className="num">Errors</th><th scope="col" className="num">Error rate</th><th scope="col">Over time</th>
            <th scope="col" className="num">p50</th><th scope="col" className="num">p95</th><th scope="col" className="num">p99</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.service} data-service={r.service} data-requests={r.requests} data-errors={r.errors}>
              <td>
                <span className="swatch" style={{ background: colors.get(r.service) }} aria-hidden="true" />
                <button type="button" className="lt-link" onClick={() => onService(r.service)} title="Search this service's traces">{r.service}</button>
              </td>
              <td className="num">{r.requests.toLocaleString()}</td>
              <td className="num">{rate(r.ratePerSecond)}</td>
              <td className="num">{r.errors.toLocaleString()}</td>
              <td className={`num${r.errorRate > 0.05 ? ' bad' : ''}`}>{(r.errorRate * 100).toFixed(r.errorRate > 0 && r.errorRate < 0.01 ? 2 : 1)}%</td>
              <td className="spark"><Spark row={r} color={colors.get(r.service)} /></td>
              <td className="num">{ms(r.durationMs.p50)}</td>
              <td className="num">{ms(r.durationMs.p95)}</td>
              <td className="num">{ms(r.durationMs.p99)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {truncated ? <p className="hint">The busiest {rows.length} services; more exist in this range.</p> : null}
    </>
  );
}
