/**
 * The ceiling: a plain Node http + pg server that answers the same JSON as the
 * chat API for the bench's operations from hand-written SQL (one statement each),
 * plus a bare graphql-ws server on the same port that pushes the same
 * messageAdded payload. Same token check (HS256), same pool size, no ORM, no
 * GraphQL execution over HTTP, no rate limit, no per-event membership re-check.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { Pool } from 'pg';
import { WebSocketServer } from 'ws';
import { extractBearer, verifyToken, type VerifiedToken } from '../../src/auth/token';
import { CursorCodec } from '../../src/chat/changes/cursor';
import { webSearchQuery } from '../../src/chat/search/search.service';
import { snippetHtml } from '../../src/chat/search/snippet';
import { memoryAfterGc, nowMs, serve } from '../lib/common';

const secret = process.env.JWT_SECRET as string;
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20, application_name: 'bench-baseline' });
let statements = 0;
const query = <T = any>(sql: string, params: unknown[]) => {
  statements += 1;
  return pool.query(sql, params).then((r) => r.rows as T[]);
};

const HISTORY_SQL = `
WITH me AS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2 AND is_active),
page AS (
  SELECT m.* FROM messages m
  WHERE m.room_id = $1 AND NOT m.is_deleted AND EXISTS (SELECT 1 FROM me) AND (m.parent_id IS NULL OR m.also_in_room)
    AND ($3::uuid IS NULL OR m.seq < (SELECT seq FROM messages WHERE id = $3 AND room_id = $1))
  ORDER BY m.seq DESC LIMIT $4)
SELECT p.id, p.seq, p.type, p.content, p.metadata, p.client_id, p.created_at, p.edited_at, p.is_deleted,
  p.sender_id, u.display_name, p.reply_count, p.pinned_at,
  (SELECT count(*)::int FROM room_members x
   WHERE x.room_id = $1 AND x.is_active AND x.user_id IS DISTINCT FROM p.sender_id AND x.last_read_at >= p.created_at) AS read_count,
  (SELECT coalesce(json_agg(json_build_object('id', mu.id, 'displayName', mu.display_name) ORDER BY mm.position), '[]')
   FROM message_mentions mm JOIN users mu ON mu.id = mm.user_id WHERE mm.message_id = p.id) AS mentions,
  (SELECT coalesce(json_agg(json_build_object('reaction', r.reaction, 'count', r.n, 'reactedByMe', r.mine) ORDER BY r.first), '[]')
   FROM (SELECT reaction, count(*)::int AS n, bool_or(user_id = $2) AS mine, min(created_at) AS first
         FROM message_reactions WHERE message_id = p.id GROUP BY reaction) r) AS reactions
FROM page p LEFT JOIN users u ON u.id = p.sender_id
ORDER BY p.seq DESC`;

const INBOX_SQL = `
SELECT r.id, r.type, r.name, r.last_message_at, count(*) OVER ()::int AS total,
  (SELECT count(*)::int FROM room_members x WHERE x.room_id = r.id AND x.is_active) AS member_count,
  (SELECT count(*)::int FROM messages m2 WHERE m2.room_id = r.id AND m2.created_at > coalesce(rm.last_read_at, '-infinity')
     AND m2.sender_id IS DISTINCT FROM rm.user_id AND NOT m2.is_deleted) AS unread,
  lm.id AS lm_id, lm.seq AS lm_seq, lm.content AS lm_content, lm.created_at AS lm_created_at,
  lm.sender_id AS lm_sender_id, u.display_name AS lm_sender_name
FROM room_members rm JOIN rooms r ON r.id = rm.room_id
LEFT JOIN LATERAL (SELECT * FROM messages m WHERE m.room_id = r.id AND NOT m.is_deleted ORDER BY m.seq DESC LIMIT 1) lm ON true
LEFT JOIN users u ON u.id = lm.sender_id
WHERE rm.user_id = $1 AND rm.is_active
ORDER BY r.last_message_at DESC NULLS LAST, r.created_at DESC, r.id
LIMIT $2 OFFSET $3`;

const SEND_SQL = `
WITH me AS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2 AND is_active),
r AS (UPDATE rooms SET last_seq = last_seq + 1, last_message_at = clock_timestamp(), updated_at = clock_timestamp()
      WHERE id = $1 AND EXISTS (SELECT 1 FROM me) RETURNING last_seq),
ins AS (INSERT INTO messages (room_id, sender_id, type, content, client_id, seq)
        SELECT $1, $2, 'TEXT', $3, $4, last_seq FROM r
        ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING RETURNING *)
SELECT ins.id, ins.seq, ins.content, ins.client_id, ins.created_at, ins.sender_id, u.display_name
FROM ins LEFT JOIN users u ON u.id = ins.sender_id`;

/**
 * Search: the caller's visible rooms, the GIN index for the query's words in
 * those rooms (`<room key><word>`, migration 1765317000000), newest 20 by
 * (created_at, id), with their senders. Snippets are computed in JS with the
 * server's own function (as ours does: PostgreSQL's ts_headline differs).
 */
