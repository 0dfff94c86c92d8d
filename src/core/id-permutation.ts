import { speck64Decrypt, speck64Encrypt, speck64Schedule } from './speck64.ts';

/**
 * Ids the API shows for rows numbered by a sequence shared by every tenant (log lines, audit
 * entries): a keyed pseudorandom permutation of [0, 2^63), so two of a tenant's ids say nothing about
 * how many rows other tenants made in between. Speck64/128 under the key, with cycle walking (encrypt
 * again while the top bit is set, on average twice): the public id is a positive bigint, unique,
 * stable, and reversible only with the key (docs/adr/0006-log-ids.md).
 */
export interface IdCodec {
  /** The public id of an internal id (decimal text or bigint, 0 <= id < 2^63). */
  toPublic(internal: string | bigint): string;
  /** The internal id of a public id (decimal text, 0 <= id < 2^63), as decimal text for SQL. */
  toInternal(publicId: string): string;
}

const TOP_BIT = 0x80000000;

export function createIdCodec(key: readonly [number, number, number, number]): IdCodec {
  const rk = speck64Schedule(key);
  const walk = (value: string | bigint, step: typeof speck64Encrypt) => {
    const v = BigInt(value);
    if (v < 0n || v >= 1n << 63n) throw new RangeError('an id must be in [0, 2^63)');
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
