/**
 * The PagerDuty Events API v2-compatible inbound semantics (src/oncall/pagerduty-events.ts), with
 * PagerDuty's documented example payloads (PagerDuty/developer-docs, docs/events-API-v2/
 * 02-Trigger-Events.md). The examples' routing keys are PagerDuty's sample values ("samplekeyhere"), which
 * PagerDuty itself rejects as not 32 characters; the cases replace them with a 32-character key and
 * also check that PagerDuty's sample key is refused.
 */
import { describe, expect, it } from 'vitest';
import { DOC_ACK, DOC_RESOLVE, DOC_TRIGGER } from '../../fixtures/oncall/pagerduty-examples.ts';
import { decidePagerDutyEvent, type OpenPdIncident, pagerDutyGroupKey, parseEventTime, parsePagerDutyEvent } from '../../../src/oncall/pagerduty-events.ts';

const KEY = 'R0123456789abcdef0123456789abcde'.slice(0, 32);
const GENERATED = '5f0b8f0e-3b1e-4a55-9a3e-2f6c1f3b8d21';


const withKey = <T extends object>(e: T) => ({ ...e, routing_key: KEY });
const parse = (e: unknown) => parsePagerDutyEvent(JSON.stringify(e));

function decide(e: object, open: OpenPdIncident | null) {
  const parsed = parse(e);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.response));
  return decidePagerDutyEvent(parsed.event, open, GENERATED);
}

describe('parsePagerDutyEvent', () => {
  it.each([
    ['the trigger example', DOC_TRIGGER],
    ['the acknowledge example', DOC_ACK],
    ['the resolve example', DOC_RESOLVE],
  ])('accepts %s (with a real 32-character routing key)', (_name, e) => {
    expect(parse(withKey(e)).ok).toBe(true);
  });

  it("refuses the examples' sample routing key, as PagerDuty does", () => {
    expect(parse(DOC_TRIGGER)).toEqual({
      ok: false,
      response: {
        status: 400,
        body: { status: 'invalid event', message: 'Event object is invalid', errors: ["'routing_key' must be the 32-character integration key"] },
      },
    });
  });

  const trigger = withKey(DOC_TRIGGER);
  it.each<[string, unknown, string[]]>([
    ['no routing key', { ...trigger, routing_key: undefined }, ["'routing_key' is required"]],
    ['an unknown action', { ...trigger, event_action: 'escalate' }, ["'event_action' must be one of 'trigger', 'acknowledge' or 'resolve'"]],
    ['a dedup_key over 255 characters', { ...trigger, dedup_key: 'k'.repeat(256) }, ["'dedup_key' must be at most 255 characters"]],
    ['a trigger without payload', { ...trigger, payload: undefined }, ["'payload' is required for trigger events"]],
    ['a summary over 1024 characters', { ...trigger, payload: { ...trigger.payload, summary: 's'.repeat(1025) } }, ["'payload.summary' must be at most 1024 characters"]],
    ['no source', { ...trigger, payload: { ...trigger.payload, source: undefined } }, ["'payload.source' is required"]],
    ['an unknown severity', { ...trigger, payload: { ...trigger.payload, severity: 'high' } }, ["'payload.severity' must be one of 'critical', 'error', 'warning' or 'info'"]],
    ['a timestamp that is not ISO 8601', { ...trigger, payload: { ...trigger.payload, timestamp: 'yesterday' } }, ["'payload.timestamp' must be an ISO 8601 date-time, e.g. 2015-07-17T08:42:58.315+0000"]],
    ['custom_details that are not an object', { ...trigger, payload: { ...trigger.payload, custom_details: [1] } }, ["'payload.custom_details' must be an object"]],
    ['an image over plain http', { ...trigger, images: [{ src: 'http://example.com/a.png' }] }, ["'images.0.src' must be an https URL (PagerDuty requires images served over HTTPS)"]],
    ['a link without href', { ...trigger, links: [{ text: 'x' }] }, ["'links.0.href' is required"]],
    ['an acknowledge without dedup_key', withKey({ ...DOC_ACK, dedup_key: undefined }), ["'dedup_key' is required for acknowledge events"]],
    ['several problems at once', { routing_key: 'short', event_action: 'trigger', payload: { summary: '', severity: 'info' } }, [
      "'routing_key' must be the 32-character integration key",
      "'payload.summary' is required",
      "'payload.source' is required",
    ]],
  ])('refuses %s with 400 naming the field', (_name, e, errors) => {
    const r = parse(e);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.response).toEqual({ status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } });
  });

  it.each([
    ['not JSON', '{"routing_key":', 'the body is not valid JSON'],
    ['a JSON array', '[]', 'the body must be a JSON object'],
  ])('refuses a body that is %s', (_name, raw, error) => {
    const r = parsePagerDutyEvent(raw);
    expect(!r.ok && r.response.body.errors).toEqual([error]);
  });

  it('ignores unknown fields, as PagerDuty does', () => {
    expect(parse({ ...trigger, severity_hint: 'x', payload: { ...trigger.payload, extra: 1 } }).ok).toBe(true);
  });

  it.each([
    ['2015-07-17T08:42:58.315+0000', Date.UTC(2015, 6, 17, 8, 42, 58, 315)],
    ['2015-07-17T10:42:58+02:00', Date.UTC(2015, 6, 17, 8, 42, 58)],
    ['2015-07-17T08:42Z', Date.UTC(2015, 6, 17, 8, 42)],
    ['2015-07-17 08:42:58', null],
    ['2015-02-30T08:42:58Z', null],
  ])('reads the event time %s', (text, ms) => {
    expect(parseEventTime(text)).toBe(ms);
  });
});

