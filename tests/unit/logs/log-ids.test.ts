/**
 * Public log ids: a permutation of [0, 2^63) (every id maps back, no two collide), fixed per key,
 * different under another key, and consecutive internal ids land anywhere, not near one another.
 */
import { describe, expect, it } from 'vitest';
import { createLogIdCodec } from '../../../src/log-view/log-ids.ts';
import { rng } from '../../helpers/random.ts';

const MAX = (1n << 63n) - 1n;

describe('log id codec', () => {
  const codec = createLogIdCodec([0x01234567, 0x89abcdef, 0xfedcba98, 0x76543210]);

  it.each(['0', '1', '2', '4294967295', '4294967296', String(MAX - 1n), String(MAX)])('round-trips %s, staying in [0, 2^63)', (id) => {
    const pub = codec.toPublic(id);
    expect(BigInt(pub) >= 0n && BigInt(pub) <= MAX).toBe(true);
    expect(codec.toInternal(pub)).toBe(id);
    expect(codec.toPublic(BigInt(id))).toBe(pub);
  });

  it('round-trips random 63-bit values both ways', () => {
    const r = rng(3);
    const random63 = () => (BigInt(Math.floor(r() * 2 ** 31)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
    for (let i = 0; i < 2000; i++) {
      const v = random63().toString();
      expect(codec.toInternal(codec.toPublic(v))).toBe(v);
      expect(codec.toPublic(codec.toInternal(v))).toBe(v);
    }
  });

  it('gives a run of consecutive ids distinct public ids with no order or spacing to them', () => {
    const start = 1_000_000n;
    const out = Array.from({ length: 20_000 }, (_, i) => BigInt(codec.toPublic(start + BigInt(i))));
    expect(new Set(out).size).toBe(out.length);
    // A sequence that leaked through would keep its order or its small steps; a permutation keyed
    // like a cipher keeps neither: about half the steps go down, and almost none are small.
    const steps = out.slice(1).map((v, i) => v - out[i]!);
    const down = steps.filter((d) => d < 0n).length / steps.length;
    expect(down).toBeGreaterThan(0.45);
    expect(down).toBeLessThan(0.55);
    expect(steps.filter((d) => (d < 0n ? -d : d) < 1n << 48n).length).toBeLessThan(10);
  });

  it('depends on the key', () => {
    const other = createLogIdCodec([0x01234567, 0x89abcdef, 0xfedcba98, 0x76543211]);
    const same = Array.from({ length: 100 }, (_, i) => String(i + 1)).filter((id) => codec.toPublic(id) === other.toPublic(id));
    expect(same).toEqual([]);
  });

  it.each(['-1', String(MAX + 1n)])('refuses %s, outside [0, 2^63)', (id) => {
    expect(() => codec.toPublic(id)).toThrow(RangeError);
    expect(() => codec.toInternal(id)).toThrow(RangeError);
  });
});
