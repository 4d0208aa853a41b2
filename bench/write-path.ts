/**
 * The write path's ceiling in PostgreSQL, for the capacity model (docs/scale.md):
 * our send statement (`messages.sendMessage`: visibility, rate limit,
 * the room's seq under its row lock, the change's position (no lock: src/chat/changes/versions.ts), the insert)
 * against a plain insert that takes only the room's seq (no version, no rate
 * limit: what the baseline server does), by 20 concurrent callers for 5 s each:
 * into 20 rooms (one each), then all into ONE room (the per-room seq lock).
 * Each caller sends as 1,000 users in turn, so the rate limit is the production
 * default and admits every send (a limit of a billion per second instead
 * would keep a hundred admissions in each user's window: work no deployment does).
 * Our send as the server makes it (SEND_BATCH_CONCURRENCY, default 4: plain
 * sends that wait for a free statement go to the database together, in one
 * statement: src/chat/messages/send-batcher.ts), and each send alone (0).
 * Then our send again on connections of a server with webhooks on (WEBHOOK_URLS:
 * the outbox trigger writes a row per message in the send's transaction).
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node -r @swc-node/register bench/write-path.ts
 * Creates and drops a throwaway database.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/db/data-source';
import { createRepositories } from '../src/chat/chat-repositories';
import { DEFAULT_SEND_BATCHING } from '../src/chat/messages/send-batcher';
import { MessageType } from '../src/chat/types';
import { runOnScratchDatabase } from './lib/scratch-database';

const CALLERS = 20;
/** Senders per caller, taken in turn: at up to ~1,000 sends/s a caller's users stay within the production MESSAGE_RATE_LIMIT (20 per 10 s). */
const USERS_PER_CALLER = 1000;
const LIMIT = { max: 20, windowSeconds: 10 };
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 5);

const PLAIN_SEND = `
WITH r AS (UPDATE rooms SET last_seq = last_seq + 1, last_message_at = clock_timestamp() WHERE id = $1 RETURNING last_seq)
INSERT INTO messages (room_id, sender_id, type, content, seq) SELECT $1, $2, 'TEXT', $3, last_seq FROM r RETURNING id`;

async function run(label: string, send: (caller: number, i: number) => Promise<unknown>): Promise<{ perSec: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      for (let i = 0; performance.now() < until; i++) {
        const started = performance.now();
        await send(caller, i);
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const result = { perSec: latencies.length / SECONDS, p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)] };
  console.log(`${label.padEnd(52)} ${result.perSec.toFixed(0).padStart(6)} sends/s   p50 ${result.p50.toFixed(1)} ms   p99 ${result.p99.toFixed(1)} ms`);
  return result;
}

runOnScratchDatabase('chat_write_path', async (url) => {
  const { dataSource, db } = await openDatabase({ url });
  // The same database seen by a server with WEBHOOK_URLS: its connections turn the outbox triggers on.
  const hooked = await openDatabase({ url, webhooks: true });
  try {
    const users = Array.from({ length: CALLERS }, () => Array.from({ length: USERS_PER_CALLER }, () => randomUUID()));
    const rooms = Array.from({ length: CALLERS }, () => randomUUID());
    const everyone = users.flat();
    await db.query(`INSERT INTO users (id, display_name) SELECT u, 'User' FROM unnest($1::uuid[]) u`, [everyone]);
    await db.query(`INSERT INTO rooms (id, type, name, last_seq) SELECT r, 'GROUP', 'room', 0 FROM unnest($1::uuid[]) r`, [rooms]);
    // Each caller's users in its own room, and all of them in the first (the one-room runs).
    const memberships = users.flatMap((us, c) => us.flatMap((u) => (c === 0 ? [[rooms[0], u]] : [[rooms[c], u], [rooms[0], u]])));
    await db.query(
      `INSERT INTO room_members (room_id, user_id, role, version) SELECT r, u, 'MEMBER', 0 FROM unnest($1::uuid[], $2::uuid[]) AS k(r, u)`,
      [memberships.map((m) => m[0]), memberships.map((m) => m[1])],
    );
    // The server's default: plain sends that wait for a free statement go together (src/chat/messages/send-batcher.ts).
    const batching = { ...DEFAULT_SEND_BATCHING, concurrency: Number(process.env.SEND_BATCH_CONCURRENCY ?? DEFAULT_SEND_BATCHING.concurrency) };
    const { messages } = createRepositories(db, { sendBatching: batching });
    const alone = createRepositories(db, { sendBatching: { ...batching, concurrency: 0 } }).messages;
    const withHooks = createRepositories(hooked.db, { sendBatching: batching }).messages;
    const ours = (roomOf: (caller: number) => string, repo = messages) => async (caller: number, i: number) => {
      const outcome = await repo.sendMessage(
        {
          roomId: roomOf(caller),
          senderId: users[caller][i % USERS_PER_CALLER],
          senderCompanyId: null,
          type: MessageType.TEXT,
          content: `message ${i}`,
          metadata: null,
          clientId: null,
          parentId: null,
          alsoInRoom: false,
          mentionIds: [],
          attachmentIds: [],
        },
        LIMIT,
      );
      // Every send of the run is stored: a refusal would be a run that measured less work.
      if (outcome.kind !== 'sent') throw new Error(`a send was not stored: ${outcome.kind}`);
    };
    const plain = (roomOf: (caller: number) => string) => (caller: number, i: number) => db.query(PLAIN_SEND, [roomOf(caller), users[caller][i % USERS_PER_CALLER], `message ${i}`]);
    console.log(`${CALLERS} callers, each sending as ${USERS_PER_CALLER} users in turn (MESSAGE_RATE_LIMIT ${LIMIT.max}/${LIMIT.windowSeconds} s, the default), ${SECONDS} s per run, pool of 20 (the server's)`);
    for (let round = 1; round <= 2; round++) {
      console.log(`round ${round}`);
      const plainMany = await run('plain insert (seq only), 20 rooms', plain((c) => rooms[c]));
      const oursMany = await run(`our send (batching ${batching.concurrency}), 20 rooms`, ours((c) => rooms[c]));
      const aloneMany = await run('our send, each alone (batching 0), 20 rooms', ours((c) => rooms[c], alone));
      const plainOne = await run('plain insert (seq only), 1 room', plain(() => rooms[0]));
      const oursOne = await run(`our send (batching ${batching.concurrency}), 1 room`, ours(() => rooms[0]));
      const aloneOne = await run('our send, each alone (batching 0), 1 room', ours(() => rooms[0], alone));
      console.log(`  ours/plain: 20 rooms ${(oursMany.perSec / plainMany.perSec).toFixed(2)}x, 1 room ${(oursOne.perSec / plainOne.perSec).toFixed(2)}x`);
      console.log(`  each alone/plain: 20 rooms ${(aloneMany.perSec / plainMany.perSec).toFixed(2)}x, 1 room ${(aloneOne.perSec / plainOne.perSec).toFixed(2)}x`);
      const hooksMany = await run('our send, webhooks on (outbox row), 20 rooms', ours((c) => rooms[c], withHooks));
      const hooksOne = await run('our send, webhooks on (outbox row), 1 room', ours(() => rooms[0], withHooks));
      console.log(`  webhooks on/off: 20 rooms ${(hooksMany.perSec / oursMany.perSec).toFixed(2)}x, 1 room ${(hooksOne.perSec / oursOne.perSec).toFixed(2)}x`);
    }
  } finally {
    await dataSource.destroy().catch(() => {});
    await hooked.dataSource.destroy().catch(() => {});
  }
});
