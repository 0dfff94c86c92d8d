import { randomToken, sha256Hex } from '../core/ids.ts';

/**
 * Key format: `oai_<prefix>_<secret>`: 12 public characters to find the row, 32 secret characters
 * (about 190 bits). Because the secret is long and random, a plain sha256 is enough to store it:
 * there is nothing to brute-force that a slow hash would protect.
 */
export async function generateApiKey(): Promise<{ key: string; prefix: string; hash: string }> {
  const prefix = randomToken(12);
  const key = `oai_${prefix}_${randomToken(32)}`;
  return { key, prefix, hash: await sha256Hex(key) };
}

export function prefixOf(key: string): string | undefined {
  return /^oai_([a-zA-Z0-9]{12})_[a-zA-Z0-9]{32}$/.exec(key)?.[1];
}
