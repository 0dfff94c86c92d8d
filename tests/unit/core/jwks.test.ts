/**
 * ES256 tokens verified through a JWKS fetched over HTTP (as from Supabase's
 * /auth/v1/.well-known/jwks.json), served here by a real local HTTP server.
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJwtVerifier } from '../../../src/auth/jwt.ts';

describe('JWKS over HTTP', () => {
  let server: Server;
  let url: string;
  let sign: (claims: Record<string, unknown>, kid?: string) => Promise<string>;
  let fetches = 0;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'current', alg: 'ES256', use: 'sig' };
    sign = (claims, kid = 'current') => new SignJWT({ aud: 'authenticated', ...claims }).setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt().setExpirationTime('10m').sign(privateKey);
    server = createServer((req, res) => {
      fetches += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/auth/v1/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('verifies with the fetched key and caches the key set', async () => {
    const verify = createJwtVerifier({ jwksUrl: url });
    expect(await verify(await sign({ sub: 'u1', role: 'authenticated' }))).toMatchObject({ sub: 'u1' });
    expect(await verify(await sign({ sub: 'u2', role: 'authenticated' }))).toMatchObject({ sub: 'u2' });
    expect(fetches).toBe(1);
  });

  it('refuses a token whose key is not in the set', async () => {
    const verify = createJwtVerifier({ jwksUrl: url });
    const { privateKey } = await generateKeyPair('ES256');
    const stranger = await new SignJWT({ sub: 'x', role: 'authenticated' }).setProtectedHeader({ alg: 'ES256', kid: 'current' }).setIssuedAt().setExpirationTime('10m').sign(privateKey);
    await expect(verify(stranger)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
