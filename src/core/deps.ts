import type { Authenticator } from '../auth/authenticate.ts';
import type { Cache } from '../cache/types.ts';
import type { Db } from '../db/types.ts';
import type { SmtpSender } from '../net/delivery.ts';
import type { OutboundGuard } from '../net/outbound.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Ids } from './ids.ts';
import type { Logger } from './logger.ts';

/** Everything the product needs from the outside world, passed in explicitly. */
export interface Deps {
  config: Config;
  db: Db;
  cache: Cache;
  logger: Logger;
  clock: Clock;
  ids: Ids;
  auth: Authenticator;
  /** The only way to reach a URL a tenant chose (export destinations, webhooks): the SSRF guard. */
  outbound: OutboundGuard;
  /** Sends email over SMTP (Node only; edge runtimes block SMTP ports, so email there uses an HTTP API). */
  smtp?: SmtpSender;
  /**
   * Background work that must not delay the response (e.g. recording a key's last use). The
   * gateway awaits nothing; the edge runtime passes EdgeRuntime.waitUntil.
   */
  defer(work: Promise<unknown>): void;
}
