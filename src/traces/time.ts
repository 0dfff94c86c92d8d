import { AppError } from '../core/errors.ts';
import { decodeCursorValue, encodeCursorValue, isoMicros } from '../core/time.ts';

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
 * Keyset cursors are opaque to callers: base64url of [time with microseconds, id]. A cursor that
 * does not decode is a 400 naming query.cursor.
 */
export function encodeCursor(timeUs: number, id: string): string {
  return encodeCursorValue([isoMicros(timeUs), id]);
}

export function decodeCursor(cursor: string, idPattern: RegExp): { time: string; id: string } {
  const value = decodeCursorValue(cursor);
  if (Array.isArray(value) && value.length === 2) {
    const [time, id] = value as unknown[];
    if (typeof time === 'string' && ISO_MICROS.test(time) && !Number.isNaN(Date.parse(time)) && typeof id === 'string' && idPattern.test(id)) {
      return { time, id };
    }
  }
  const message = 'is not a cursor this endpoint returned';
  throw new AppError('VALIDATION_FAILED', `query.cursor: ${message}`, { details: [{ field: 'query.cursor', message }] });
}
