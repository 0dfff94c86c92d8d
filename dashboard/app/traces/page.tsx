'use client';

import { useSearchParams } from 'next/navigation';
import { Suspense } from 'react';
import { Console } from '../../components/console.tsx';
import { TraceSearch } from '../../components/traces/trace-search.tsx';
import { TraceView } from '../../components/traces/trace-view.tsx';
import { useUrlState } from '../../lib/use-url-state.ts';

export default function TracesPage() {
  return <Console title="Traces"><Suspense fallback={null}><Keyed /></Suspense></Console>;
}

/**
 * Links between traces (and back to the search) stay on this page, so nothing remounts by itself:
 * keyed by the trace id, the view starts afresh (and reads the URL again) when it changes, and on
 * the browser's back and forward buttons.
 */
function Keyed() {
  const id = useSearchParams().get('id') ?? '';
  return <Traces key={id} />;
}

/** `/traces/` searches; `/traces/?id=<traceId>` (a static export has no dynamic segments) opens one trace. */
function Traces() {
  const [params, setParams] = useUrlState();
  if (!params) return null;
  const id = params.get('id');
  if (id) {
    return <TraceView key={id} traceId={id} spanId={params.get('span') ?? undefined} onSpan={(s) => setParams((p) => (s ? p.set('span', s) : p.delete('span')))} />;
  }
  return <TraceSearch params={params} setParams={setParams} />;
}
