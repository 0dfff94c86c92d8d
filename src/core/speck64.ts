/**
 * Speck64/128 (Beaulieu et al., "The SIMON and SPECK Families of Lightweight Block Ciphers", IACR
 * ePrint 2013/404): a 64-bit block cipher with a 128-bit key, 27 rounds of add, rotate and xor on
 * 32-bit words. Used to turn internal sequence numbers into ids that reveal nothing
 * (docs/adr/0006-log-ids.md): a 64-bit block is what a bigint id needs, which AES (128-bit blocks)
 * cannot give as a permutation, and 32-bit words are what JavaScript computes fast and exactly (no
 * BigInt inside). Checked against the designers' test vector in tests/unit/core/speck64.test.ts.
 */

const ROUNDS = 27;
const ror = (x: number, r: number) => ((x >>> r) | (x << (32 - r))) >>> 0;
const rol = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;

/** The 27 round keys of a 128-bit key given as four 32-bit words (l2, l1, l0, k0), as the paper writes them. */
export function speck64Schedule(key: readonly [number, number, number, number]): Uint32Array {
  const [l2, l1, l0, k0] = key;
  const k = new Uint32Array(ROUNDS);
  const l = [l0, l1, l2];
  k[0] = k0 >>> 0;
  for (let i = 0; i < ROUNDS - 1; i++) {
    const next = (((k[i]! + ror(l[i]!, 8)) >>> 0) ^ i) >>> 0;
    l.push(next);
    k[i + 1] = (rol(k[i]!, 3) ^ next) >>> 0;
  }
  return k;
}

/** Encrypts the block (x, y), x the high word. */
export function speck64Encrypt(rk: Uint32Array, x: number, y: number): [number, number] {
  for (let i = 0; i < ROUNDS; i++) {
    x = (((ror(x, 8) + y) >>> 0) ^ rk[i]!) >>> 0;
    y = (rol(y, 3) ^ x) >>> 0;
  }
  return [x, y];
}

/** Decrypts the block (x, y), x the high word. */
export function speck64Decrypt(rk: Uint32Array, x: number, y: number): [number, number] {
  for (let i = ROUNDS - 1; i >= 0; i--) {
    y = ror((y ^ x) >>> 0, 3);
    x = rol((((x ^ rk[i]!) >>> 0) - y) >>> 0, 8);
  }
  return [x, y];
}
