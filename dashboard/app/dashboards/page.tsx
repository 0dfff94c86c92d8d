'use client';

import { useEffect, useState } from 'react';
import { useApp } from '../../components/app-context.tsx';
import { Console } from '../../components/console.tsx';
import { DashboardList } from '../../components/dashboards/dashboard-list.tsx';
import { DashboardView } from '../../components/dashboards/dashboard-view.tsx';

/** Saved dashboards: the project's list at /dashboards/, one dashboard at /dashboards/?id=<id>. */
export default function DashboardsPage() {
  return <Console title="Dashboards"><Dashboards /></Console>;
}

function Dashboards() {
  const { project } = useApp();
  const [id, setId] = useState<string | null>();
  useEffect(() => {
    const read = () => setId(new URLSearchParams(window.location.search).get('id'));
    read();
    window.addEventListener('popstate', read);
    return () => window.removeEventListener('popstate', read);
  }, []);
  const open = (next: string | null) => {
    window.history.pushState(null, '', next ? `/dashboards/?id=${next}` : '/dashboards/');
    setId(next);
  };
  if (id === undefined) return null;
  return id ? <DashboardView key={`${project!.id}:${id}`} id={id} onClose={() => open(null)} /> : <DashboardList key={project!.id} onOpen={open} />;
}
