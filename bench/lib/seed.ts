import { Client } from 'pg';
import { BENCH_UUID_SQL, benchUuid } from './common';

/**
 * Who is who in the seeded data. Users are `bench_uuid('u', i)`, rooms `bench_uuid('r', k)`,
 * all of one company, each user named `User i` (the token claims match, so auth writes nothing).
 */
export const PEOPLE = {
  /** History readers, members of HIST. */
  history: range(0, 10),
  /** Inbox readers, each in the 60 inbox rooms. */
  inbox: range(10, 20),
  /** Senders: send user j is OWNER of SEND_j and a member of HIST. */
  send: range(20, 40),
  deepReader: 40,
  fanoutSender: 41,
  memoryOwner: 42,
  /** Socket users start here. */
  socketBase: 1000,
};

export const ROOMS = {
  hist: benchUuid('r', 0),
  deep: benchUuid('r', 1),
  fanout: benchUuid('r', 2),
  memory: benchUuid('r', 3),
  inbox: (k: number) => benchUuid('r', 100 + k),
  send: (j: number) => benchUuid('r', 200 + j),
};

export const COMPANY = benchUuid('c', 0);
export const INBOX_ROOMS = 60;
export const SEND_ROOMS = 20;
/** Subscribers of the mixed scenario are socket users 0..mixedSubscribers-1, spread over the send rooms. */

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

export const userId = (i: number) => benchUuid('u', i);
export const userName = (i: number) => `User ${i}`;

export interface SeedSize {
  histMessages: number;
  deepMessages: number;
  /** Socket users (the larger of the fan-out and memory socket counts). */
  socketUsers: number;
  fanoutMembers: number;
  memoryMembers: number;
  mixedSubscribers: number;
}

