'use client';

import { useEventStream, type StreamStatus } from '../../lib/use-event-stream.ts';
import type { IncidentChange } from './types.ts';

export type { StreamStatus };

/** The project's incident changes, live (GET /oncall/incidents/stream, `incident` events; lib/use-event-stream.ts). */
export function useIncidentStream(filter: { projectId: string; incidentId?: string }, onChange: (c: IncidentChange) => void): { status: StreamStatus; error?: string } {
  return useEventStream<IncidentChange>({
    tokenPath: '/oncall/incidents/stream/token',
    streamPath: '/oncall/incidents/stream',
    params: { projectId: filter.projectId, incidentId: filter.incidentId },
    event: 'incident',
    onEvent: onChange,
  });
}
