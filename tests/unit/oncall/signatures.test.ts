/**
 * Signatures (src/oncall/signatures.ts): Slack's own worked example, requests signed independently
 * with node:crypto (so the Web Crypto code is checked, not echoed), tampering and replays; PagerDuty
 * webhook v3 signatures with rotation; our signed action links.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  constantTimeEqual,
  signActionLink,
  slackSignature,
  verifyActionLink,
  verifyPagerDutyWebhook,
  verifySlackRequest,
} from '../../../src/oncall/signatures.ts';

// The worked example of api.slack.com/authentication/verifying-requests-from-slack.
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TS = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIG = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

const SECRET = 'e3b5c2a1f0d94b8c9a7e6d5c4b3a2918';
const NOW = Date.UTC(2026, 11, 6, 12, 0);
const NOW_S = String(NOW / 1000);
/** An interactive button click, as Slack sends it: form-encoded with a `payload` JSON field. */
const BUTTON_BODY = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U024BE7LH' }, actions: [{ action_id: 'ack', value: 'inc1' }] }))}`;
/** Slack's construction, computed with node:crypto. */
const nodeSlack = (secret: string, ts: string, body: string) => `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
const nodePd = (secret: string, body: string) => `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('Slack request signing', () => {
  it("verifies Slack's documented example", async () => {
    expect(await slackSignature(DOC_SECRET, DOC_TS, DOC_BODY)).toBe(DOC_SIG);
    expect(await verifySlackRequest(DOC_SECRET, { timestamp: DOC_TS, signature: DOC_SIG }, DOC_BODY, Number(DOC_TS) * 1000 + 60_000)).toEqual({ ok: true });
  });

  it.each<[string, { secret?: string; ts?: string | null; sig?: string | null; body?: string; now?: number }, RegExp | null]>([
    ['a button click signed as Slack signs it', {}, null],
    ['exactly 5 minutes old', { now: NOW + 300_000 }, null],
    ['a tampered body', { body: BUTTON_BODY.replace('ack', 'resolve') }, /does not match/],
    // Shifting the timestamp (within the window) breaks the MAC: it is signed.
    ['a tampered timestamp', { ts: String(NOW / 1000 + 1) }, /does not match/],
    ['another secret', { secret: 'another-signing-secret-0123456789' }, /does not match/],
    // A captured request replayed later than 5 minutes is refused, though its MAC is right.
    ['a replay older than 5 minutes', { now: NOW + 301_000 }, /more than 5 minutes/],
    ['a timestamp from the future', { now: NOW - 301_000 }, /more than 5 minutes/],
    ['no signature', { sig: null }, /missing/],
    ['no timestamp', { ts: null }, /missing/],
    ['a timestamp that is not a number', { ts: '12:00' }, /Unix seconds/],
    ['a signature of another version', { sig: nodeSlack(SECRET, NOW_S, BUTTON_BODY).replace('v0=', 'v1=') }, /does not match/],
  ])('%s', async (_name, c, failure) => {
    const ts = c.ts === undefined ? NOW_S : c.ts;
    // The request is signed over the original timestamp and body; the case then alters what arrives.
    const sig = c.sig === undefined ? nodeSlack(SECRET, NOW_S, BUTTON_BODY) : c.sig;
    const r = await verifySlackRequest(c.secret ?? SECRET, { timestamp: ts, signature: sig }, c.body ?? BUTTON_BODY, c.now ?? NOW);
    if (failure === null) expect(r).toEqual({ ok: true });
    else {
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(failure);
    }
  });
});

describe('PagerDuty webhook v3 signatures', () => {
  const SECRET_PD = 'pd-webhook-secret-Vn3sF0x';
  const BODY = JSON.stringify({ event: { id: '01DEN4HPBQAKTPVD4Z3UUV3E2B', event_type: 'incident.acknowledged', resource_type: 'incident', data: { id: 'PGR0VU2' } } });

  it.each<[string, string | null, string, boolean]>([
    ['one matching signature', nodePd(SECRET_PD, BODY), BODY, true],
    // During rotation PagerDuty signs with every secret: any v1 match passes, in any position.
    ['a match among several', `${nodePd('old-secret', BODY)}, ${nodePd(SECRET_PD, BODY)}`, BODY, true],
    ['a match listed first', `${nodePd(SECRET_PD, BODY)},${nodePd('new-secret', BODY)}`, BODY, true],
    ['no match among several', `${nodePd('a', BODY)},${nodePd('b', BODY)}`, BODY, false],
    ['a tampered body', nodePd(SECRET_PD, BODY), BODY.replace('acknowledged', 'resolved'), false],
    ['a right MAC under another version', nodePd(SECRET_PD, BODY).replace('v1=', 'v2='), BODY, false],
    ['no header', null, BODY, false],
    ['an empty header', '', BODY, false],
  ])('%s', async (_name, header, body, ok) => {
    expect((await verifyPagerDutyWebhook(SECRET_PD, header, body)).ok).toBe(ok);
  });
});

describe('signed action links', () => {
  const LINK_SECRET = 'link-secret-0123456789abcdefghijklmnop';
  const claims = { incidentId: 'inc1', action: 'ack' as const, userId: 'u1', expiresAt: NOW + 3_600_000 };

  it('round-trips its claims and is URL-safe', async () => {
    const token = await signActionLink(LINK_SECRET, claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(await verifyActionLink(LINK_SECRET, token, 'ack', NOW)).toEqual({ ok: true, claims });
  });

  it.each<[string, (t: string) => string, { secret?: string; action?: 'ack' | 'resolve'; now?: number }, RegExp]>([
    // Single purpose: an ack link never resolves.
    ['used for another action', (t) => t, { action: 'resolve' }, /for ack, not resolve/],
    ['expired', (t) => t, { now: NOW + 3_600_000 }, /expired/],
    ['signed with another secret', (t) => t, { secret: 'another-secret-0123456789abcdefghijkl' }, /bad signature/],
    // Changing the claims (here: the user) without the secret breaks the MAC.
    ['with forged claims', (t) => `${btoa(JSON.stringify(['oncall-link/1', 'inc1', 'ack', NOW + 3_600_000, 'mallory'])).replace(/=+$/, '')}.${t.split('.')[1]}`, {}, /bad signature/],
    ['with a truncated MAC', (t) => t.slice(0, -4), {}, /bad signature/],
    ['without a MAC', (t) => t.split('.')[0]!, {}, /malformed/],
    ['with extra parts', (t) => `${t}.x`, {}, /malformed/],
    ['with a MAC that is not base64url', (t) => `${t.split('.')[0]}.!!!`, {}, /malformed/],
  ])('refuses a link %s', async (_name, alter, opts, reason) => {
    const token = alter(await signActionLink(LINK_SECRET, claims));
    const r = await verifyActionLink(opts.secret ?? LINK_SECRET, token, opts.action ?? 'ack', opts.now ?? NOW);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });

  it('refuses a short server secret (a configuration error)', async () => {
    await expect(signActionLink('short', claims)).rejects.toThrow(/at least 32 bytes/);
  });
});

describe('constantTimeEqual', () => {
  it.each([
    [[1, 2, 3], [1, 2, 3], true],
    [[1, 2, 3], [1, 2, 4], false],
    [[1, 2, 3], [1, 2], false],
    [[], [], true],
  ])('%j vs %j -> %s', (a, b, equal) => {
    expect(constantTimeEqual(Uint8Array.from(a), Uint8Array.from(b))).toBe(equal);
  });
});