describe('decidePagerDutyEvent (dedup semantics)', () => {
  const accepted = (dedupKey: string) => ({ status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } });
  const triggered: OpenPdIncident = { incidentId: 'inc1', status: 'triggered' };
  const acknowledged: OpenPdIncident = { incidentId: 'inc1', status: 'acknowledged' };
  const { dedup_key: _omitted, ...noKey } = withKey(DOC_TRIGGER);

  it.each<[string, object, OpenPdIncident | null, object, string]>([
    // The example without dedup_key: a new incident under a generated key, returned to the sender.
    ['a trigger without dedup_key opens a new incident with a generated key', noKey, null, { kind: 'open', dedupKey: GENERATED, urgency: 'low', title: 'Example alert on host1.example.com' }, GENERATED],
    // Even if the caller found an open incident, a keyless trigger never joins it.
    ['a trigger without dedup_key never joins an open incident', noKey, triggered, { kind: 'open', dedupKey: GENERATED }, GENERATED],
    ['a trigger with a new key opens an incident under it', withKey(DOC_TRIGGER), null, { kind: 'open', dedupKey: 'samplekeyhere' }, 'samplekeyhere'],
    ['a trigger for an open incident adds an alert to it', withKey(DOC_TRIGGER), triggered, { kind: 'alert_added', incidentId: 'inc1' }, 'samplekeyhere'],
    // While acknowledged, a trigger adds an alert and notifies nobody (the core never notifies for one).
    ['a trigger for an acknowledged incident only adds an alert', withKey(DOC_TRIGGER), acknowledged, { kind: 'alert_added', incidentId: 'inc1' }, 'samplekeyhere'],
    ['the acknowledge example applies to the open incident', withKey(DOC_ACK), triggered, { kind: 'acknowledge', incidentId: 'inc1', dedupKey: 'dedupkeyhere' }, 'dedupkeyhere'],
    ['the resolve example applies to the open incident', withKey(DOC_RESOLVE), acknowledged, { kind: 'resolve', incidentId: 'inc1', dedupKey: 'dedupkeyhere' }, 'dedupkeyhere'],
    // After a resolve there is no open incident for the key: ack and resolve are dropped (still 202)...
    ['an acknowledge of an unknown or resolved key is dropped', withKey(DOC_ACK), null, { kind: 'drop', dedupKey: 'dedupkeyhere' }, 'dedupkeyhere'],
    ['a resolve of an unknown or resolved key is dropped', withKey(DOC_RESOLVE), null, { kind: 'drop', dedupKey: 'dedupkeyhere' }, 'dedupkeyhere'],
    // ...and a trigger opens a new incident (never a reopen).
    ['a trigger after a resolve opens a new incident', withKey(DOC_TRIGGER), null, { kind: 'open', dedupKey: 'samplekeyhere' }, 'samplekeyhere'],
  ])('%s', (_name, e, open, decision, dedupKey) => {
    const r = decide(e, open);
    expect(r.decision).toMatchObject(decision);
    expect(r.response).toEqual(accepted(dedupKey));
  });

  it.each([
    ['critical', 'high'],
    ['error', 'high'],
    ['warning', 'low'],
    ['info', 'low'],
  ])('takes urgency from severity: %s -> %s', (severity, urgency) => {
    const e = withKey({ ...DOC_TRIGGER, payload: { ...DOC_TRIGGER.payload, severity } });
    expect(decide(e, null).decision).toMatchObject({ kind: 'open', urgency });
  });

  it('carries the event time of a trigger', () => {
    expect(decide(withKey(DOC_TRIGGER), null).decision).toMatchObject({ occurredAt: Date.UTC(2015, 6, 17, 8, 42, 58, 315) });
  });

  it('scopes dedup keys to the integration', () => {
    expect(pagerDutyGroupKey('int1', 'k')).not.toBe(pagerDutyGroupKey('int2', 'k'));
  });
});
