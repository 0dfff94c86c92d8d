/**
 * Where the dashboard finds Supabase (or the local gateway): the URL and the anon key. Built for a
 * static host (Supabase), they come from NEXT_PUBLIC_SUPABASE_URL and NEXT_PUBLIC_SUPABASE_ANON_KEY
 * at build time; served by the local gateway, from its /dashboard-config.json (same origin), so one
 * build serves every local deployment.
 */
export interface DashboardConfig {
  supabaseUrl: string;
  anonKey: string;
  /** 'embedded' | 'local' | 'supabase': locally the sign-in page names the demo owner. */
  mode: string;
  /** The demo owner's email, when this deployment seeded one (never the password). */
  demoEmail?: string;
}

let pending: Promise<DashboardConfig> | undefined;

export function loadConfig(): Promise<DashboardConfig> {
  pending ??= (async () => {
    const url = process.env.NEXT_PUBLIC_SUPABASE_URL;
    const anonKey = process.env.NEXT_PUBLIC_SUPABASE_ANON_KEY;
    if (url && anonKey) return { supabaseUrl: url.replace(/\/+$/, ''), anonKey, mode: 'supabase' };
    const res = await fetch('/dashboard-config.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`/dashboard-config.json answered ${res.status}: is this page served by the ObservAI gateway?`);
    const body = (await res.json()) as DashboardConfig;
    return { ...body, supabaseUrl: (body.supabaseUrl || window.location.origin).replace(/\/+$/, '') };
  })();
  pending.catch(() => (pending = undefined));
  return pending;
}
