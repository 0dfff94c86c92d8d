import { deriveKey } from '../core/derive-key.ts';
import { speck64Decrypt, speck64Encrypt, speck64Schedule } from '../core/speck64.ts';
import { serverSecret } from '../db/server-secret.ts';
import type { Queryable } from '../db/types.ts';

/**
 * The ids the API shows for log lines (docs/adr/0006-log-ids.md). Internally a line keeps the value
 * of one global sequence (public.logs.id: the live tail's order, keyset tie-breaks, the index by id);
 * two of a tenant's lines would tell how many lines every other tenant wrote in between. Outside, a
 * line is known by a keyed permutation of that value over [0, 2^63): Speck64/128 under a key derived
 * from the installation's secret, with cycle walking (encrypt again while the top bit is set, on
 * average twice), so the public id is a positive bigint as before, unique, stable, and reversible only
 * with the key. Nothing is stored: ids are translated where the API reads and answers them.
 *
 * Any 63-bit value translates to some internal id, mostly of no line; callers look the result up
 * under RLS as before, so a guessed id is a 404, like an id of another tenant.
 */
export interface LogIdCodec {
  /** The public id of an internal id (decimal text or bigint, 0 <= id < 2^63). */
  toPublic(internal: string | bigint): string;
  /** The internal id of a public id (decimal text, 0 <= id < 2^63), as decimal text for SQL. */
  toInternal(publicId: string): string;
}

const TOP_BIT = 0x80000000;
const codecs = new WeakMap<Uint8Array, LogIdCodec>();

/** The codec of this installation (its secret is read once per Db). */
export async function logIdCodec(db: Queryable): Promise<LogIdCodec> {
  const secret = await serverSecret(db);
  let codec = codecs.get(secret);
  if (!codec) {
    const k = deriveKey(secret, 'observai log ids v1', 16);
    const word = (i: number) => ((k[i]! << 24) | (k[i + 1]! << 16) | (k[i + 2]! << 8) | k[i + 3]!) >>> 0;
    codec = createLogIdCodec([word(0), word(4), word(8), word(12)]);
    codecs.set(secret, codec);
  }
  return codec;
}

export function createLogIdCodec(key: readonly [number, number, number, number]): LogIdCodec {
  const rk = speck64Schedule(key);
  const walk = (value: string | bigint, step: typeof speck64Encrypt) => {
    const v = BigInt(value);
    if (v < 0n || v >= 1n << 63n) throw new RangeError('a log id must be in [0, 2^63)');
    let x = Number(v >> 32n);
    let y = Number(v & 0xffffffffn);
    // Cycle walking: the cipher permutes 64-bit blocks; stepping on from any result outside [0, 2^63)
    // until one lands inside permutes [0, 2^63) itself (and decrypting walks the same cycle back).
    do [x, y] = step(rk, x, y);
    while (x >= TOP_BIT);
    return ((BigInt(x) << 32n) | BigInt(y)).toString();
  };
  return {
    toPublic: (internal) => walk(internal, speck64Encrypt),
    toInternal: (publicId) => walk(publicId, speck64Decrypt),
  };
}
