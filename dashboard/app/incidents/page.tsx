'use client';

import { Console } from '../../components/console.tsx';
import { IncidentList } from '../../components/incidents/incident-list.tsx';
import { IncidentView } from '../../components/incidents/incident-view.tsx';
import { useUrlState } from '../../lib/use-url-state.ts';

export default function IncidentsPage() {
  return <Console title="Incidents"><Incidents /></Console>;
}

/** The list, or one incident with `?id=<incident id>` (a static export has no dynamic segments). */
function Incidents() {
  const [params] = useUrlState();
  if (!params) return null;
  const id = params.get('id');
  return id ? <IncidentView key={id} id={id} /> : <IncidentList />;
}
