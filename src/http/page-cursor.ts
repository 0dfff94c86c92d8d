import { badCursor, cursorCodec } from '../core/cursor.ts';
import { serverSecret } from '../db/server-secret.ts';
import type { Queryable } from '../db/types.ts';
import { invalid } from './validate.ts';

/** Where a newest-first page ended: the time (epoch microseconds, exact, as text) and id of its last row. */
export interface Position {
  us: string;
  id: string;
}

/** SQL for a Position's time parameter: exact to the microsecond (a float8 or a Date would not be). */
export const microsParam = (param: string) => `(timestamptz 'epoch' + ${param}::int8 * interval '1 microsecond')`;

function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/**
 * Keyset pages over (time desc, id desc) with signed cursors (src/core/cursor.ts): a cursor is opened
 * only for the endpoint (`purpose`) and the filters it was made for; an edited or foreign one is a
 * 400 naming query.cursor before anything is read.
 */
export async function openPage(db: Queryable, purpose: string, filter: unknown, token: string | undefined, id: RegExp) {
  const codec = cursorCodec(await serverSecret(db));
  const h = hash(JSON.stringify(filter));
  let after: Position | undefined;
  if (token !== undefined) {
    const c = codec.open(purpose, token) as Partial<Position & { h: string }> | null;
    if (c === null || typeof c !== 'object' || typeof c.us !== 'string' || !/^-?\d{1,17}$/.test(c.us) || typeof c.id !== 'string' || !id.test(c.id)) {
      throw badCursor();
    }
    if (c.h !== h) throw invalid('query.cursor', 'belongs to a listing with other filters; start again without it');
    after = { us: c.us, id: c.id };
  }
  return { after, next: (last: Position | undefined) => (last ? codec.seal(purpose, { us: last.us, id: last.id, h }) : null) };
}
