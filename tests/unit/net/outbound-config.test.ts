import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/core/config.ts';

describe('OUTBOUND_* configuration', () => {
  it('defaults to nothing private and ports 80 and 443', () => {
    expect(parseConfig({}).outbound).toEqual({
      allowPrivate: [],
      ports: [
        [80, 80],
        [443, 443],
      ],
    });
  });

  it('parses the allowlist once, and * for any port', () => {
    const { outbound } = parseConfig({ OUTBOUND_ALLOW_PRIVATE: 'minio:9000, 10.0.0.0/8', OUTBOUND_ALLOWED_PORTS: '*' });
    expect(outbound.ports).toBe('any');
    expect(outbound.allowPrivate).toEqual([
      { kind: 'host', host: 'minio', port: 9000, text: 'minio:9000' },
      expect.objectContaining({ kind: 'net', port: undefined, text: '10.0.0.0/8' }),
    ]);
  });

  it.each([
    // variable, value, what the error must name
    ['OUTBOUND_ALLOW_PRIVATE', '127.0.0.1:9000,127.0.0.1:99999', '127.0.0.1:99999'],
    ['OUTBOUND_ALLOW_PRIVATE', 'http://minio:9000', 'http://minio:9000'],
    ['OUTBOUND_ALLOWED_PORTS', '443,https', 'https'],
    ['OUTBOUND_ALLOWED_PORTS', '9010-9000', '9010-9000'],
  ])('a bad %s (%s) stops start-up naming the variable and the entry', (name, value, entry) => {
    let error: unknown;
    try {
      parseConfig({ [name]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringContaining(name)]);
    expect((error as ConfigError).problems[0]).toContain(`"${entry}"`);
  });
});
