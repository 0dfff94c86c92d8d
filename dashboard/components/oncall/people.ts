'use client';

import { useEffect, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';

export interface Person { userId: string; email: string | null; displayName: string | null; role: string }

/**
 * The organization's members, to show people by name instead of user ids (schedules, incidents and
 * policies store ids). Actors that are not people (`service:<id>`, `pagerduty:<agent>`) are named
 * as what they are.
 */
export function usePeople(): { people: Person[]; name(id: string | null | undefined): string; error?: string } {
  const { clients, organization } = useApp();
  const [people, setPeople] = useState<Person[]>([]);
  const [error, setError] = useState<string>();
  const orgId = organization?.id;
  useEffect(() => {
    if (!orgId) return;
    let live = true;
    clients.api.get('/orgs/{orgId}/members', { params: { path: { orgId } } })
      .then(({ members }) => live && setPeople(members as Person[]))
      .catch((err) => live && setError(errorText(err)));
    return () => { live = false; };
  }, [clients, orgId]);
  const name = (id: string | null | undefined) => personName(people, id);
  return { people, name, error };
}

export function personName(people: Person[], id: string | null | undefined): string {
  if (!id) return '—';
  const p = people.find((x) => x.userId === id);
  if (p) return p.displayName || p.email || id;
  if (id.startsWith('service:')) return 'the service (inbound event)';
  if (id.startsWith('pagerduty:')) return `PagerDuty (${id.slice('pagerduty:'.length)})`;
  return `user ${id.slice(0, 8)}`;
}

/** "3 min ago", "2 h ago", "4 d ago": an age as responders read it. */
export function age(fromMs: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - fromMs) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** A duration in seconds as MTTA/MTTR tables show it. */
export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return '—';
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  if (s < 86_400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

/** A date and time in the viewer's zone, with the weekday (schedules are read by day). */
export function when(ms: number | string): string {
  const d = new Date(ms);
  return d.toLocaleString(undefined, { weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** The viewer's own IANA zone, as the browser reports it. */
export function viewerZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
