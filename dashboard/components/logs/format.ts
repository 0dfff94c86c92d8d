/** Times as log viewers show them: to the millisecond (microseconds when the line has them). */
export function logTime(iso: string): string {
  const d = new Date(iso);
  const micros = /\.\d{3}(\d{3})/.exec(iso)?.[1];
  const date = d.toLocaleDateString(undefined, { month: 'short', day: '2-digit' });
  const time = d.toLocaleTimeString(undefined, { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return `${date} ${time}.${String(d.getMilliseconds()).padStart(3, '0')}${micros && micros !== '000' ? micros : ''}`;
}

/** An axis label: the time of day (24 h), with the date when the axis spans more than a day. */
export function tickTime(ms: number, spanMs: number): string {
  const d = new Date(ms);
  const time = d.toLocaleTimeString(undefined, { hour12: false, hour: '2-digit', minute: '2-digit', ...(spanMs < 600_000 ? { second: '2-digit' } : {}) });
  return spanMs > 86_400_000 ? `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}` : time;
}

/** A bucket's width as a person says it: 30 s, 5 min, 1 h, 1 d. */
export function stepText(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${seconds / 60} min`;
  if (seconds < 86_400) return `${seconds / 3600} h`;
  return `${seconds / 86_400} d`;
}

/** An attribute value on one line (objects as compact JSON). */
export function valueText(v: unknown): string {
  if (v === null) return 'null';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

