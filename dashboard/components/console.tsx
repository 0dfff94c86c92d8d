'use client';

import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { useEffect, type ReactNode } from 'react';
import { AppProvider, useApp, useBoot } from './app-context.tsx';

const NAV = [
  { href: '/metrics/', label: 'Metrics' },
  { href: '/dashboards/', label: 'Dashboards' },
  { href: '/logs/', label: 'Logs' },
  { href: '/traces/', label: 'Traces' },
  { href: '/anomalies/', label: 'Anomalies' },
  { href: '/alerts/', label: 'Alerts' },
  { href: '/incidents/', label: 'Incidents' },
  { href: '/oncall/', label: 'On-call' },
  { href: '/settings/', label: 'Settings' },
] as const;

/**
 * Every signed-in page: boots the clients, sends a signed-out visitor to /sign-in/ (and back after),
 * and draws the header (organization and project switchers, the caller's role, sign-out) and the
 * navigation around the page. The page itself renders only once an organization and a project are
 * known, so every page can rely on useApp().project.
 */
export function Console({ title, children }: { title: string; children: ReactNode }) {
  const boot = useBoot();
  const router = useRouter();
  const path = usePathname();
  useEffect(() => {
    // Back to the same page and query after signing in (a notification's link carries its project and item there).
    if (boot.session === null) router.replace(`/sign-in/?next=${encodeURIComponent(path + window.location.search)}`);
  }, [boot.session, path, router]);
  useEffect(() => {
    document.title = `${title} · ObservAI`;
  }, [title]);
  if (boot.error) return <main id="main" className="boot-error"><h1>ObservAI</h1><p role="alert">{boot.error}</p></main>;
  if (!boot.config || !boot.clients || !boot.session) return <main id="main" aria-busy="true" className="boot"><p>Loading…</p></main>;
  return (
    <AppProvider config={boot.config} clients={boot.clients} session={boot.session}>
      <Frame title={title}>{children}</Frame>
    </AppProvider>
  );
}

function Frame({ title, children }: { title: string; children: ReactNode }) {
  const app = useApp();
  const path = usePathname();
  const router = useRouter();
  const signOut = async () => {
    await app.clients.supabase.auth.signOut();
    router.replace('/sign-in/');
  };
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <Link href="/metrics/" className="brand">ObservAI</Link>
        <label>
          <span className="sr-only">Organization</span>
          <select aria-label="Organization" value={app.organization?.id ?? ''} onChange={(e) => app.selectOrganization(e.target.value)}>
            {app.organizations.map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
          </select>
        </label>
        <label>
          <span className="sr-only">Project</span>
          <select aria-label="Project" value={app.project?.id ?? ''} onChange={(e) => app.selectProject(e.target.value)}>
            {app.projects.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
          </select>
        </label>
        <span className="spacer" />
        <span className="who" data-testid="who">{app.session.user.email} · <span data-testid="role">{app.role ?? '…'}</span></span>
        <button type="button" onClick={() => void signOut()}>Sign out</button>
      </header>
      <div className="layout">
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}><Link href={n.href} aria-current={path.startsWith(n.href) ? 'page' : undefined}>{n.label}</Link></li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          <h1>{title}</h1>
          {app.error ? <p role="alert" className="error">{app.error}</p> : null}
          {app.project ? children : app.error ? null : <p aria-busy="true">Loading your organizations…</p>}
        </main>
      </div>
    </>
  );
}
