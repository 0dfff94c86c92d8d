import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey } from './derive-key.ts';
import { AppError } from './errors.ts';

/**
 * Pagination cursors the API hands out and takes back: base64url of a JSON value, a dot, and a
 * 128-bit HMAC-SHA256 tag over the endpoint's name and that text. A cursor carries what the next page
 * must not be asked to change (log search: its time range, order and filter fingerprint), so a caller
 * who edits one (a range past the 400-day cap, a time no Date can hold) is refused as a forged cursor
 * before anything is read, and a cursor of one endpoint is refused by another. The value is readable,
 * not secret: no cursor carries what its caller may not see (log ids in it are the public ones).
 * Decoders still check the shape and range of what they open (defence in depth: an old or
 * mis-signed value must never reach SQL or a Date).
 */
export interface CursorCodec {
  /** The token for `value`, valid only for `purpose` (the endpoint, e.g. 'logs.search'). */
  seal(purpose: string, value: unknown): string;
  /** The value of a token sealed for `purpose`; anything else is a 400 naming `field`. */
  open(purpose: string, token: string, field?: string): unknown;
}

const TAG_BYTES = 16;
const codecs = new WeakMap<Uint8Array, CursorCodec>();

/** The codec of an installation secret (see serverSecret); made once per secret. */
export function cursorCodec(secret: Uint8Array): CursorCodec {
  let codec = codecs.get(secret);
  if (!codec) {
    codec = createCursorCodec(deriveKey(secret, 'observai cursor signature v1'));
    codecs.set(secret, codec);
  }
  return codec;
}

export function createCursorCodec(key: Uint8Array): CursorCodec {
  const tag = (purpose: string, body: string) => createHmac('sha256', key).update(`${purpose}\n${body}`, 'utf8').digest().subarray(0, TAG_BYTES);
  return {
    seal(purpose, value) {
      const body = Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
      return `${body}.${Buffer.from(tag(purpose, body)).toString('base64url')}`;
    },
    open(purpose, token, field = 'query.cursor') {
      const dot = token.lastIndexOf('.');
      const body = token.slice(0, dot);
      const given = Buffer.from(token.slice(dot + 1), 'base64url');
      // Length first: timingSafeEqual needs equal lengths, and a tag's length is no secret.
      if (dot <= 0 || given.length !== TAG_BYTES || !timingSafeEqual(given, tag(purpose, body))) throw badCursor(field);
      try {
        return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
      } catch {
        throw badCursor(field);
      }
    },
  };
}

/** The 400 for a cursor this API did not hand out (or one whose contents fail their checks). */
export function badCursor(field = 'query.cursor'): AppError {
  const message = 'is not a cursor this endpoint returned; start again without it';
  return new AppError('VALIDATION_FAILED', `${field}: ${message}`, { details: [{ field, message }] });
}