/** Seeds with set-based SQL (generate_series), after the server has migrated the schema. */
export async function seed(url: string, size: SeedSize, log: (line: string) => void): Promise<void> {
  const db = new Client({ connectionString: url });
  await db.connect();
  const q = async (label: string, sql: string, params: unknown[] = []) => {
    const t = Date.now();
    const r = await db.query(sql, params);
    log(`  seed ${label}: ${r.rowCount ?? 0} rows, ${Date.now() - t} ms`);
  };
  try {
    await db.query(BENCH_UUID_SQL);
    const maxUser = PEOPLE.socketBase + size.socketUsers;
    await q(
      'users',
      `INSERT INTO users (id, display_name, company_id, created_at, updated_at)
       SELECT bench_uuid('u', i), 'User ' || i, $1, now() - interval '30 days', now() - interval '30 days'
       FROM generate_series(0, $2 - 1) i WHERE i < 100 OR i >= $3`,
      [COMPANY, maxUser, PEOPLE.socketBase],
    );
    // Rooms: HIST 0, DEEP 1, FANOUT 2, MEMORY 3, inbox 100.., send 200..
    await q(
      'rooms',
      `INSERT INTO rooms (id, type, name, company_id, created_by, created_at, updated_at)
       SELECT bench_uuid('r', k), 'GROUP'::room_type, 'Room ' || k, $1::uuid, bench_uuid('u', owner), now() - interval '30 days', now() - interval '30 days'
       FROM (VALUES (0, 0), (1, 40), (2, 41), (3, 42)) AS v(k, owner)
       UNION ALL SELECT bench_uuid('r', 100 + k), 'GROUP', 'Inbox ' || k, $1, bench_uuid('u', 10), now() - interval '30 days' + k * interval '1 minute', now() - interval '30 days'
       FROM generate_series(0, $2 - 1) k
       UNION ALL SELECT bench_uuid('r', 200 + j), 'GROUP', 'Send ' || j, $1, bench_uuid('u', 20 + j), now() - interval '30 days', now() - interval '30 days'
       FROM generate_series(0, $3 - 1) j`,
      [COMPANY, INBOX_ROOMS, SEND_ROOMS],
    );
    await q(
      'members',
      `INSERT INTO room_members (room_id, user_id, role, joined_at)
       SELECT room, usr, (CASE WHEN first THEN 'OWNER' ELSE 'MEMBER' END)::member_role, now() - interval '30 days'
       FROM (
         -- HIST: history readers (0 OWNER) and senders
         SELECT bench_uuid('r', 0) room, bench_uuid('u', i) usr, i = 0 first FROM generate_series(0, 9) i
         UNION ALL SELECT bench_uuid('r', 0), bench_uuid('u', i), false FROM generate_series(20, 39) i
         -- DEEP: reader 40 (OWNER) and history readers as senders
         UNION ALL SELECT bench_uuid('r', 1), bench_uuid('u', 40), true
         UNION ALL SELECT bench_uuid('r', 1), bench_uuid('u', i), false FROM generate_series(0, 9) i
         -- FANOUT: sender 41 (OWNER) and the first fanoutMembers socket users
         UNION ALL SELECT bench_uuid('r', 2), bench_uuid('u', 41), true
         UNION ALL SELECT bench_uuid('r', 2), bench_uuid('u', $1 + i), false FROM generate_series(0, $2 - 1) i
         -- MEMORY: owner 42 and the first memoryMembers socket users
         UNION ALL SELECT bench_uuid('r', 3), bench_uuid('u', 42), true
         UNION ALL SELECT bench_uuid('r', 3), bench_uuid('u', $1 + i), false FROM generate_series(0, $3 - 1) i
         -- INBOX rooms: inbox readers (10 OWNER) and users 0..4
         UNION ALL SELECT bench_uuid('r', 100 + k), bench_uuid('u', i), i = 10
           FROM generate_series(0, $4 - 1) k, (SELECT generate_series(10, 19) UNION ALL SELECT generate_series(0, 4)) AS u(i)
         -- SEND rooms: sender j OWNER, plus the mixed scenario's subscribers spread over them
         UNION ALL SELECT bench_uuid('r', 200 + j), bench_uuid('u', 20 + j), true FROM generate_series(0, $5 - 1) j
         UNION ALL SELECT bench_uuid('r', 200 + (i % $5)), bench_uuid('u', $1 + i), false FROM generate_series(0, $6 - 1) i
       ) AS m(room, usr, first)`,
      [PEOPLE.socketBase, size.fanoutMembers, size.memoryMembers, INBOX_ROOMS, SEND_ROOMS, size.mixedSubscribers],
    );
    // HIST: messages from its members, 0-3 reactions each.
    await seedMessages(q, 0, size.histMessages, `(ARRAY[0,1,2,3,4,5,6,7,8,9,20,21,22,23,24])[1 + s % 15]`);
    await q(
      'HIST reactions',
      `INSERT INTO message_reactions (message_id, user_id, reaction, created_at)
       SELECT m.id, bench_uuid('u', h), (ARRAY['👍', '❤️', '😂'])[1 + (m.seq + h) % 3], m.created_at + h * interval '1 second'
       FROM messages m CROSS JOIN LATERAL generate_series(0, m.seq % 4 - 1) h
       WHERE m.room_id = $1`,
      [ROOMS.hist],
    );
    // DEEP: a long history.
    await seedMessages(q, 1, size.deepMessages, `(ARRAY[40,0,1,2,3,4,5,6,7,8,9])[1 + s % 11]`);
    // INBOX rooms: 20 messages each; readers have read the first 10.
    await q(
      'inbox messages',
      `INSERT INTO messages (room_id, sender_id, type, content, seq, created_at)
       SELECT bench_uuid('r', 100 + k), bench_uuid('u', (ARRAY[10,11,12,0,1])[1 + s % 5]), 'TEXT',
         'Inbox ' || k || ' message ' || s, s, now() - interval '1 day' + k * interval '1 minute' + s * interval '1 second'
       FROM generate_series(0, $1 - 1) k, generate_series(1, 20) s`,
      [INBOX_ROOMS],
    );
    await q(
      'inbox read state',
      `UPDATE room_members rm SET last_read_at = m.created_at FROM messages m
       WHERE m.room_id = rm.room_id AND m.seq = 10 AND rm.room_id = ANY($1::uuid[])`,
      [Array.from({ length: INBOX_ROOMS }, (_, k) => ROOMS.inbox(k))],
    );
    await q(
      'room last_seq',
      `UPDATE rooms r SET last_seq = x.seq, last_message_at = x.at
       FROM (SELECT room_id, max(seq) seq, max(created_at) at FROM messages GROUP BY room_id) x WHERE x.room_id = r.id`,
    );
    await q('analyze', `ANALYZE`);
  } finally {
    await db.end();
  }
}

async function seedMessages(
  q: (label: string, sql: string, params?: unknown[]) => Promise<void>,
  room: number,
  count: number,
  senderExpr: string,
): Promise<void> {
  await q(
    `room ${room} messages`,
    `INSERT INTO messages (room_id, sender_id, type, content, seq, created_at)
     SELECT bench_uuid('r', $1), bench_uuid('u', ${senderExpr}), 'TEXT',
       'Message ' || s || ': the quick brown fox jumps over the lazy dog', s,
       now() - interval '10 days' + s * interval '1 millisecond'
     FROM generate_series(1, $2::int) s`,
    [room, count],
  );
}
