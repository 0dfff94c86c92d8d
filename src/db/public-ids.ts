import { deriveKey } from '../core/derive-key.ts';
import { createIdCodec, type IdCodec } from '../core/id-permutation.ts';
import { serverSecret } from './server-secret.ts';
import type { Queryable } from './types.ts';

/**
 * The public-id codec of this installation for one kind of row (`label`, e.g. 'observai log ids
 * v1'): a key derived from the installation's secret (read once per Db), so every process agrees
 * and each kind of id has its own permutation.
 */
const codecs = new WeakMap<Uint8Array, Map<string, IdCodec>>();

export async function publicIdCodec(db: Queryable, label: string): Promise<IdCodec> {
  const secret = await serverSecret(db);
  let bySecret = codecs.get(secret);
  if (!bySecret) codecs.set(secret, (bySecret = new Map()));
  let codec = bySecret.get(label);
  if (!codec) {
    const k = deriveKey(secret, label, 16);
    const word = (i: number) => ((k[i]! << 24) | (k[i + 1]! << 16) | (k[i + 2]! << 8) | k[i + 3]!) >>> 0;
    codec = createIdCodec([word(0), word(4), word(8), word(12)]);
    bySecret.set(label, codec);
  }
  return codec;
}
