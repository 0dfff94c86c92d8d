/**
 * A TCP proxy in front of a server (Postgres, Redis) that a test cuts and restores, to stage an
 * outage without touching the server itself, which other tests share: used by
 * tests/e2e/ingest-outage.test.ts and scripts/chaos.ts.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Proxy {
  port: number;
  start(): Promise<void>;
  /** Closes the listener (new connections are refused) and resets every open connection. */
  cut(): Promise<void>;
}

export function tcpProxy(target: { host: string; port: number }): Proxy {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const proxy: Proxy = {
    port: 0,
    async start() {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const close = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', close).on('close', close);
        upstream.on('error', close).on('close', close);
      });
      // The same port again after a cut, so the gateway's configured URL reaches it.
      await new Promise<void>((resolve, reject) => server!.once('error', reject).listen(proxy.port, '127.0.0.1', () => resolve()));
      proxy.port = (server!.address() as { port: number }).port;
    },
    async cut() {
      if (!server) return;
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
      for (const s of sockets) s.destroy();
      sockets.clear();
      await closed;
      server = undefined;
    },
  };
  return proxy;
}
