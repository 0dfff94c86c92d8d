import type { Labels } from './model.ts';

/** Labels in one canonical text: sorted by name, JSON-escaped, so equal sets give equal text. */
export function canonicalLabels(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * An alert's identity: the first 16 bytes of SHA-256 over its parts, in hex. A rule's instance hashes
 * (rule id, group labels), so its severity label may change without making it another alert; an
 * external alert hashes its labels alone, as Alertmanager does.
 */
export async function fingerprint(...parts: string[]): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(parts.join('\u0000')));
  return hex(new Uint8Array(digest).slice(0, 16));
}

export const ruleInstanceFingerprint = (ruleId: string, groupLabels: Labels) => fingerprint('rule', ruleId, canonicalLabels(groupLabels));
export const externalFingerprint = (labels: Labels) => fingerprint('external', canonicalLabels(labels));