const SEARCH_SQL = `
WITH visible AS (SELECT rm.room_id FROM room_members rm JOIN rooms r ON r.id = rm.room_id
                 WHERE rm.user_id = $1 AND rm.is_active AND r.company_id IS NOT DISTINCT FROM $3::uuid)
SELECT m.id, m.seq, m.content, m.created_at, m.sender_id, u.display_name
FROM (SELECT x.id, x.seq, x.content, x.created_at, x.sender_id FROM messages x
      WHERE chat_room_words(x.room_id, x.search) && (SELECT array_agg(chat_room_key(v.room_id) || w.lexeme) FROM visible v,
              unnest(tsvector_to_array(to_tsvector('simple', querytree(websearch_to_tsquery('simple', $2))))) AS w(lexeme))
        AND x.search @@ websearch_to_tsquery('simple', $2) AND NOT x.is_deleted
        AND x.room_id IN (SELECT room_id FROM visible)
      ORDER BY x.created_at DESC, x.id DESC LIMIT $4) m
LEFT JOIN users u ON u.id = m.sender_id
ORDER BY m.created_at DESC, m.id DESC`;

/**
 * The changes feed's page in one statement: up to limit + 1 messages (one index
 * range scan per room the caller sees or has left, up to the moment of leaving)
 * and memberships after the version, both cut at the smaller of their
 * limit-th versions when either had more; a row per message (with its reactions
 * summed), a row per membership, and always one row (kind null) when both are empty.
 */
const CHANGES_SQL = `
WITH mine AS (
  SELECT rm.room_id, rm.is_active, rm.left_version FROM room_members rm JOIN rooms r ON r.id = rm.room_id
  WHERE rm.user_id = $1 AND (rm.is_active OR rm.left_version IS NOT NULL) AND r.company_id IS NOT DISTINCT FROM $2::uuid),
msgs AS (
  SELECT m.id, m.seq, m.content, m.is_deleted, m.edited_at, m.revision, m.version FROM mine
  CROSS JOIN LATERAL (SELECT x.id, x.seq, x.content, x.is_deleted, x.edited_at, x.revision, x.version FROM messages x
    WHERE x.room_id = mine.room_id AND x.version > $3::bigint AND (mine.is_active OR x.version < mine.left_version)
    ORDER BY x.version LIMIT $4::int + 1) m
  ORDER BY m.version LIMIT $4::int + 1),
mems AS (
  SELECT rm.id, rm.role, rm.is_active, rm.version FROM room_members rm JOIN rooms r ON r.id = rm.room_id
  WHERE rm.user_id = $1 AND r.company_id IS NOT DISTINCT FROM $2::uuid AND rm.version > $3::bigint
  ORDER BY rm.version LIMIT $4::int + 1),
cut AS (
  SELECT least(
      CASE WHEN (SELECT count(*) FROM msgs) > $4 THEN (SELECT version FROM msgs ORDER BY version OFFSET $4::int - 1 LIMIT 1) END,
      CASE WHEN (SELECT count(*) FROM mems) > $4 THEN (SELECT version FROM mems ORDER BY version OFFSET $4::int - 1 LIMIT 1) END) AS until,
    (SELECT count(*) FROM msgs) > $4 OR (SELECT count(*) FROM mems) > $4 AS has_more),
page AS (
  SELECT 'm' AS kind, p.id, p.seq, p.content, p.is_deleted, p.edited_at, p.revision, NULL::member_role AS role, NULL::boolean AS is_active, p.version
  FROM (SELECT msgs.* FROM msgs, cut WHERE cut.until IS NULL OR msgs.version <= cut.until ORDER BY msgs.version LIMIT $4) p
  UNION ALL
  SELECT 'r', p.id, NULL, NULL, NULL, NULL, NULL, p.role, p.is_active, p.version
  FROM (SELECT mems.* FROM mems, cut WHERE cut.until IS NULL OR mems.version <= cut.until ORDER BY mems.version LIMIT $4) p)
SELECT page.kind, page.id, page.seq, page.content, page.is_deleted, page.edited_at, page.revision, page.role, page.is_active, page.version::text AS version, cut.has_more,
  CASE WHEN page.kind = 'm' THEN
    (SELECT coalesce(json_agg(json_build_object('reaction', s.reaction, 'count', s.n) ORDER BY s.first, s.first_id), '[]')
     FROM (SELECT reaction, count(*)::int AS n, min(created_at) AS first, min(id::text) AS first_id
           FROM message_reactions WHERE message_id = page.id GROUP BY reaction) s)
  END AS reactions
FROM cut LEFT JOIN page ON true
ORDER BY page.kind, page.version`;

