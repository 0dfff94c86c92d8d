import pino from 'pino';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';

/** pino: pretty on a terminal, JSON lines otherwise (or as LOG_FORMAT says). */
export function createNodeLogger(config: Pick<Config, 'log'>, stream: NodeJS.WritableStream = process.stdout): Logger {
  const pretty = config.log.format === 'pretty' || (config.log.format === 'auto' && (stream as { isTTY?: boolean }).isTTY === true);
  const opts: pino.LoggerOptions = {
    level: config.log.level,
    base: { service: 'observai' },
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'secret', 'apiKey', 'token'], censor: '[redacted]' },
  };
  if (pretty) {
    return pino({ ...opts, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,service' } } }) as unknown as Logger;
  }
  return pino(opts, stream as pino.DestinationStream) as unknown as Logger;
}
