'use client';

import { useState } from 'react';
import { useApp } from '../app-context.tsx';
import { errorText } from '../../lib/api.ts';
import type { Schedule } from '../incidents/types.ts';

/**
 * The schedule's iCal feed: the API shows a feed's URL (its token) once, when it is made, so the
 * page makes one on request and offers it to copy into a calendar app.
 */
export function CalendarFeed({ schedule }: { schedule: Schedule }) {
  const { clients, organization } = useApp();
  const [url, setUrl] = useState<{ kind: string; url: string }>();
  const [error, setError] = useState<string>();
  const [copied, setCopied] = useState('');
  const make = async (kind: 'schedule' | 'mine') => {
    try {
      const r = kind === 'schedule'
        ? await clients.api.post('/oncall/schedules/{id}/feeds', { params: { path: { id: schedule.id } } })
        : await clients.api.post('/oncall/me/feeds', { body: { organizationId: organization!.id } });
      setUrl({ kind, url: r.url });
      setCopied('');
      setError(undefined);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const copy = async () => {
    if (!url) return;
    try {
      await navigator.clipboard.writeText(url.url);
      setCopied('Copied.');
    } catch {
      setCopied('Copy failed: select the address and copy it.');
    }
  };
  return (
    <section className="panel" aria-labelledby="feed-h">
      <h2 id="feed-h">Calendar feed (iCal)</h2>
      <p className="hint">Subscribe in Google Calendar, Outlook or Apple Calendar. The address is a secret shown once; anyone with it sees the shifts.</p>
      <div className="toolbar">
        <button type="button" className="secondary" onClick={() => void make('schedule')}>New feed of {schedule.name}</button>
        <button type="button" className="secondary" onClick={() => void make('mine')}>New feed of my shifts</button>
      </div>
      {url ? (
        <div className="toolbar">
          <label>{url.kind === 'schedule' ? `${schedule.name} feed` : 'My shifts feed'}
            <input className="feed-url mono" readOnly value={url.url} onFocus={(e) => e.target.select()} data-testid="feed-url" />
          </label>
          <button type="button" onClick={() => void copy()}>Copy</button>
          <span role="status">{copied}</span>
        </div>
      ) : null}
      {error ? <p role="alert" className="error">{error}</p> : null}
    </section>
  );
}
