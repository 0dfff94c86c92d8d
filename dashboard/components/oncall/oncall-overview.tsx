'use client';

import { useCallback, useEffect, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import { useUrlState } from '../../lib/use-url-state.ts';
import type { EscalationPolicy, OncallService, Schedule } from '../incidents/types.ts';
import { CalendarFeed } from './feed.tsx';
import { OnCallNow } from './on-call-now.tsx';
import { Overrides } from './overrides.tsx';
import { usePeople } from './people.ts';
import { Policies, Services } from './policies-services.tsx';
import { localDay, ScheduleCalendar, type Shift } from './schedule-calendar.tsx';

const SPANS = [7, 14] as const;

/**
 * The on-call page: who is on call now on every schedule, one schedule's calendar (a week or two)
 * with its overrides and calendar feed, then the escalation policies and the project's services.
 */
export function OncallOverview() {
  const { clients, organization, project } = useApp();
  const api = clients.api;
  const orgId = organization!.id;
  const { people, name, error: peopleError } = usePeople();
  const [params, setParams] = useUrlState();
  const [schedules, setSchedules] = useState<Schedule[]>();
  const [policies, setPolicies] = useState<EscalationPolicy[]>([]);
  const [services, setServices] = useState<OncallService[]>([]);
  const [error, setError] = useState<string>();
  const [refresh, setRefresh] = useState(0);
  const [cover, setCover] = useState<Shift>();

  const loadSchedules = useCallback(async () => {
    try {
      const { schedules: list } = await api.get('/oncall/schedules', { params: { query: { organizationId: orgId } } });
      setSchedules(list);
      setError(undefined);
    } catch (err) {
      setError(errorText(err));
    }
  }, [api, orgId]);
  useEffect(() => { void loadSchedules(); }, [loadSchedules]);
  useEffect(() => {
    api.get('/oncall/escalation-policies', { params: { query: { organizationId: orgId } } }).then((r) => setPolicies(r.escalationPolicies)).catch((err) => setError(errorText(err)));
  }, [api, orgId]);
  useEffect(() => {
    api.get('/oncall/services', { params: { query: { projectId: project!.id } } }).then((r) => setServices(r.services)).catch((err) => setError(errorText(err)));
  }, [api, project]);

  if (!params) return null;
  const selected = schedules?.find((s) => s.id === params.get('schedule')) ?? schedules?.[0];
  const days = SPANS.find((d) => String(d) === params.get('days')) ?? 14;
  const start = (() => {
    const v = params.get('start');
    const [y, m, d] = (v ?? '').split('-').map(Number);
    return v && y && m && d ? new Date(y, m - 1, d).getTime() : localDay(Date.now());
  })();
  const setStart = (ms: number) => setParams((p) => {
    const d = new Date(ms);
    p.set('start', `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`);
  });
  const changed = () => {
    setRefresh((n) => n + 1);
    void loadSchedules();
  };

  return (
    <>
      {error ? <p role="alert" className="error">{error}</p> : null}
      {peopleError ? <p role="alert" className="error">{peopleError}</p> : null}
      {schedules ? <OnCallNow schedules={schedules} name={name} refresh={refresh} onPick={(id) => setParams((p) => p.set('schedule', id))} /> : <p aria-busy="true">Loading schedules…</p>}
      {selected ? (
        <>
          <section className="panel" aria-labelledby="cal-h">
            <div className="inc-head">
              <h2 id="cal-h">Schedule</h2>
              <div className="toolbar" role="group" aria-label="Calendar">
                <label>Schedule
                  <select value={selected.id} onChange={(e) => { setCover(undefined); setParams((p) => p.set('schedule', e.target.value)); }}>
                    {schedules!.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
                  </select>
                </label>
                <label>Show
                  <select value={days} onChange={(e) => setParams((p) => p.set('days', e.target.value))}>
                    {SPANS.map((d) => <option key={d} value={d}>{d === 7 ? 'One week' : 'Two weeks'}</option>)}
                  </select>
                </label>
                <button type="button" className="secondary" onClick={() => setStart(localDay(start, -7))}>← Earlier</button>
                <button type="button" className="secondary" onClick={() => setParams((p) => p.delete('start'))}>Today</button>
                <button type="button" className="secondary" onClick={() => setStart(localDay(start, 7))}>Later →</button>
              </div>
            </div>
            <ScheduleCalendar schedule={selected} from={start} days={days} name={name} people={people.map((p) => p.userId)} refresh={refresh} onShift={setCover} />
          </section>
          <Overrides key={selected.id} schedule={selected} people={people} name={name} cover={cover} onChanged={changed} />
          <CalendarFeed schedule={selected} />
        </>
      ) : null}
      <Policies policies={policies} schedules={schedules ?? []} name={name} />
      <Services services={services} policies={policies} />
    </>
  );
}
