import { z } from 'zod';
import { DEFAULT_ALLOWED_PORTS, parseAllowList, parsePortRule } from '../net/address-policy.ts';

/**
 * The one configuration schema. Each entry point (Node gateway, Deno function, CLI) parses its
 * environment once with `parseConfig`; nothing else reads the environment. A missing or malformed
 * variable stops start-up with a message that names it.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

/** A string parsed by `parse`, whose thrown message becomes the variable's problem. */
const parsed = <T>(parse: (v: string) => T) =>
  z.string().transform((v, ctx) => {
    try {
      return parse(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

/** Decoded length of a base64 string, or -1 when it is not base64. */
function base64Length(v: string): number {
  try {
    return atob(v).length;
  } catch {
    return -1;
  }
}

export const ConfigSchema = z
  .object({
    /** embedded | local | supabase; inferred from the other variables when unset. */
    OBSERVAI_MODE: z.enum(['embedded', 'local', 'supabase']).optional(),
    OBSERVAI_DATA_DIR: z.string().min(1).default('./.observai'),
    DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
    SUPABASE_DB_URL: url(['postgres:', 'postgresql:']).optional(),
    REDIS_URL: url(['redis:', 'rediss:']).optional(),
    UPSTASH_REDIS_REST_URL: url(['https:', 'http:']).optional(),
    UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
    SUPABASE_URL: url(['https:', 'http:']).optional(),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(54321),
    /** HS256 secret for user and service-role JWTs (Supabase: the project's legacy JWT secret). */
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** JWKS for ES256/RS256 user JWTs (Supabase: <SUPABASE_URL>/auth/v1/.well-known/jwks.json). */
    JWKS_URL: url(['https:', 'http:']).optional(),
    JWT_ISSUER: z.string().min(1).optional(),
    /** The `aud` every user access token must carry (Supabase Auth issues `authenticated`). */
    JWT_AUDIENCE: z.string().min(1).default('authenticated'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    /** Gateway processes sharing the port (local and supabase modes; PGlite is one process). */
    GATEWAY_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
    SCHEDULER_ENABLED: bool.default(true),
    SEED_DEMO: bool.default(true),
    /** Sample metrics, logs and traces sent to the demo project through ingest (src/demo-data); false: none. */
    DEMO_DATA: bool.default(true),
    CORS_ORIGINS: z.string().default('*'),
    /**
     * Caps on concurrent live tails (GET /logs/tail), each stream polling the database once a second:
     * per API key and per user across every process (through the cache), per project, and per
     * process. Beyond one, 429 RATE_LIMITED naming it. Defaults in .env.example with their reasons.
     */
    LOG_TAIL_MAX_PER_KEY: z.coerce.number().int().min(1).max(1000).default(2),
    LOG_TAIL_MAX_PER_USER: z.coerce.number().int().min(1).max(1000).default(5),
    LOG_TAIL_MAX_PER_PROJECT: z.coerce.number().int().min(1).max(10_000).default(10),
    LOG_TAIL_MAX_PER_PROCESS: z.coerce.number().int().min(1).max(10_000).default(50),
    /**
     * 32 random bytes, base64 (`openssl rand -base64 32`): seals the secrets tenants give us (export
     * destinations' keys, contact points' tokens; AES-256-GCM). Without it the routes that need it
     * answer 501. EXPORT_ENCRYPTION_KEY is its earlier name, still read when this one is unset.
     */
    SECRET_ENCRYPTION_KEY: z
      .string()
      .refine((v) => base64Length(v) === 32, 'must be 32 bytes encoded as base64 (openssl rand -base64 32)')
      .optional(),
    EXPORT_ENCRYPTION_KEY: z
      .string()
      .refine((v) => base64Length(v) === 32, 'must be 32 bytes encoded as base64 (openssl rand -base64 32)')
      .optional(),
    /**
     * Places that URLs chosen by tenants (export destinations; later webhooks and contact points) may
     * reach although they are loopback, private or otherwise not public: comma-separated CIDRs,
     * addresses and host names, each with an optional :port (src/net/address-policy.ts). Default: none.
     */
    OUTBOUND_ALLOW_PRIVATE: parsed(parseAllowList).optional(),
    /** The dashboard's base URL, for links back to alerts in notifications. Unset: no links but the senders' own. */
    DASHBOARD_URL: url(['https:', 'http:']).optional(),
    /** Where people reach this server's functions (links in pages: acknowledge, resolve). Default SUPABASE_URL. */
    PUBLIC_URL: url(['https:', 'http:']).optional(),
    /** Signs one-click acknowledge/resolve links; default derived from JWT_SECRET (or the generated one). */
    ONCALL_LINK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Ports a public address chosen by a tenant may be reached on: `*` or ports and ranges. */
    OUTBOUND_ALLOWED_PORTS: parsed(parsePortRule).default(parsePortRule(DEFAULT_ALLOWED_PORTS)),
    /** Monthly quotas refused at ingest for plans whose policy is 'block' (docs/BILLING.md). false: metered only. */
    BILLING_QUOTAS: bool.default(true),
    /** Stripe: off unless STRIPE_API_KEY is set; then STRIPE_WEBHOOK_SECRET verifies Stripe's webhooks. */
    STRIPE_API_KEY: z.string().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/, 'must be a Stripe secret or restricted key (sk_test_..., rk_live_...)').optional(),
    /** Stripe's API base URL; another only for a local stand-in (it must then be allowed by OUTBOUND_ALLOW_PRIVATE). */
    STRIPE_API_BASE: url(['https:', 'http:']).default('https://api.stripe.com'),
    STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, 'must be a Stripe endpoint secret (whsec_...)').optional(),
    /** The Stripe meter event name per signal, comma-separated signal=event_name (default observai_<signal>_events). */
    STRIPE_METER_EVENTS: z.string().optional(),
  })
  .transform((env, ctx) => {
    const mode = env.OBSERVAI_MODE ?? (env.SUPABASE_DB_URL ? 'supabase' : env.DATABASE_URL ? 'local' : 'embedded');
    const need = (name: keyof typeof env, why: string) => {
      if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: `is required ${why}` });
    };
    if (mode === 'local') need('DATABASE_URL', 'in local mode');
    if (mode === 'supabase') {
      need('SUPABASE_DB_URL', 'in supabase mode');
      if (!env.JWT_SECRET && !env.JWKS_URL && !env.SUPABASE_URL) {
        ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'or JWKS_URL or SUPABASE_URL is required in supabase mode to verify JWTs' });
      }
    }
    if (mode === 'embedded' && env.GATEWAY_WORKERS > 1) {
      ctx.addIssue({ code: 'custom', path: ['GATEWAY_WORKERS'], message: 'must be 1 in embedded mode (PGlite is a single process)' });
    }
    if (env.UPSTASH_REDIS_REST_URL && !env.UPSTASH_REDIS_REST_TOKEN) need('UPSTASH_REDIS_REST_TOKEN', 'when UPSTASH_REDIS_REST_URL is set');
    const jwksUrl = env.JWKS_URL ?? (env.SUPABASE_URL ? new URL('/auth/v1/.well-known/jwks.json', env.SUPABASE_URL).toString() : undefined);
    return {
      mode,
      dataDir: env.OBSERVAI_DATA_DIR,
      databaseUrl: mode === 'supabase' ? env.SUPABASE_DB_URL : mode === 'local' ? env.DATABASE_URL : undefined,
      redis: env.UPSTASH_REDIS_REST_URL
        ? ({ kind: 'upstash', url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN ?? '' } as const)
        : env.REDIS_URL
          ? ({ kind: 'tcp', url: env.REDIS_URL } as const)
          : ({ kind: 'memory' } as const),
      host: env.HOST,
      port: env.PORT,
      jwt: { secret: env.JWT_SECRET, jwksUrl, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE },
      log: { level: env.LOG_LEVEL, format: env.LOG_FORMAT },
      dbPoolMax: env.DB_POOL_MAX,
      gatewayWorkers: env.GATEWAY_WORKERS,
      schedulerEnabled: env.SCHEDULER_ENABLED,
      seedDemo: env.SEED_DEMO,
      demoData: env.DEMO_DATA,
      corsOrigins: env.CORS_ORIGINS === '*' ? '*' : env.CORS_ORIGINS.split(',').map((s) => s.trim()),
      logTail: { maxPerKey: env.LOG_TAIL_MAX_PER_KEY, maxPerUser: env.LOG_TAIL_MAX_PER_USER, maxPerProject: env.LOG_TAIL_MAX_PER_PROJECT, maxPerProcess: env.LOG_TAIL_MAX_PER_PROCESS },
      exports: { encryptionKey: env.SECRET_ENCRYPTION_KEY ?? env.EXPORT_ENCRYPTION_KEY },
      dashboardUrl: env.DASHBOARD_URL ?? null,
      publicUrl: env.PUBLIC_URL ?? env.SUPABASE_URL ?? null,
      oncall: { linkSecret: env.ONCALL_LINK_SECRET ?? null },
      outbound: { allowPrivate: env.OUTBOUND_ALLOW_PRIVATE ?? [], ports: env.OUTBOUND_ALLOWED_PORTS },
      billing: {
        quotas: env.BILLING_QUOTAS,
        stripe: env.STRIPE_API_KEY
          ? { apiKey: env.STRIPE_API_KEY, apiBase: env.STRIPE_API_BASE.replace(/\/+$/, ''), webhookSecret: env.STRIPE_WEBHOOK_SECRET ?? null, meterEvents: meterEvents(env.STRIPE_METER_EVENTS) }
          : null,
        stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET ?? null,
      },
    };
  });

export type Config = z.output<typeof ConfigSchema>;

/** Stripe meter event names per signal: `metrics=m,logs=l,traces=t` overrides the defaults. */
function meterEvents(v: string | undefined): Record<'metrics' | 'logs' | 'traces', string> {
  const names = { metrics: 'observai_metrics_events', logs: 'observai_logs_events', traces: 'observai_traces_events' };
  for (const pair of (v ?? '').split(',').filter(Boolean)) {
    const [signal, name] = pair.split('=').map((x) => x.trim());
    if ((signal === 'metrics' || signal === 'logs' || signal === 'traces') && name) names[signal] = name;
  }
  return names;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (a plain object of strings). Empty strings count as unset. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = ConfigSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(env)'} ${i.message}`));
  }
  return result.data;
}
