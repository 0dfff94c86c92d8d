'use client';

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import type { Schedule } from '../incidents/types.ts';
import type { Person } from './people.ts';
import { when } from './people.ts';
import type { Shift } from './schedule-calendar.tsx';

/** `datetime-local` input value (the viewer's wall clock) for an instant, and back. */
const toLocalInput = (ms: number) => {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};
const fromLocalInput = (v: string) => new Date(v).getTime();

/**
 * A schedule's overrides: the list (latest wins where they overlap), "X covers Y from A to B" to add
 * one, and removal. Owners and admins change anyone's; members only their own (the API says the
 * same: 403 otherwise); viewers read.
 */
export function Overrides({ schedule, people, name, cover, onChanged }: {
  schedule: Schedule; people: Person[]; name: (id: string | null | undefined) => string; cover?: Shift; onChanged(): void;
}) {
  const { clients, can, session } = useApp();
  const me = session.user.id;
  const admin = can('admin');
  const member = can('member');
  const choosable = admin ? people : people.filter((p) => p.userId === me);
  const choosableRef = useRef(choosable);
  choosableRef.current = choosable;
  const [userId, setUserId] = useState('');
  const [start, setStart] = useState(() => toLocalInput(Math.ceil(Date.now() / 3_600_000) * 3_600_000));
  const [end, setEnd] = useState(() => toLocalInput(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 8 * 3_600_000));
  const [covering, setCovering] = useState<string>();
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!cover) return;
    setStart(toLocalInput(Date.parse(cover.start)));
    setEnd(toLocalInput(Date.parse(cover.end)));
    setCovering(cover.userId);
    // Someone covers the person on call: offer the next person who may be chosen, not the same one.
    setUserId((u) => (u === cover.userId ? (choosableRef.current.find((p) => p.userId !== cover.userId)?.userId ?? u) : u));
  }, [cover]);
  useEffect(() => {
    if (!userId && choosable[0]) setUserId((choosable.find((p) => p.userId !== covering) ?? choosable[0]).userId);
  }, [choosable, userId, covering]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setDone(undefined);
    try {
      const s = fromLocalInput(start);
      const t = fromLocalInput(end);
      if (!Number.isFinite(s) || !Number.isFinite(t)) throw new Error('Give a start and an end.');
      const r = await clients.api.post('/oncall/schedules/{id}/overrides', {
        params: { path: { id: schedule.id } },
        body: { userId, start: new Date(s).toISOString(), end: new Date(t).toISOString() },
      });
      setDone(`${name(r.override.userId)} covers ${when(r.override.start)} – ${when(r.override.end)}.`);
      setError(undefined);
      setCovering(undefined);
      onChanged();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async (overrideId: string) => {
    setBusy(true);
    try {
      await clients.api.delete('/oncall/schedules/{id}/overrides/{overrideId}', { params: { path: { id: schedule.id, overrideId } } });
      setDone('Override removed.');
      setError(undefined);
      onChanged();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const list = [...schedule.overrides].sort((a, b) => Date.parse(b.start) - Date.parse(a.start));
  const now = Date.now();
  return (
    <section className="panel" aria-labelledby="ovr-h">
      <h2 id="ovr-h">Overrides <span className="muted">({list.length})</span></h2>
      {member ? (
        <form className="override-form" onSubmit={(e) => void submit(e)} aria-label="New override">
          <label>Who covers
            <select value={userId} onChange={(e) => setUserId(e.target.value)} required>
              {choosable.map((p) => <option key={p.userId} value={p.userId}>{p.displayName || p.email || p.userId}</option>)}
            </select>
          </label>
          {covering ? <span>covering <strong>{name(covering)}</strong></span> : null}
          <label>from <input type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} required /></label>
          <label>to <input type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} required /></label>
          <button type="submit" disabled={busy || !userId}>Add override</button>
          {!admin ? <span className="hint">Members may add overrides for themselves only.</span> : null}
        </form>
      ) : <p className="hint">Viewers see overrides; members add their own, owners and admins anyone's.</p>}
      {error ? <p role="alert" className="error">{error}</p> : null}
      <p role="status" className="oc-done">{done ?? ''}</p>
      {list.length === 0 ? <p className="oc-empty">No overrides: the layers decide who is on call.</p> : (
        <table data-testid="overrides">
          <thead><tr><th scope="col">Who covers</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Status</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {list.map((o) => {
              const mayRemove = admin || (member && o.userId === me);
              const status = Date.parse(o.end) <= now ? 'past' : Date.parse(o.start) <= now ? 'in force' : 'upcoming';
              return (
                <tr key={o.id} data-override={o.id}>
                  <td>{name(o.userId)}</td>
                  <td>{when(o.start)}</td>
                  <td>{when(o.end)}</td>
                  <td><span className={`badge ${status === 'in force' ? 'acknowledged' : status === 'past' ? 'muted' : 'info'}`}>{status}</span></td>
                  <td>{mayRemove ? <button type="button" className="secondary" disabled={busy} onClick={() => void remove(o.id)} aria-label={`Remove the override of ${name(o.userId)} from ${when(o.start)}`}>Remove</button> : null}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
