'use client';

import { useEffect, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import type { Schedule } from '../incidents/types.ts';
import { viewerZone, when } from './people.ts';

export interface Shift { start: string; end: string; userId: string }
interface Shifts { from: string; to: string; layers: Array<{ layerId: string; name: string; shifts: Shift[] }>; final: Shift[] }

/** Okabe-Ito colours, each with the text colour that keeps AA contrast on it. */
const COLOURS: Array<[string, string]> = [
  ['#0072b2', '#ffffff'], ['#e69f00', '#000000'], ['#009e73', '#000000'], ['#cc79a7', '#000000'],
  ['#56b4e9', '#000000'], ['#d55e00', '#000000'], ['#b8a000', '#000000'], ['#000000', '#ffffff'],
];

/** A day column's heading: "Mon 7", with the month on the first column and on the 1st ("Dec 1"). */
function dayLabel(ms: number, first: boolean): string {
  const d = new Date(ms);
  if (first || d.getDate() === 1) return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return `${d.toLocaleDateString(undefined, { weekday: 'short' })} ${d.getDate()}`;
}

/** A person's name short enough for a bar: an email's local part (the bar's label has the whole name). */
function shortName(full: string): string {
  const at = full.indexOf('@');
  return at > 0 ? full.slice(0, at) : full;
}

/** The local midnight `days` days after the local midnight of `ms` (calendar days, so DST-safe). */
export function localDay(ms: number, days = 0): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + days).getTime();
}

/**
 * The schedule's shifts over `days` days from `from` (GET /oncall/schedules/{id}/shifts): a grid of
 * days in the viewer's zone, the final schedule (overrides on top) as bars labelled with the person,
 * and each layer below it. Bars are buttons: Tab reaches them, their label says who and when, and
 * choosing one of the final schedule's offers to cover it with an override.
 */
export function ScheduleCalendar({ schedule, from, days, name, people, refresh, onShift }: {
  schedule: Schedule; from: number; days: number; name: (id: string | null | undefined) => string; people: string[]; refresh: number; onShift?(s: Shift): void;
}) {
  const { clients } = useApp();
  const [shifts, setShifts] = useState<Shifts>();
  const [error, setError] = useState<string>();
  const to = localDay(from, days);
  useEffect(() => {
    let live = true;
    clients.api.get('/oncall/schedules/{id}/shifts', { params: { path: { id: schedule.id }, query: { from: new Date(from).toISOString(), to: new Date(to).toISOString() } } })
      .then((r) => { if (live) { setShifts(r); setError(undefined); } })
      .catch((err) => live && setError(errorText(err)));
    return () => { live = false; };
  }, [clients, schedule.id, schedule.version, from, to, refresh]);

  const span = to - from;
  const pct = (ms: number) => `${(Math.min(Math.max(ms - from, 0), span) / span) * 100}%`;
  const dayStarts = Array.from({ length: days }, (_, i) => localDay(from, i));
  const colour = (userId: string) => COLOURS[Math.max(0, people.indexOf(userId)) % COLOURS.length]!;
  const now = Date.now();
  const track = (label: string, list: Shift[], final: boolean) => (
    <div className={`cal-row${final ? ' final' : ''}`} role="listitem" key={label}>
      <div className="cal-label">{label}</div>
      <div className="cal-track" aria-label={`${label}: ${list.length} shift${list.length === 1 ? '' : 's'}`} role="group">
        {dayStarts.map((d) => <span key={d} className="cal-day-line" style={{ left: pct(d) }} aria-hidden="true" />)}
        {now >= from && now < to ? <span className="cal-now" style={{ left: pct(now) }} aria-hidden="true" title="Now" /> : null}
        {list.length === 0 ? <span className="cal-empty">nobody on call in this range</span> : null}
        {list.map((s) => {
          const start = Date.parse(s.start);
          const end = Date.parse(s.end);
          const [bg, fg] = colour(s.userId);
          const text = `${name(s.userId)}, ${when(start)} – ${when(end)}`;
          return (
            <button
              type="button"
              key={`${s.start}-${s.userId}`}
              className="cal-shift"
              data-user={s.userId}
              data-start={s.start}
              data-end={s.end}
              style={{ left: pct(start), width: `calc(${pct(end)} - ${pct(start)})`, background: bg, color: fg }}
              aria-label={final ? `${text}, on call` : `${text}, ${label}`}
              title={text}
              onClick={final && onShift ? () => onShift(s) : undefined}
            >
              {shortName(name(s.userId))}
            </button>
          );
        })}
      </div>
    </div>
  );

  return (
    <div className="calendar">
      <p className="hint">
        Times in your zone, <strong>{viewerZone()}</strong>; the schedule's zone is <strong data-testid="schedule-zone">{schedule.timeZone}</strong> (handoffs follow its clock).
        {onShift ? ' Choose a bar of the final schedule to cover it with an override.' : ''}
      </p>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div className="cal-scroll" role="region" aria-label={`Calendar of ${schedule.name}`} tabIndex={0}>
        <div className="cal-grid" data-testid="calendar" aria-busy={shifts === undefined}>
          <div className="cal-row cal-header" aria-hidden="true">
            <div className="cal-label" />
            <div className="cal-track">
              {dayStarts.map((d, i) => (
                <span key={d} className={`cal-day${localDay(now) === d ? ' today' : ''}`} style={{ left: pct(d), width: `calc(${pct(dayStarts[i + 1] ?? to)} - ${pct(d)})` }}>
                  {dayLabel(d, i === 0)}
                </span>
              ))}
            </div>
          </div>
          <div role="list" aria-label="Schedule rows">
            {shifts ? track('Final schedule', shifts.final, true) : null}
            {shifts?.layers.slice().reverse().map((l) => track(`Layer: ${l.name}`, l.shifts, false))}
          </div>
        </div>
      </div>
    </div>
  );
}
