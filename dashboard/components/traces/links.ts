/**
 * From a trace back to the logs page: its lines (or one span's) in a window around the trace, so
 * the search reads a few minutes of partitions rather than the default day.
 */
export function logsLink(traceId: string, start: string, end: string, spanId?: string, logId?: string): string {
  const p = new URLSearchParams();
  p.set('q', `trace:${traceId}${spanId ? ` span:${spanId}` : ''}`);
  p.set('from', String(Date.parse(start) - 60_000));
  p.set('to', String(Date.parse(end) + 60_000));
  if (logId) p.set('ctx', logId);
  return `/logs/?${p}`;
}
