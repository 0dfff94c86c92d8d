/** Time ranges as the pages share them: a preset (relative to now) or an absolute [from, to] after a zoom. */
export const PRESETS = [
  { id: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
  { id: '6h', label: 'Last 6 hours', ms: 6 * 3_600_000 },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
] as const;
export type PresetId = (typeof PRESETS)[number]['id'];

export type TimeRange = { preset: PresetId } | { from: number; to: number };

/** The absolute range, in epoch ms, at `now`. */
export function resolveRange(r: TimeRange, now = Date.now()): { from: number; to: number } {
  if ('from' in r) return { from: r.from, to: r.to };
  const ms = PRESETS.find((p) => p.id === r.preset)?.ms ?? 3_600_000;
  return { from: now - ms, to: now };
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** In a URL: `range=1h` or `from=<ms>&to=<ms>`. */
export function rangeFromParams(p: URLSearchParams, fallback: PresetId = '1h'): TimeRange {
  const from = Number(p.get('from'));
  const to = Number(p.get('to'));
  if (from > 0 && to > from) return { from, to };
  const preset = p.get('range');
  return { preset: PRESETS.some((x) => x.id === preset) ? (preset as PresetId) : fallback };
}

export function rangeToParams(r: TimeRange, p: URLSearchParams): void {
  p.delete('range');
  p.delete('from');
  p.delete('to');
  if ('from' in r) {
    p.set('from', String(Math.round(r.from)));
    p.set('to', String(Math.round(r.to)));
  } else p.set('range', r.preset);
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatDuration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
