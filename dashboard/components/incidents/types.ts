import type { components } from '../../../packages/sdk/src/api-types.ts';

export type Incident = components['schemas']['Incident'];
export type TimelineEntry = components['schemas']['IncidentTimelineEntry'];
export type OncallService = components['schemas']['OncallService'];
export type EscalationPolicy = components['schemas']['EscalationPolicy'];
export type Schedule = components['schemas']['Schedule'];
export type ScheduleOverride = components['schemas']['ScheduleOverride'];

/** One `incident` event of GET /oncall/incidents/stream (src/oncall/stream-incidents.ts toView). */
export interface IncidentChange {
  id: string;
  incidentId: string;
  at: string;
  kind: string;
  actor: string | null;
  details: Record<string, unknown>;
  incident: { state: Incident['state']; title: string; urgency: Incident['urgency']; serviceId: string; version: number };
}

export const OPEN_STATES: ReadonlyArray<Incident['state']> = ['triggered', 'acknowledged'];
