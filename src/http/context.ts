import type { Identity } from '../auth/identity.ts';
import type { Deps } from '../core/deps.ts';
import type { Logger } from '../core/logger.ts';

/** Variables every request carries through Hono's context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    identity: Identity;
  };
}

export type { Deps };
