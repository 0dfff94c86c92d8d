'use client';

import { PRESETS, formatTime, type TimeRange } from '../lib/time.ts';

/** A preset range picker; after a zoom, the zoomed range and a way back. */
export function RangePicker({ value, onChange }: { value: TimeRange; onChange(r: TimeRange): void }) {
  if ('from' in value) {
    return (
      <span className="range">
        <span data-testid="zoomed-range">{formatTime(value.from)} – {formatTime(value.to)}</span>{' '}
        <button type="button" className="secondary" onClick={() => onChange({ preset: '1h' })}>Reset zoom</button>
      </span>
    );
  }
  return (
    <label>
      Time range
      <select value={value.preset} onChange={(e) => onChange({ preset: e.target.value as (typeof PRESETS)[number]['id'] })}>
        {PRESETS.map((p) => <option key={p.id} value={p.id}>{p.label}</option>)}
      </select>
    </label>
  );
}
