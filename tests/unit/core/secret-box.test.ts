import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.ts';
import { AppError } from '../../../src/core/errors.ts';
import { createSecretBox, requireEncryptionKey } from '../../../src/core/secret-box.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 9).toString('base64');

describe('secret box (AES-256-GCM)', () => {
  it('round-trips a secret bound to its destination id, with a fresh IV each time', async () => {
    const box = await createSecretBox(KEY);
    const a = await box.seal('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'dest-1');
    const b = await box.seal('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'dest-1');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[0-9a-f]{16}\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/);
    expect(a).not.toContain('wJalr');
    expect(await box.open(a, 'dest-1')).toBe('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  });

  it('refuses a ciphertext moved to another destination, altered, or sealed under another key', async () => {
    const box = await createSecretBox(KEY);
    const sealed = await box.seal('secret', 'dest-1');
    await expect(box.open(sealed, 'dest-2')).rejects.toThrow(/does not decrypt/);
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64');
    ct[0] = ct[0]! ^ 1;
    await expect(box.open([...parts.slice(0, 3), ct.toString('base64')].join('.'), 'dest-1')).rejects.toThrow(/does not decrypt/);
    const other = await createSecretBox(OTHER_KEY);
    await expect(other.open(sealed, 'dest-1')).rejects.toThrow(/different SECRET_ENCRYPTION_KEY/);
    await expect(box.open('plain', 'dest-1')).rejects.toThrow(/known format/);
  });

  it('config: SECRET_ENCRYPTION_KEY (or its earlier name EXPORT_ENCRYPTION_KEY) must be 32 bytes of base64; unset means exports answer 501', () => {
    expect(parseConfig({ SECRET_ENCRYPTION_KEY: KEY }).exports.encryptionKey).toBe(KEY);
    expect(parseConfig({ EXPORT_ENCRYPTION_KEY: KEY }).exports.encryptionKey).toBe(KEY);
    expect(parseConfig({ SECRET_ENCRYPTION_KEY: KEY, EXPORT_ENCRYPTION_KEY: OTHER_KEY }).exports.encryptionKey).toBe(KEY);
    expect(() => parseConfig({ SECRET_ENCRYPTION_KEY: 'short' })).toThrow(/SECRET_ENCRYPTION_KEY must be 32 bytes/);
    expect(() => parseConfig({ EXPORT_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') })).toThrow(/EXPORT_ENCRYPTION_KEY must be 32 bytes/);
    expect(() => parseConfig({ EXPORT_ENCRYPTION_KEY: 'not base64!' })).toThrow(/EXPORT_ENCRYPTION_KEY/);
    const config = parseConfig({});
    expect(config.exports.encryptionKey).toBeUndefined();
    try {
      requireEncryptionKey(config);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).status).toBe(501);
      expect((err as AppError).message).toMatch(/SECRET_ENCRYPTION_KEY/);
    }
  });
});
