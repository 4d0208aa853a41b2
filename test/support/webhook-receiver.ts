import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './server';

/** One POST a receiver got: the raw body (what the signature covers) and its parse. */
export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { id: string; type: string; createdAt: string; roomId: string; data: Record<string, any> };
  at: number;
}

/**
 * A real HTTP receiver on loopback that records every POST. `answer` decides
 * each reply (a status, after an optional delay); `stop()` and `start()` take
 * it down and bring it back on the same port.
 */
export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** Every POST seen, accepted or not (`received` keeps only those answered 2xx). */
  attempts: Received[];
  answer: (hit: Received) => { status: number; delayMs?: number } | Promise<{ status: number; delayMs?: number }>;
  /** Calls told of each request as it arrives, before it is answered. */
  onRequest: ((hit: Received) => void) | null;
  /** The accepted events of one room, in the order they arrived. */
  ofRoom(roomId: string): Received[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function webhookReceiver(): Promise<WebhookReceiver> {
  let server: Server | null = null;
  let port = 0;
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    attempts: [],
    answer: () => ({ status: 204 }),
    onRequest: null,
    ofRoom: (roomId) => receiver.received.filter((r) => r.body.roomId === roomId),
    async stop() {
      if (!server) return;
      const closing = server;
      server = null;
      closing.closeAllConnections();
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    async start() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', async () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const hit: Received = { headers: req.headers, raw, body: JSON.parse(raw), at: Date.now() };
          receiver.attempts.push(hit);
          receiver.onRequest?.(hit);
          const { status, delayMs = 0 } = await receiver.answer(hit);
          if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
          if (res.destroyed) return;
          if (status >= 200 && status < 300) receiver.received.push(hit);
          res.writeHead(status).end();
        });
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
      receiver.url = `http://127.0.0.1:${port}/hooks`;
    },
  };
  await receiver.start();
  onCleanup(() => receiver.stop());
  return receiver;
}
