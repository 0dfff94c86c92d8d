import { createHmac } from 'node:crypto';

/**
 * A key for one purpose from the installation's secret: HMAC-SHA256(secret, label), cut to `bytes`.
 * Distinct labels give independent keys, so a cursor's MAC key and the log-id cipher's key never
 * coincide, and a new purpose needs no new secret.
 */
export function deriveKey(secret: Uint8Array, label: string, bytes = 32): Uint8Array {
  if (bytes > 32) throw new Error('deriveKey gives at most 32 bytes');
  return new Uint8Array(createHmac('sha256', secret).update(label, 'utf8').digest()).slice(0, bytes);
}