const cursors = new CursorCodec(secret);

const iso = (d: Date | null) => (d === null ? null : d.toISOString());
const notFound = (what: string) => ({ errors: [{ message: `${what} not found`, extensions: { code: 'NOT_FOUND' } }], data: null });

type Handler = (userId: string, variables: any, token: VerifiedToken) => Promise<unknown>;

const handlers: Record<string, Handler> = {
  async HistoryPage(userId, v) {
    const rows = await query(HISTORY_SQL, [v.roomId, userId, v.before ?? null, v.limit ?? 50]);
    if (rows.length === 0) {
      const member = await query(`SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2 AND is_active`, [v.roomId, userId]);
      if (member.length === 0) return notFound('Room');
    }
    return {
      data: {
        messages: rows.map((r) => ({
          id: r.id,
          seq: r.seq,
          type: r.type,
          content: r.content,
          metadata: r.metadata,
          clientId: r.client_id,
          createdAt: iso(r.created_at),
          editedAt: iso(r.edited_at),
          isEdited: r.edited_at !== null,
          isDeleted: r.is_deleted,
          replyCount: r.reply_count,
          pinnedAt: iso(r.pinned_at),
          readCount: r.read_count,
          sender: r.sender_id === null ? null : { id: r.sender_id, displayName: r.display_name },
          mentions: r.mentions,
          reactions: r.reactions,
        })),
      },
    };
  },
  async Inbox(userId, v) {
    const pageSize = v.pageSize ?? 20;
    const page = v.page ?? 1;
    const rows = await query(INBOX_SQL, [userId, pageSize, (page - 1) * pageSize]);
    const total = rows[0]?.total ?? 0;
    return {
      data: {
        rooms: {
          total,
          page,
          pageSize,
          pages: Math.ceil(total / pageSize),
          items: rows.map((r) => ({
            id: r.id,
            type: r.type,
            name: r.name,
            lastMessageAt: iso(r.last_message_at),
            memberCount: r.member_count,
            unreadCount: r.unread,
            lastMessage:
              r.lm_id === null
                ? null
                : {
                    id: r.lm_id,
                    seq: r.lm_seq,
                    content: r.lm_content,
                    createdAt: iso(r.lm_created_at),
                    sender: r.lm_sender_id === null ? null : { id: r.lm_sender_id, displayName: r.lm_sender_name },
                  },
          })),
        },
      },
    };
  },
  async Search(userId, v, token) {
    const rows = await query(SEARCH_SQL, [userId, webSearchQuery(v.query), token.companyId, v.limit ?? 20]);
    return {
      data: {
        searchMessages: rows.map((r) => ({
          snippet: snippetHtml(r.content ?? '', v.query),
          message: {
            id: r.id,
            seq: r.seq,
            content: r.content,
            createdAt: iso(r.created_at),
            sender: r.sender_id === null ? null : { id: r.sender_id, displayName: r.display_name },
          },
        })),
      },
    };
  },
  async Changes(userId, v, token) {
    const limit = v.limit ?? 200;
    const since = cursors.decode(v.since, 'since');
    const rows = await query(CHANGES_SQL, [userId, token.companyId, since, limit]);
    let newest = BigInt(since);
    const messages = [];
    const memberships = [];
    for (const r of rows) {
      if (r.kind === null) continue;
      const version = BigInt(r.version);
      if (version > newest) newest = version;
      if (r.kind === 'm') {
        messages.push({
          id: r.id,
          seq: r.seq,
          content: r.content,
          isDeleted: r.is_deleted,
          editedAt: iso(r.edited_at),
          version: cursors.encodeVersion(r.revision, version),
          reactions: r.reactions,
        });
      } else {
        memberships.push({ id: r.id, role: r.role, isActive: r.is_active });
      }
    }
    return { data: { changes: { cursor: cursors.encode(newest), hasMore: rows[0].has_more, messages, memberships } } };
  },
  async Send(userId, v) {
    const input = v.input;
    const [row] = await query(SEND_SQL, [input.roomId, userId, input.content, input.clientId ?? null]);
    if (!row) return notFound('Room');
    const message = {
      id: row.id,
      seq: row.seq,
      content: row.content,
      clientId: row.client_id,
      createdAt: iso(row.created_at),
      sender: { id: row.sender_id, displayName: row.display_name },
    };
    published.set(message.id, nowMs());
    const { clientId: _c, ...payload } = message;
    for (const queue of rooms.get(input.roomId) ?? []) queue.push({ messageAdded: payload });
    return { data: { sendMessage: message } };
  },
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer(async (req, res) => {
  try {
    if (req.method !== 'POST' || req.url !== '/graphql') return reply(res, 404, { error: 'not found' });
    const { operationName, variables } = JSON.parse(await readBody(req));
    const handler = handlers[operationName as string];
    if (!handler) return reply(res, 400, { errors: [{ message: `unknown operation ${operationName}` }] });
    const token = extractBearer(req.headers.authorization);
    if (!token) return reply(res, 200, { errors: [{ message: 'unauthenticated', extensions: { code: 'UNAUTHENTICATED' } }] });
    const verified = await verifyToken(secret, token);
    reply(res, 200, await handler(verified.userId, variables ?? {}, verified));
  } catch (error) {
    reply(res, 500, { errors: [{ message: (error as Error).message }] });
  }
});

/** A subscriber's queue, read by graphql-ws as the subscription's async iterator. */
class Queue implements AsyncIterableIterator<unknown> {
  private items: unknown[] = [];
  private waiter: ((r: IteratorResult<unknown>) => void) | null = null;
  private done = false;
  constructor(private readonly onDone: () => void) {}
  push(item: unknown) {
    if (this.done) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: item, done: false });
    } else this.items.push(item);
  }
  next(): Promise<IteratorResult<unknown>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift(), done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }
  return(): Promise<IteratorResult<unknown>> {
    if (!this.done) {
      this.done = true;
      this.onDone();
      this.waiter?.({ value: undefined, done: true });
      this.waiter = null;
    }
    return Promise.resolve({ value: undefined, done: true });
  }
  [Symbol.asyncIterator]() {
    return this;
  }
}

