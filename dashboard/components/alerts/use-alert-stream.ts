'use client';

import { useEventStream, type StreamStatus } from '../../lib/use-event-stream.ts';
import type { TransitionView } from './types.ts';

export type { StreamStatus };

/** The project's alert transitions, live (GET /alerts/stream, `transition` events; lib/use-event-stream.ts). */
export function useAlertStream(projectId: string, onTransition: (t: TransitionView) => void): { status: StreamStatus; error?: string } {
  return useEventStream<TransitionView>({ tokenPath: '/alerts/stream/token', streamPath: '/alerts/stream', params: { projectId }, event: 'transition', onEvent: onTransition });
}
