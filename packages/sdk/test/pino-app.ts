/**
 * A Node app logging through pino 10 with the SDK's transport (tests/e2e/sdk.test.ts): the target is
 * the package's source, through pino-target.mjs; a published install names `@observai/sdk/pino`
 * instead. The app logs and ends: pino ends the transport at exit and waits while it flushes.
 */
import { fileURLToPath } from 'node:url';
import pino from 'pino';

const run = process.env.RUN!;
const transport = pino.transport({
  target: fileURLToPath(new URL('./pino-target.mjs', import.meta.url)),
  options: { url: process.env.OBSERVAI_URL!, apiKey: process.env.OBSERVAI_API_KEY!, service: 'pino-app', flushIntervalMs: 3_600_000 },
});
const logger = pino({ level: 'debug' }, transport);
logger.info({ run, orderId: 42 }, 'order placed');
logger.child({ run, requestId: 'req-1' }).error({ err: new Error('card declined') }, 'payment failed');
logger.debug({ run }, 'cart loaded');
