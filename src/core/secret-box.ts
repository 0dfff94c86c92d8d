/**
 * Seals the secrets tenants give us (export destinations' keys, contact points' tokens and URLs) with
 * AES-256-GCM (Web Crypto: the same code under Node and Deno), under SECRET_ENCRYPTION_KEY.
 *
 * Format: `v1.<key id>.<iv>.<ciphertext+tag>` (iv and ciphertext base64). The key id is the first 8
 * bytes of sha256(key) in hex, so a secret sealed under another key fails with a message that says so
 * instead of a bare authentication error. The additional authenticated data is the owning row's id
 * (`boundTo`): a ciphertext copied onto another row does not decrypt.
 */
import { AppError } from '../core/errors.ts';

export interface SecretBox {
  seal(plaintext: string, boundTo: string): Promise<string>;
  open(sealed: string, boundTo: string): Promise<string>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** The encryption key from config, or a 501 naming the variable to set and what needs it. */
export function requireEncryptionKey(config: { exports: { encryptionKey: string | undefined } }, feature = 'Exports'): string {
  const key = config.exports.encryptionKey;
  if (!key) {
    throw new AppError('NOT_IMPLEMENTED', `${feature} are not configured on this server: set SECRET_ENCRYPTION_KEY (see .env.example)`);
  }
  return key;
}

export async function createSecretBox(base64Key: string): Promise<SecretBox> {
  const raw = fromBase64(base64Key);
  if (raw.length !== 32) throw new Error('SECRET_ENCRYPTION_KEY must be 32 bytes');
  const key = await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', raw));
  const keyId = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return {
    async seal(plaintext, boundTo) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(boundTo) }, key, enc.encode(plaintext));
      return `v1.${keyId}.${toBase64(iv)}.${toBase64(new Uint8Array(ct))}`;
    },
    async open(sealed, boundTo) {
      const [version, id, iv, ct] = sealed.split('.');
      if (version !== 'v1' || !id || !iv || !ct) throw new Error('the stored secret is not in a known format');
      if (id !== keyId) throw new Error('the stored secret was encrypted with a different SECRET_ENCRYPTION_KEY; set the secret again');
      try {
        const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(iv), additionalData: enc.encode(boundTo) }, key, fromBase64(ct));
        return dec.decode(pt);
      } catch {
        throw new Error('the stored secret does not decrypt (altered, or copied from another row)');
      }
    },
  };
}
