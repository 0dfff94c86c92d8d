import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { createQueryClient, QueryError, type QueryClient } from '../../packages/sdk/src/query.ts';
import type { DashboardConfig } from './config.ts';

export { QueryError };
export type { QueryClient };

/**
 * The two clients every page uses: supabase-js for the session (sign-in, refresh, sign-out), and the
 * typed query client (generated from the OpenAPI document) for every read and write through the
 * functions, carrying the session's current access token. No `.from()` or `rpc()`: those need
 * PostgREST, which the local modes do not run.
 */
export interface Clients {
  supabase: SupabaseClient;
  api: QueryClient;
  /** The functions' base URL (EventSource streams are opened on it). */
  functionsUrl: string;
  /** The current access token (refreshed by supabase-js when near expiry). */
  accessToken(): Promise<string | undefined>;
}

export function createClients(config: DashboardConfig): Clients {
  const supabase = createClient(config.supabaseUrl, config.anonKey, {
    auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: false, storageKey: 'observai-auth' },
  });
  const accessToken = async () => (await supabase.auth.getSession()).data.session?.access_token;
  const functionsUrl = `${config.supabaseUrl}/functions/v1`;
  const api = createQueryClient({
    url: functionsUrl,
    // Supabase's gateway wants the anon key in front of functions; the local gateway ignores it.
    headers: { apikey: config.anonKey },
    fetch: async (input, init) => {
      const token = await accessToken();
      const headers = new Headers(init?.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    },
  });
  return { supabase, api, functionsUrl, accessToken };
}

/** An error as a person should read it: the API's message (it names the field), else the exception's. */
export function errorText(err: unknown): string {
  if (err instanceof QueryError) return err.details?.length ? `${err.message} (${err.details.map((d) => d.field ? `${d.field}: ${d.message}` : d.message).join('; ')})` : err.message;
  return err instanceof Error ? err.message : String(err);
}
