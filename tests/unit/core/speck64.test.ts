/** Speck64/128 against the designers' test vector, and decryption undoing encryption. */
import { describe, expect, it } from 'vitest';
import { speck64Decrypt, speck64Encrypt, speck64Schedule } from '../../../src/core/speck64.ts';
import { rng } from '../../helpers/random.ts';

describe('Speck64/128', () => {
  it('matches the test vector published with the design (Beaulieu et al., IACR ePrint 2013/404)', () => {
    const rk = speck64Schedule([0x1b1a1918, 0x13121110, 0x0b0a0908, 0x03020100]);
    expect(speck64Encrypt(rk, 0x3b726574, 0x7475432d)).toEqual([0x8c6fa548, 0x454e028b]);
    expect(speck64Decrypt(rk, 0x8c6fa548, 0x454e028b)).toEqual([0x3b726574, 0x7475432d]);
  });

  it('decrypts what it encrypts, for any key and block', () => {
    const r = rng(11);
    const word = () => Math.floor(r() * 2 ** 32) >>> 0;
    for (let i = 0; i < 1000; i++) {
      const rk = speck64Schedule([word(), word(), word(), word()]);
      const [x, y] = [word(), word()];
      expect(speck64Decrypt(rk, ...speck64Encrypt(rk, x, y))).toEqual([x, y]);
    }
  });
});
