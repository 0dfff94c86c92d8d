import { labelPairs } from './types.ts';

/** A label set as chips (`key=value`), alertname and severity left to their own columns when asked. */
export function Labels({ labels, skip = [] }: { labels: Record<string, string>; skip?: string[] }) {
  const pairs = labelPairs(labels, skip);
  if (pairs.length === 0) return <span className="muted">none</span>;
  return (
    <span className="al-labels">
      {pairs.map(([k, v]) => <span key={k} className="al-label"><span className="al-label-k">{k}</span>={v}</span>)}
    </span>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`badge ${state}`} data-state={state}>{state}</span>;
}
