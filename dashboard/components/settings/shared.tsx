'use client';

import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { errorText } from '../../lib/api.ts';

/**
 * A read through the API with its error: `reload()` after a write so the table shows what the server
 * now holds (never an optimistic copy). `deps` restart it (the project changed).
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: string | undefined; reload: () => Promise<void> } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    try {
      setData(await run());
      setError(undefined);
    } catch (err) {
      setError(errorText(err));
    }
  }, [run]);
  useEffect(() => {
    setData(undefined);
    void reload();
  }, [reload]);
  return { data, error, reload };
}

/** Runs a write, keeping its error for a `<p role="alert">`; `busy` disables the form meanwhile. */
export function useAction(): { busy: boolean; error: string | undefined; run: (fn: () => Promise<unknown>) => Promise<boolean>; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(undefined) };
}

/**
 * A secret the API shows this once (an API key, an invitation token, a webhook signing secret): kept
 * only in this component's state, never stored, gone on dismiss or reload.
 */
export function OneTimeSecret({ label, value, children, onDismiss }: { label: string; value: string; children?: ReactNode; onDismiss: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'failed'>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <div className="settings-secret" role="status" data-testid="one-time-secret">
      <p><strong>{label}</strong> — shown once: copy it now, it cannot be shown again.</p>
      <div className="settings-secret-row">
        <code data-testid="secret-value" tabIndex={0} aria-label={label}>{value}</code>
        <button type="button" onClick={() => void copy()}>Copy</button>
        <button type="button" className="secondary" onClick={onDismiss}>Done</button>
      </div>
      {copied === 'yes' ? <p className="hint">Copied to the clipboard.</p> : null}
      {copied === 'failed' ? <p className="hint">The browser refused the clipboard: select the text and copy it.</p> : null}
      {children}
    </div>
  );
}

export function Alert({ text }: { text: string | undefined }) {
  return text ? <p role="alert" className="error">{text}</p> : null;
}

/** Who may change what in a section, said once instead of showing disabled controls. */
export function ReadOnlyNote({ children }: { children: ReactNode }) {
  return <p className="hint settings-readonly" data-testid="read-only">{children}</p>;
}

const dateTime = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' });
export function when(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

export const count = (n: number) => n.toLocaleString('en-US');

export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** A scrollable table region, labelled (axe: scrollable regions must be focusable). */
export function TableRegion({ label, children }: { label: string; children: ReactNode }) {
  return <div className="settings-table" role="region" aria-label={label} tabIndex={0}>{children}</div>;
}
