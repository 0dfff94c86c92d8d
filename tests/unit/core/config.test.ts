import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/core/config.ts';

describe('parseConfig', () => {
  it('defaults to the embedded mode with no variables at all', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ mode: 'embedded', dataDir: './.observai', port: 54321, host: '127.0.0.1', redis: { kind: 'memory' }, schedulerEnabled: true });
  });

  it.each([
    ['DATABASE_URL selects local', { DATABASE_URL: 'postgres://u@h/db' }, 'local'],
    ['SUPABASE_DB_URL selects supabase', { SUPABASE_DB_URL: 'postgres://u@h/db', JWT_SECRET: 'x'.repeat(32) }, 'supabase'],
    ['OBSERVAI_MODE wins', { OBSERVAI_MODE: 'embedded', DATABASE_URL: 'postgres://u@h/db' }, 'embedded'],
  ])('%s', (_, env, mode) => {
    expect(parseConfig(env).mode).toBe(mode);
  });

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://u@h/db' }],
    ['REDIS_URL', { REDIS_URL: 'http://localhost:6379' }],
    ['JWT_SECRET', { JWT_SECRET: 'short' }],
    ['DATABASE_URL', { OBSERVAI_MODE: 'local' }],
    ['SUPABASE_DB_URL', { OBSERVAI_MODE: 'supabase', JWT_SECRET: 'x'.repeat(32) }],
    ['UPSTASH_REDIS_REST_TOKEN', { UPSTASH_REDIS_REST_URL: 'https://x.upstash.io' }],
    ['SCHEDULER_ENABLED', { SCHEDULER_ENABLED: 'maybe' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
  ])('a bad %s stops start-up with a message naming it', (name, env) => {
    let error: unknown;
    try {
      parseConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(name);
  });

  it('treats empty strings as unset and picks Upstash over TCP Redis', () => {
    const c = parseConfig({ DATABASE_URL: '', UPSTASH_REDIS_REST_URL: 'https://x.upstash.io', UPSTASH_REDIS_REST_TOKEN: 't', REDIS_URL: 'redis://localhost:6379' });
    expect(c.mode).toBe('embedded');
    expect(c.redis).toEqual({ kind: 'upstash', url: 'https://x.upstash.io', token: 't' });
  });

  it('derives the JWKS URL from SUPABASE_URL', () => {
    const c = parseConfig({ SUPABASE_DB_URL: 'postgres://u@h/db', SUPABASE_URL: 'https://abc.supabase.co' });
    expect(c.jwt.jwksUrl).toBe('https://abc.supabase.co/auth/v1/.well-known/jwks.json');
  });
});
