import cluster, { type Worker } from 'node:cluster';
import type { Server as HttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger } from '../core/logger.ts';

/**
 * GATEWAY_WORKERS > 1: the primary process listens and hands each connection to the next ready
 * worker in turn, over the worker's IPC channel; the workers never listen themselves.
 *
 * Why not node:cluster's own round robin (workers calling listen()): its primary keeps a handed-off
 * connection open until the worker acknowledges it and never closes it when the worker dies first
 * (lib/internal/cluster/round_robin_handle.js: the reply callback that closes it never runs), so a
 * client whose connection was being handed to a worker as it crashed, or was killed by the OOM killer,
 * waited for an answer until its own timeout: `npm run test:chaos` met it both times it killed a worker
 * mid-traffic. Here the primary also holds its copy of a connection until the worker says it has it,
 * and closes the copies a worker that exited never took: that client sees the connection close at once
 * and retries (tests/e2e/gateway-workers.test.ts). (SCHED_NONE, workers accepting from one shared
 * socket, avoids the leak too, but on Linux one worker then took all of a burst of keep-alive
 * connections in 4 of 5 tries.)
 */
type Message = { oai: 'ready' } | { oai: 'connection'; id: number } | { oai: 'taken'; id: number };

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && typeof (m as { oai?: unknown }).oai === 'string';

/** Connections accepted while no worker is ready (start-up, or every worker died) wait, at most this many. */
const MAX_WAITING = 512;

export interface GatewayPrimary {
  /** Stops accepting, asks the workers to finish (SIGTERM) and waits for them, killing those still running after `stopTimeoutMs`. */
  stop(): Promise<void>;
}

/**
 * Listens on host:port and forks `workers` workers (each runs this entry point with
 * cluster.isWorker, and calls serveGatewayWorker), replacing any that exits unless stopping.
 * Rejects when the port cannot be listened on.
 */
export async function startGatewayPrimary(opts: { workers: number; host: string; port: number; logger: Logger; stopTimeoutMs?: number }): Promise<GatewayPrimary> {
  const { logger } = opts;
  const ready: Worker[] = [];
  /** Connections sent to a worker that has not yet said it took them; our copy stays open until then. */
  const handedOff = new Map<number, { socket: Socket; worker: Worker }>();
  const waiting: Socket[] = [];
  let seq = 0;
  let turn = 0;
  let stopping = false;

  const release = (id: number) => {
    const h = handedOff.get(id);
    if (!h) return;
    handedOff.delete(id);
    // Closes only this process's descriptor: the connection lives on in the worker that took it,
    // and ends (the client sees it close) when no worker has it.
    h.socket.destroy();
  };

  const nextWorker = (): Worker | undefined => {
    for (let tried = 0; tried < ready.length; tried++) {
      const w = ready[turn++ % ready.length]!;
      if (w.isConnected()) return w;
    }
    return undefined;
  };

  const handOff = (socket: Socket) => {
    if (socket.destroyed) return;
    const worker = nextWorker();
    if (!worker) {
      if (stopping || waiting.length >= MAX_WAITING) socket.destroy();
      else waiting.push(socket);
      return;
    }
    const id = ++seq;
    handedOff.set(id, { socket, worker });
    // keepOpen: this process closes its copy itself (release). Left to child_process (keepOpen false)
    // it is closed on the worker's acknowledgement too, and never when a handle still queued behind
    // another meets a dead worker: the same hang (seen with a stopped, then killed worker).
    worker.send({ oai: 'connection', id } satisfies Message, socket, { keepOpen: true }, (err) => {
      if (!err) return;
      // Not sent (the worker's channel closed meanwhile): no worker has read from it, so another may take it.
      handedOff.delete(id);
      handOff(socket);
    });
  };

  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (msg: unknown) => {
      if (!isMessage(msg)) return;
      if (msg.oai === 'taken') release(msg.id);
      else if (msg.oai === 'ready') {
        ready.push(worker);
        for (const socket of waiting.splice(0)) handOff(socket);
      }
    });
    worker.on('exit', (code, signal) => {
      const i = ready.indexOf(worker);
      if (i >= 0) ready.splice(i, 1);
      for (const [id, h] of handedOff) if (h.worker === worker) release(id);
      if (!stopping) {
        logger.error({ pid: worker.process.pid, code, signal }, 'gateway worker died; starting another');
        fork();
      }
    });
  };

  // pauseOnConnect: this process never reads a byte; the worker reads the request from the start.
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    socket.on('error', () => {}); // a client that resets while its connection waits; the worker sees its own copy's errors
    handOff(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'gateway listener error'));
  for (let i = 0; i < opts.workers; i++) fork();

  return {
    async stop() {
      stopping = true;
      server.close();
      for (const socket of waiting.splice(0)) socket.destroy();
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
      const exited = Promise.all(workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve())))));
      for (const w of workers) w.process.kill('SIGTERM');
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.stopTimeoutMs ?? 15_000)))]);
      clearTimeout(timer);
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
      for (const id of [...handedOff.keys()]) release(id);
    },
  };
}

export interface GatewayWorker {
  /** Takes no more connections, lets requests in progress finish (up to `stopTimeoutMs`), then closes the rest. */
  stop(): Promise<void>;
}

/** In a worker: serves `fetch` on the connections the primary hands over, and tells it when ready. */
export function serveGatewayWorker(fetch: (request: Request) => Response | Promise<Response>, opts: { stopTimeoutMs?: number } = {}): GatewayWorker {
  const server = createAdaptorServer({ fetch }) as HttpServer;
  const sockets = new Set<Socket>();
  let stopping = false;
  process.on('message', (msg: unknown, socket?: Socket) => {
    if (!isMessage(msg) || msg.oai !== 'connection') return;
    if (socket) {
      if (stopping) socket.destroy();
      else {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        server.emit('connection', socket);
        socket.resume();
      }
    }
    // Now the primary may close its copy: this process holds the connection.
    process.send?.({ oai: 'taken', id: msg.id } satisfies Message);
  });
  process.send?.({ oai: 'ready' } satisfies Message);
  return {
    async stop() {
      stopping = true;
      server.close(); // no listener to close; stops the server's timers and closes idle keep-alive connections
      const deadline = performance.now() + (opts.stopTimeoutMs ?? 10_000);
      // A kept-alive connection becomes idle once its request in progress is answered.
      while (sockets.size > 0 && performance.now() < deadline) {
        server.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const socket of sockets) socket.destroy();
    },
  };
}