const rooms = new Map<string, Set<Queue>>();
let subscribers = 0;
let published = new Map<string, number>();

const schema = buildSchema(`
  type User { id: ID! displayName: String }
  type Message { id: ID! seq: Int! content: String createdAt: String! sender: User }
  type Query { ok: Boolean }
  type Subscription { messageAdded(roomId: ID!): Message! }
`);

const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: 64 * 1024 });
useServer<Record<string, unknown>, { userId?: string }>(
  {
    schema,
    onConnect: async (ctx) => {
      const raw = ctx.connectionParams?.authorization;
      const token = extractBearer(raw);
      if (!token) return false;
      try {
        ctx.extra.userId = (await verifyToken(secret, token)).userId;
        return true;
      } catch {
        return false;
      }
    },
    context: (ctx) => ({ userId: ctx.extra.userId }),
    roots: {
      subscription: {
        messageAdded: async ({ roomId }: { roomId: string }, context: { userId: string }) => {
          const member = await query(`SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2 AND is_active`, [roomId, context.userId]);
          if (member.length === 0) throw new Error('Room not found');
          let set = rooms.get(roomId);
          if (!set) rooms.set(roomId, (set = new Set()));
          const queue: Queue = new Queue(() => {
            set.delete(queue);
            subscribers -= 1;
          });
          set.add(queue);
          subscribers += 1;
          return queue;
        },
      },
    },
  },
  wss,
  12_000,
);

server.listen(0, '127.0.0.1', () => {
  serve(
    {
      mem: memoryAfterGc,
      cpu: () => process.cpuUsage(),
      subscribers: () => subscribers,
      statements: () => statements,
      published: () => {
        const result = Object.fromEntries(published);
        published = new Map();
        return result;
      },
    },
    async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
      await pool.end();
    },
  );
  process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
});
