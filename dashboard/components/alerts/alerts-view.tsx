'use client';

import { useState } from 'react';
import { useUrlState } from '../../lib/use-url-state.ts';
import { useApp } from '../app-context.tsx';
import { History } from './history.tsx';
import { Instances } from './instances.tsx';
import { Rules } from './rules.tsx';
import { matcherLines, Silences } from './silences.tsx';

const TABS = [
  { id: 'alerts', label: 'Firing and pending' },
  { id: 'rules', label: 'Rules' },
  { id: 'silences', label: 'Silences' },
  { id: 'history', label: 'History' },
] as const;
type Tab = (typeof TABS)[number]['id'];

/**
 * The Alerts page: firing and pending alerts (live), rules with their editor and preview, silences
 * and history, as tabs kept in the URL (`?tab=rules&edit=new`). Role-aware: writers (owner, admin,
 * member) see the create, edit, delete and expire controls.
 */
export function AlertsView() {
  const { can } = useApp();
  const [params, setParams] = useUrlState();
  const [prefill, setPrefill] = useState<string>();
  const [changes, setChanges] = useState(0);
  if (!params) return null;
  const tab = (TABS.some((t) => t.id === params.get('tab')) ? params.get('tab') : 'alerts') as Tab;
  const canWrite = can('member');
  const go = (id: Tab) => setParams((p) => { p.set('tab', id); p.delete('edit'); });
  const onKey = (e: React.KeyboardEvent, i: number) => {
    const next = e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i + TABS.length - 1) % TABS.length : -1;
    if (next < 0) return;
    e.preventDefault();
    go(TABS[next]!.id);
    document.getElementById(`al-tab-${TABS[next]!.id}`)?.focus();
  };
  return (
    <>
      <div role="tablist" aria-label="Alerting" className="al-tabs">
        {TABS.map((t, i) => (
          <button key={t.id} id={`al-tab-${t.id}`} type="button" role="tab" aria-selected={tab === t.id} aria-controls={`al-panel-${t.id}`} tabIndex={tab === t.id ? 0 : -1} onClick={() => go(t.id)} onKeyDown={(e) => onKey(e, i)}>{t.label}</button>
        ))}
      </div>
      <div role="tabpanel" id={`al-panel-${tab}`} aria-labelledby={`al-tab-${tab}`}>
        {tab === 'alerts' ? (
          <Instances
            linked={params.get('alert') ?? undefined}
            onTransition={() => setChanges((n) => n + 1)}
            onSilence={canWrite ? (labels) => { setPrefill(matcherLines(labels)); go('silences'); } : undefined}
          />
        ) : null}
        {tab === 'rules' ? <Rules canWrite={canWrite} editing={params.get('edit') ?? ''} setEditing={(id) => setParams((p) => (id ? p.set('edit', id) : p.delete('edit')))} refresh={changes} /> : null}
        {tab === 'silences' ? <Silences canWrite={canWrite} prefill={prefill} /> : null}
        {tab === 'history' ? <History refresh={changes} /> : null}
      </div>
    </>
  );
}
