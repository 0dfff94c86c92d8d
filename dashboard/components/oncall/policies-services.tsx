'use client';

import type { EscalationPolicy, OncallService, Schedule } from '../incidents/types.ts';

type Target = { type: string; id: string };

/** An escalation target in words: a person, a schedule (whoever is on call), a contact point. */
export function targetLabel(t: Target, name: (id: string) => string, schedules: Schedule[]): string {
  if (t.type === 'user') return name(t.id);
  if (t.type === 'schedule') return `${schedules.find((s) => s.id === t.id)?.name ?? t.id.slice(0, 8)} (on call)`;
  return `contact point ${t.id.slice(0, 8)}`;
}

/** The organization's escalation policies, read-only: levels, their delays and targets, repeats, ack timeout. */
export function Policies({ policies, schedules, name }: { policies: EscalationPolicy[]; schedules: Schedule[]; name: (id: string) => string }) {
  return (
    <section className="panel" aria-labelledby="pol-h">
      <h2 id="pol-h">Escalation policies <span className="muted">({policies.length})</span></h2>
      {policies.length === 0 ? <p className="oc-empty">No escalation policies yet (POST /oncall/escalation-policies).</p> : (
        <table data-testid="policies">
          <thead><tr><th scope="col">Policy</th><th scope="col">Levels</th><th scope="col">Repeats</th><th scope="col">Ack timeout</th></tr></thead>
          <tbody>
            {policies.map((p) => (
              <tr key={p.id}>
                <th scope="row">{p.name}</th>
                <td>
                  <ol className="oc-levels">
                    {p.policy.levels.map((l, i) => (
                      <li key={i}><span className="muted">{i === 0 ? (l.delayMinutes ? `after ${l.delayMinutes} min` : 'at once') : `${l.delayMinutes} min later`}:</span> {l.targets.map((t) => targetLabel(t, name, schedules)).join(', ')}</li>
                    ))}
                  </ol>
                </td>
                <td>{p.policy.repeat ? `${p.policy.repeat} time${p.policy.repeat === 1 ? '' : 's'}` : 'none'}</td>
                <td>{p.policy.ackTimeoutMinutes ? `${p.policy.ackTimeoutMinutes} min` : 'none'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The project's on-call services: their policy, how urgency is set, the reopen window. */
export function Services({ services, policies }: { services: OncallService[]; policies: EscalationPolicy[] }) {
  return (
    <section className="panel" aria-labelledby="svc-h">
      <h2 id="svc-h">Services <span className="muted">({services.length}, this project)</span></h2>
      {services.length === 0 ? <p className="oc-empty">No on-call services in this project yet (POST /oncall/services).</p> : (
        <table data-testid="services">
          <thead><tr><th scope="col">Service</th><th scope="col">Escalation policy</th><th scope="col">Urgency</th><th scope="col">Reopen window</th><th scope="col">Incidents</th></tr></thead>
          <tbody>
            {services.map((s) => (
              <tr key={s.id}>
                <th scope="row">{s.name}</th>
                <td>{s.escalationPolicyId ? (policies.find((p) => p.id === s.escalationPolicyId)?.name ?? s.escalationPolicyId.slice(0, 8)) : <span className="error">none: incidents page nobody</span>}</td>
                <td>{s.urgency === 'severity' ? 'from the event severity' : s.urgency}</td>
                <td>{s.reopenWindowSeconds ? `${Math.round(s.reopenWindowSeconds / 60)} min` : 'never reopens'}</td>
                <td><a href={`/incidents/?service=${s.id}`}>Open incidents</a></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
