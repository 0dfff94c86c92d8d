import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { authorize, identify } from '../../../src/auth/authenticate.ts';
import { createJwtVerifier, signJwt } from '../../../src/auth/jwt.ts';
import { AppError } from '../../../src/core/errors.ts';

const SECRET = 'unit-test-secret-0123456789-0123456789';

async function es256() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt().setExpirationTime('1h').sign(privateKey);
  return { jwks: { keys: [jwk] }, sign };
}

describe('JWT verification', () => {
  it('accepts HS256 tokens signed with the secret and returns their claims', async () => {
    const verify = createJwtVerifier({ secret: SECRET });
    const token = await signJwt(SECRET, { sub: 'u1', role: 'authenticated' });
    expect(await verify(token)).toMatchObject({ sub: 'u1', role: 'authenticated' });
  });

  it('accepts ES256 tokens through the JWKS', async () => {
    const { jwks, sign } = await es256();
    const verify = createJwtVerifier({ jwks });
    expect(await verify(await sign({ sub: 'u2', role: 'authenticated', aud: 'authenticated' }))).toMatchObject({ sub: 'u2' });
  });

  it('refuses an HS256 token when only a JWKS is configured (no algorithm confusion)', async () => {
    const { jwks } = await es256();
    const verify = createJwtVerifier({ jwks });
    await expect(verify(await signJwt(SECRET, { sub: 'u', role: 'authenticated' }))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses alg none, a tampered payload, a missing role and an expiry in the past of the injected clock', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const verify = createJwtVerifier({ secret: SECRET, clock: { now: () => now } });
    const none = `${btoa(JSON.stringify({ alg: 'none' }))}.${btoa(JSON.stringify({ sub: 'u', role: 'service_role' }))}.`;
    await expect(verify(none)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const good = await signJwt(SECRET, { sub: 'u', role: 'authenticated' }, { now });
    const [h, , s] = good.split('.');
    const forged = `${h}.${btoa(JSON.stringify({ sub: 'u', role: 'service_role', exp: 2e9 })).replace(/=+$/, '')}.${s}`;
    await expect(verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const noRole = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now).setExpirationTime(new Date(now.getTime() + 60_000)).sign(new TextEncoder().encode(SECRET));
    await expect(verify(noRole)).rejects.toThrow(/role/);
    const old = await signJwt(SECRET, { sub: 'u', role: 'authenticated' }, { now: new Date(now.getTime() - 7200_000) });
    await expect(verify(old)).rejects.toThrow(/expired/);
  });
});

describe('JWT claims a token must carry', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const key = new TextEncoder().encode(SECRET);
  const sign = (claims: Record<string, unknown>, exp = true) => {
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now);
    return (exp ? jwt.setExpirationTime(new Date(now.getTime() + 60_000)) : jwt).sign(key);
  };
  const verify = createJwtVerifier({ secret: SECRET, clock: { now: () => now } });

  it.each([
    // A token without exp would be a credential for ever, whatever its role.
    ['a user token without exp', { sub: 'u', role: 'authenticated', aud: 'authenticated' }, false, /no expiry/],
    ['a service-role token without exp', { role: 'service_role' }, false, /no expiry/],
    // A user token names its user...
    ['a user token without sub', { role: 'authenticated', aud: 'authenticated' }, true, /no subject/],
    ['a user token with an empty sub', { sub: '', role: 'authenticated', aud: 'authenticated' }, true, /no subject/],
    // ...and is meant for this API.
    ['a user token without aud', { sub: 'u', role: 'authenticated' }, true, /aud must include "authenticated"/],
    ['a user token for another audience', { sub: 'u', role: 'authenticated', aud: 'other-service' }, true, /aud must include/],
  ])('refuses %s', async (_, claims, exp, message) => {
    await expect(verify(await sign(claims, exp))).rejects.toThrow(message);
  });

  it.each([
    ['a user token with aud authenticated', { sub: 'u', role: 'authenticated', aud: 'authenticated' }],
    ['a user token whose aud list includes it', { sub: 'u', role: 'authenticated', aud: ['other', 'authenticated'] }],
    // Supabase's anon and service-role keys carry no aud.
    ['the anon key', { role: 'anon' }],
    ['the service-role key', { role: 'service_role' }],
  ])('accepts %s', async (_, claims) => {
    expect(await verify(await sign(claims))).toMatchObject(claims);
  });

  it('checks the configured audience', async () => {
    const custom = createJwtVerifier({ secret: SECRET, clock: { now: () => now }, audience: 'dashboard' });
    await expect(custom(await sign({ sub: 'u', role: 'authenticated', aud: 'authenticated' }))).rejects.toThrow(/aud must include "dashboard"/);
    expect(await custom(await sign({ sub: 'u', role: 'authenticated', aud: 'dashboard' }))).toMatchObject({ sub: 'u' });
  });
});

describe('identify and authorize', () => {
  const auth = {
    verifyJwt: createJwtVerifier({ secret: SECRET }),
    verifyApiKey: async (key: string) => {
      if (key !== `oai_${'a'.repeat(12)}_${'b'.repeat(32)}`) throw new AppError('UNAUTHENTICATED', 'Invalid API key');
      return { kind: 'apiKey' as const, keyId: 'k', projectId: 'p', organizationId: 'o', scopes: ['ingest' as const], claims: { role: 'authenticated' } };
    },
    confirmApiKey: async () => {},
  };
  const headers = (h: Record<string, string>) => new Headers(h);

  it.each([
    ['nothing', {}, 'anonymous'],
    ['x-api-key', { 'x-api-key': `oai_${'a'.repeat(12)}_${'b'.repeat(32)}` }, 'apiKey'],
    ['an API key as bearer', { authorization: `Bearer oai_${'a'.repeat(12)}_${'b'.repeat(32)}` }, 'apiKey'],
  ])('%s -> %s', async (_, h, kind) => {
    expect((await identify(auth, headers(h))).kind).toBe(kind);
  });

  it('maps JWT roles to identities', async () => {
    expect((await identify(auth, headers({ authorization: `Bearer ${await signJwt(SECRET, { sub: 'u', role: 'authenticated' })}` }))).kind).toBe('user');
    expect((await identify(auth, headers({ authorization: `Bearer ${await signJwt(SECRET, { role: 'service_role' })}` }))).kind).toBe('service');
    expect((await identify(auth, headers({ authorization: `Bearer ${await signJwt(SECRET, { role: 'anon' })}` }))).kind).toBe('anonymous');
    await expect(identify(auth, headers({ authorization: 'Basic dTpw' }))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('authorize: 401 for anonymous, 403 for the wrong kind or a missing scope', () => {
    expect(() => authorize({ kind: 'anonymous' }, ['user'])).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(() => authorize({ kind: 'service', claims: { role: 'service_role' } }, ['user'])).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    const key = { kind: 'apiKey' as const, keyId: 'k', projectId: 'p', organizationId: 'o', scopes: ['ingest' as const], claims: { role: 'authenticated' } };
    expect(() => authorize(key, ['apiKey'], 'read')).toThrow(/read scope/);
    expect(authorize(key, ['apiKey'], 'ingest')).toBe(key);
  });
});
