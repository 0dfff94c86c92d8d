import type { Schedule } from './schedule-schemas.ts';
import { finalShifts, type Shift } from './schedule.ts';

/**
 * A schedule's final shifts (or one user's) as an iCalendar feed (RFC 5545), for calendar
 * subscriptions. Pure: returns the text; `now` (DTSTAMP) is passed in.
 *
 * Invariants:
 * - one VEVENT per shift, times in UTC (`Z`), so no VTIMEZONE is needed and clients show each shift
 *   in their own zone;
 * - a shift's UID is made of the schedule, the user and the shift's start: the same shift keeps its UID
 *   across refreshes (its end may move, e.g. after an override, and clients update the event in place);
 * - shifts are not cut at the feed's range (a cut start would change the UID as the range moves with
 *   time): shifts overlapping [from, to) are computed over the range widened by FEED_MARGIN_MS each
 *   side, so only a shift longer than that margin is cut;
 * - lines end in CRLF and are folded at 75 octets (never inside a UTF-8 sequence); TEXT values escape
 *   backslash, `;`, `,` and newlines (RFC 5545 3.3.11).
 */

export const FEED_MARGIN_MS = 31 * 86_400_000;

export interface FeedOptions {
  from: number;
  to: number;
  /** DTSTAMP: when the feed was generated. */
  now: number;
  /** Only this user's shifts (a personal feed); default: everyone's. */
  user?: string;
}

export function scheduleCalendar(schedule: Schedule, opts: FeedOptions): string {
  const shifts = finalShifts(schedule, opts.from - FEED_MARGIN_MS, opts.to + FEED_MARGIN_MS).filter(
    (s) => s.end > opts.from && s.start < opts.to && (opts.user === undefined || s.user === opts.user),
  );
  const title = opts.user === undefined ? `On call: ${schedule.name}` : `On call: ${schedule.name} (${opts.user})`;
  return renderCalendar({ id: schedule.id, name: schedule.name, calendarName: title, shifts, now: opts.now });
}

export function renderCalendar(cal: { id: string; name: string; calendarName: string; shifts: Shift[]; now: number }): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//ObservAI Hub//On-call schedules//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(cal.calendarName)}`,
  ];
  for (const s of cal.shifts) {
    lines.push(
      'BEGIN:VEVENT',
      `UID:${escapeText(`${utc(s.start)}-${encodeURIComponent(s.user)}@${encodeURIComponent(cal.id)}.oncall.observai-hub`)}`,
      `DTSTAMP:${utc(cal.now)}`,
      `DTSTART:${utc(s.start)}`,
      `DTEND:${utc(s.end)}`,
      `SUMMARY:${escapeText(`On call: ${cal.name}`)}`,
      `DESCRIPTION:${escapeText(`${s.user} is on call for ${cal.name}`)}`,
      'TRANSP:TRANSPARENT',
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR');
  return lines.map(fold).join('\r\n') + '\r\n';
}

/** 20261206T140000Z */
export const utc = (t: number) => new Date(t).toISOString().replace(/\.\d{3}/, '').replace(/[-:]/g, '');

export const escapeText = (text: string) => text.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, '\\n');

const encoder = new TextEncoder();

/** Splits a content line into lines of at most 75 octets; continuation lines start with a space. */
export function fold(line: string): string {
  if (encoder.encode(line).length <= 75) return line;
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const size = encoder.encode(ch).length;
    if (octets + size > 75) {
      out.push(current);
      current = ' ';
      octets = 1;
    }
    current += ch;
    octets += size;
  }
  out.push(current);
  return out.join('\r\n');
}
