import { badCursor, type CursorCodec } from '../core/cursor.ts';
import { isoMicros } from '../core/time.ts';

export { isoMicros };

/**
 * Span times keep Postgres' microseconds: SQL selects them as epoch microseconds (a float8 holds
 * them exactly) and we print ISO 8601 with six fraction digits when there are microseconds, three
 * otherwise (as log reads do); Date.parse reads both.
 */
export const EPOCH_US = (col: string) => `(extract(epoch from ${col}) * 1000000)::float8`;

/** Milliseconds between two epoch-microsecond values, rounded to the microsecond. */
export const msBetween = (fromUs: number, toUs: number) => Math.round(toUs - fromUs) / 1000;

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.(\d{3}|\d{6})Z$/;

/**
 * Keyset cursors of trace search ('traces.search', [start, trace id]) and of a trace's logs
 * ('traces.logs', [time, public log id]): [time with microseconds, id], signed (src/core/cursor.ts),
 * so one endpoint's cursor is refused by the other and an edited one by both. What opens is checked
 * again (an ISO time a Date can hold, an id of the expected form); any failure is a 400 naming
 * query.cursor.
 */
export function sealCursor(cursors: CursorCodec, purpose: 'traces.search' | 'traces.logs', timeUs: number, id: string): string {
  return cursors.seal(purpose, [isoMicros(timeUs), id]);
}

export function openCursor(cursors: CursorCodec, purpose: 'traces.search' | 'traces.logs', cursor: string, idPattern: RegExp): { time: string; id: string } {
  const value = cursors.open(purpose, cursor);
  if (Array.isArray(value) && value.length === 2) {
    const [time, id] = value as unknown[];
    if (typeof time === 'string' && ISO_MICROS.test(time) && !Number.isNaN(Date.parse(time)) && typeof id === 'string' && idPattern.test(id)) {
      return { time, id };
    }
  }
  throw badCursor();
}
