'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState, type FormEvent } from 'react';
import { useBoot } from '../../components/app-context.tsx';

/** Password sign-in through supabase-js (Supabase Auth; locally the gateway's Auth stand-in). */
export default function SignIn() {
  const boot = useBoot();
  const router = useRouter();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const next = () => {
    const n = new URLSearchParams(window.location.search).get('next');
    return n && n.startsWith('/') && !n.startsWith('//') ? n : '/metrics/';
  };
  useEffect(() => {
    if (boot.config?.demoEmail) setEmail((e) => e || boot.config!.demoEmail!);
  }, [boot.config]);
  useEffect(() => {
    if (boot.session) router.replace(next());
  }, [boot.session, router]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!boot.clients) return;
    setBusy(true);
    setError(undefined);
    const { error: err } = await boot.clients.supabase.auth.signInWithPassword({ email, password });
    setBusy(false);
    if (err) setError(err.status === 429 ? err.message : err.code === 'invalid_credentials' ? 'Wrong email or password.' : err.message);
    else router.replace(next());
  };
  return (
    <main id="main" className="sign-in">
      <h1>Sign in to ObservAI</h1>
      {boot.error ? <p role="alert" className="error">{boot.error}</p> : null}
      <form onSubmit={(e) => void submit(e)}>
        <label>Email<input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} /></label>
        <label>Password<input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} /></label>
        {error ? <p role="alert" className="error">{error}</p> : null}
        <button type="submit" disabled={busy || !boot.clients}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      {boot.config?.demoEmail ? <p className="hint">Local demo: the owner&apos;s password is in <code>.observai/demo.json</code> (<code>ownerPassword</code>) and was printed by the first <code>npm start</code>.</p> : null}
    </main>
  );
}
