/**
 * Hashes and random tokens. sha256Hex must keep giving what stored hashes were made with (API keys,
 * invitation tokens, series fingerprints): SHA-256 of the UTF-8 text, lowercase hex, the value Web
 * Crypto's digest gave before the hash moved to node:crypto.
 */
import { describe, expect, it } from 'vitest';
import { randomToken, sha256Hex, timingSafeEqual } from '../../../src/core/ids.ts';

const webCrypto = async (text: string) =>
  [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, '0')).join('');

describe('sha256Hex', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ])('%j has the FIPS 180-2 digest', async (text, hex) => {
    expect(await sha256Hex(text)).toBe(hex);
  });

  it.each(['oai_abcdefghijkl_0123456789abcdefghijklmnopqrstuv', 'cpu.usage\u0001host=web-1', 'naïve 日本語 🚀', 'lone surrogate \ud800 end'])(
    'equals Web Crypto of the UTF-8 text for %j',
    async (text) => {
      expect(await sha256Hex(text)).toBe(await webCrypto(text));
    },
  );
});

describe('randomToken and timingSafeEqual', () => {
  it('makes tokens of the alphabet and length asked, and compares strings exactly', () => {
    const t = randomToken(40);
    expect(t).toMatch(/^[a-zA-Z0-9]{40}$/);
    expect(randomToken(40)).not.toBe(t);
    expect(timingSafeEqual(t, t.slice())).toBe(true);
    expect(timingSafeEqual(t, `${t.slice(0, -1)}x`)).toBe(t.endsWith('x'));
    expect(timingSafeEqual(t, t.slice(0, -1))).toBe(false);
  });
});
