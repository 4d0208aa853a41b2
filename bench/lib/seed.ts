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
  /** The scale scenario's sender, OWNER of the SCALE rooms. */
  scaleSender: 43,
  /** The noisy scenario: the attacker (a member of NOISY), the editor (its OWNER) and the other members. */
  attacker: 50,
  editor: 51,
  noisyMembers: range(52, 64),
  /** Socket users start here. */
  socketBase: 1000,
};

export const ROOMS = {
  hist: benchUuid('r', 0),
  deep: benchUuid('r', 1),
  fanout: benchUuid('r', 2),
  memory: benchUuid('r', 3),
  noisy: benchUuid('r', 4),
  /** The noisy scenario's attack rooms (seedNoisyAttacks): F2's words, F3's read page, F4's live room, F6's replay. */
  attackWords: benchUuid('r', 6),
  attackReads: benchUuid('r', 7),
  attackLive: benchUuid('r', 8),
  attackReplay: benchUuid('r', 9),
  inbox: (k: number) => benchUuid('r', 100 + k),
  send: (j: number) => benchUuid('r', 200 + j),
  /** The scale scenario's rooms of SCALE.subscribers members each (room 0: its one-room figures). */
  scale: (r: number) => benchUuid('r', 300 + r),
  /** The scale scenario's other rooms, watched by idle sockets, SCALE.perOtherRoom members each. */
  other: (j: number) => benchUuid('r', 10_000 + j),
};

/**
 * The scale scenario: socket users 0..others-1 are the idle "other" sockets, in
 * OTHER rooms of `perOtherRoom` each (user i in other room floor(i / perOtherRoom));
 * after them, `subscribers` members of each of the `rooms` SCALE rooms. Each design
 * it compares sends into rooms of its own (a room's messages are one seq: a stream
 * that sees a gap reads it from storage), so SCALE rooms come in sets of `rooms`:
 * set d is rooms d * rooms ... (d + 1) * rooms - 1, room r of every set with the same members.
 */
export const SCALE = { rooms: 6, subscribers: 100, perOtherRoom: 10 };
/** The socket user (offset from PEOPLE.socketBase) of subscriber `j` of SCALE room `r`, when `others` other sockets are seeded. */
export const scaleSubscriber = (others: number, r: number, j: number) => others + r * SCALE.subscribers + j;
/** Socket users the scale scenario needs. */
export const scaleSocketUsers = (others: number) => others + SCALE.rooms * SCALE.subscribers;

export const COMPANY = benchUuid('c', 0);
export const INBOX_ROOMS = 60;
export const SEND_ROOMS = 20;
/** Messages of the NOISY room, all by the editor (the noisy scenario edits them round-robin). */
export const NOISY_MESSAGES = 20;
/**
 * Search words in the seeded content: COMMON in every 1,000th message of the HIST
 * and DEEP rooms, RARE in 5 messages of each (whatever its size); neither occurs elsewhere.
 */
export const SEARCH_WORDS = { common: 'walrus', rare: 'quokka' };
/**
 * 25 more rare words (issue 17's `or` of 25): each in 4 messages of each of HIST
 * and DEEP, and OTHER_COMPANY's room says them all the time (each in 1 of its
 * 25 messages: rare for the whole table, 125,000 entries in all when full).
 */
export const SEARCH_RARE_WORDS = range(0, 25).map((i) => `zq${i}`);
/** Another company, with one room that none of ours can see (its messages are seeded only with `otherCompanyMessages`). */
export const OTHER_COMPANY = { company: benchUuid('c', 1), owner: benchUuid('u', 999_999), room: benchUuid('r', 5) };
/** Subscribers of the mixed scenario are socket users 0..mixedSubscribers-1, spread over the send rooms. */

/**
 * The noisy scenario's attacks of issue 17 (F2, F3, F4, F6), each in rooms of
 * the attacker's. CROWD users (no tokens: members only) fill the big rooms.
 */
export const NOISY_ATTACK = {
  /** F2: messages of `wordsPerMessage` one-letter words ('a'), in a room of the attacker alone. */
  wordMessages: 100,
  wordsPerMessage: 2_000,
  /** F3 and F4: rooms of this many members (the editor, OWNER; the attacker; the rest crowd users). */
  crowdMembers: 3_001,
  /** F3: messages of its room, every one read by some of its members (read positions spread over them). */
  readMessages: 200,
  /** F6: messages of its room (the attacker replays them from the first). */
  replayMessages: 400_000,
  replayMessagesQuick: 40_000,
};
/** Crowd user i is `bench_uuid('u', CROWD_BASE + i)`, of our company. */
const CROWD_BASE = 100_000;

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

export const userId = (i: number) => benchUuid('u', i);
export const userName = (i: number) => `User ${i}`;

/** What the seed's versions look like (the changes scenario pages from `changesSince`). */
export interface SeedInfo {
  /**
   * The version just before the memberships block: after it come every membership,
   * then the inbox rooms' messages, interleaved across the rooms (version order is
   * (s, k): message 1 of every inbox room, then message 2...).
   */
  changesSince: string;
  /** The largest version seeded (the sequence is set to it). */
  lastVersion: string;
}

export interface SeedSize {
  histMessages: number;
  deepMessages: number;
  /** Socket users (the larger of the fan-out and memory socket counts). */
  socketUsers: number;
  fanoutMembers: number;
  memoryMembers: number;
  mixedSubscribers: number;
  /** The scale scenario's idle other sockets, and its sets of SCALE.rooms rooms (none when absent). */
  scaleOthers?: number;
  scaleRoomSets?: number;
  /** Messages of OTHER_COMPANY's room (search: another company's occurrences of our rare words). */
  otherCompanyMessages?: number;
}

/**
 * Seeds with set-based SQL (generate_series), after the server has migrated the schema.
 * Every seeded message and membership gets its own version (`version` is the changes
 * feed's order, src/chat/changes/versions.ts), in the order of the inserts below,
 * and the version sequence is set past them.
 */
export async function seed(url: string, size: SeedSize, log: (line: string) => void): Promise<SeedInfo> {
  const db = new Client({ connectionString: url });
  await db.connect();
  /** The last version given so far; each insert numbers its rows from `version + 1`. */
  let version = 0;
  const q = async (label: string, sql: string, params: unknown[] = []) => {
    const t = Date.now();
    const r = await db.query(sql, params);
    log(`  seed ${label}: ${r.rowCount ?? 0} rows, ${Date.now() - t} ms`);
    return r.rowCount ?? 0;
  };
  /** An insert whose rows take versions `$1 + 1 ...` (the statement numbers them with its `$1`). */
  const versioned = async (label: string, sql: string, params: unknown[] = []) => {
    const rows = await q(label, sql, [version, ...params]);
    version += rows;
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
    // Rooms: HIST 0, DEEP 1, FANOUT 2, MEMORY 3, NOISY 4, inbox 100.., send 200..
    await q(
      'rooms',
      `INSERT INTO rooms (id, type, name, company_id, created_by, created_at, updated_at)
       SELECT bench_uuid('r', k), 'GROUP'::room_type, 'Room ' || k, $1::uuid, bench_uuid('u', owner), now() - interval '30 days', now() - interval '30 days'
       FROM (VALUES (0, 0), (1, 40), (2, 41), (3, 42), (4, ${PEOPLE.editor})) AS v(k, owner)
       UNION ALL SELECT bench_uuid('r', 100 + k), 'GROUP', 'Inbox ' || k, $1, bench_uuid('u', 10), now() - interval '30 days' + k * interval '1 minute', now() - interval '30 days'
       FROM generate_series(0, $2 - 1) k
       UNION ALL SELECT bench_uuid('r', 200 + j), 'GROUP', 'Send ' || j, $1, bench_uuid('u', 20 + j), now() - interval '30 days', now() - interval '30 days'
       FROM generate_series(0, $3 - 1) j
       UNION ALL SELECT bench_uuid('r', 300 + r), 'GROUP', 'Scale ' || r, $1, bench_uuid('u', $6), now() - interval '30 days', now() - interval '30 days'
       FROM generate_series(0, $4 - 1) r
       UNION ALL SELECT bench_uuid('r', 10000 + j), 'GROUP', 'Other ' || j, $1, bench_uuid('u', $6), now() - interval '30 days', now() - interval '30 days'
       FROM generate_series(0, $5 - 1) j`,
      [COMPANY, INBOX_ROOMS, SEND_ROOMS, (size.scaleRoomSets ?? 0) * SCALE.rooms, Math.ceil((size.scaleOthers ?? 0) / SCALE.perOtherRoom), PEOPLE.scaleSender],
    );
    // HIST: messages from its members, 0-3 reactions each.
    version += await seedMessages(q, version, 0, size.histMessages, `(ARRAY[0,1,2,3,4,5,6,7,8,9,20,21,22,23,24])[1 + s % 15]`);
    await q(
      'HIST reactions',
      `INSERT INTO message_reactions (message_id, user_id, reaction, created_at)
       SELECT m.id, bench_uuid('u', h), (ARRAY['👍', '❤️', '😂'])[1 + (m.seq + h) % 3], m.created_at + h * interval '1 second'
       FROM messages m CROSS JOIN LATERAL generate_series(0, m.seq % 4 - 1) h
       WHERE m.room_id = $1`,
      [ROOMS.hist],
    );
    // DEEP: a long history.
    version += await seedMessages(q, version, 1, size.deepMessages, `(ARRAY[40,0,1,2,3,4,5,6,7,8,9])[1 + s % 11]`);
    if (size.otherCompanyMessages) {
      // OTHER_COMPANY: its owner and room, and messages saying our rare words (before the memberships: no version order depends on them).
      await q(
        'other company',
        `WITH u AS (INSERT INTO users (id, display_name, company_id, created_at, updated_at) VALUES ($1, 'Other company owner', $2, now() - interval '30 days', now() - interval '30 days'))
         INSERT INTO rooms (id, type, name, company_id, created_by, created_at, updated_at) VALUES ($3, 'GROUP', 'Other company', $2, $1, now() - interval '30 days', now() - interval '30 days')`,
        [OTHER_COMPANY.owner, OTHER_COMPANY.company, OTHER_COMPANY.room],
      );
      await versioned(
        'other company messages',
        `INSERT INTO messages (room_id, sender_id, type, content, seq, created_at, version)
         SELECT $2::uuid, $3::uuid, 'TEXT', 'Other company message ' || s || ' on ' || ($5::text[])[1 + s % 25] || CASE WHEN s % 31 = 0 THEN ' quokka' ELSE '' END,
           s, now() - interval '10 days' + s * interval '1 millisecond', $1 + s
         FROM generate_series(1, $4::int) s`,
        [OTHER_COMPANY.room, OTHER_COMPANY.owner, size.otherCompanyMessages, SEARCH_RARE_WORDS],
      );
      await versioned(
        'other company owner',
        `INSERT INTO room_members (room_id, user_id, role, joined_at, version) VALUES ($2, $3, 'OWNER', now() - interval '30 days', $1 + 1)`,
        [OTHER_COMPANY.room, OTHER_COMPANY.owner],
      );
    }
    const changesSince = version;
    // Memberships, after the messages above (so a feed from changesSince starts with them).
    await versioned(
      'members',
      `INSERT INTO room_members (room_id, user_id, role, joined_at, version)
       SELECT room, usr, (CASE WHEN first THEN 'OWNER' ELSE 'MEMBER' END)::member_role, now() - interval '30 days', $1 + row_number() OVER ()
       FROM (
         -- HIST: history readers (0 OWNER) and senders
         SELECT bench_uuid('r', 0) room, bench_uuid('u', i) usr, i = 0 first FROM generate_series(0, 9) i
         UNION ALL SELECT bench_uuid('r', 0), bench_uuid('u', i), false FROM generate_series(20, 39) i
         -- DEEP: reader 40 (OWNER) and history readers as senders
         UNION ALL SELECT bench_uuid('r', 1), bench_uuid('u', 40), true
         UNION ALL SELECT bench_uuid('r', 1), bench_uuid('u', i), false FROM generate_series(0, 9) i
         -- FANOUT: sender 41 (OWNER) and the first fanoutMembers socket users
         UNION ALL SELECT bench_uuid('r', 2), bench_uuid('u', 41), true
         UNION ALL SELECT bench_uuid('r', 2), bench_uuid('u', $2 + i), false FROM generate_series(0, $3 - 1) i
         -- MEMORY: owner 42 and the first memoryMembers socket users
         UNION ALL SELECT bench_uuid('r', 3), bench_uuid('u', 42), true
         UNION ALL SELECT bench_uuid('r', 3), bench_uuid('u', $2 + i), false FROM generate_series(0, $4 - 1) i
         -- NOISY: the editor (OWNER), the attacker and a dozen others
         UNION ALL SELECT bench_uuid('r', 4), bench_uuid('u', ${PEOPLE.editor}), true
         UNION ALL SELECT bench_uuid('r', 4), bench_uuid('u', i), false FROM unnest($7::int[]) i
         -- INBOX rooms: inbox readers (10 OWNER) and users 0..4
         UNION ALL SELECT bench_uuid('r', 100 + k), bench_uuid('u', i), i = 10
           FROM generate_series(0, $5 - 1) k, (SELECT generate_series(10, 19) UNION ALL SELECT generate_series(0, 4)) AS u(i)
         -- SEND rooms: sender j OWNER, plus the mixed scenario's subscribers spread over them
         UNION ALL SELECT bench_uuid('r', 200 + j), bench_uuid('u', 20 + j), true FROM generate_series(0, $6 - 1) j
         UNION ALL SELECT bench_uuid('r', 200 + (i % $6)), bench_uuid('u', $2 + i), false FROM generate_series(0, $8 - 1) i
       ) AS m(room, usr, first)`,
      [PEOPLE.socketBase, size.fanoutMembers, size.memoryMembers, INBOX_ROOMS, SEND_ROOMS, [PEOPLE.attacker, ...PEOPLE.noisyMembers], size.mixedSubscribers],
    );
    // INBOX rooms: 20 messages each, versions interleaved across the rooms; readers have read the first 10.
    await versioned(
      'inbox messages',
      `INSERT INTO messages (room_id, sender_id, type, content, seq, created_at, version)
       SELECT bench_uuid('r', 100 + k), bench_uuid('u', (ARRAY[10,11,12,0,1])[1 + s % 5]), 'TEXT',
         'Inbox ' || k || ' message ' || s, s, now() - interval '1 day' + k * interval '1 minute' + s * interval '1 second',
         $1 + (s - 1) * $2 + k + 1
       FROM generate_series(0, $2 - 1) k, generate_series(1, 20) s`,
      [INBOX_ROOMS],
    );
    // A reaction or two on every third inbox message (the changes page selects them).
    await q(
      'inbox reactions',
      `INSERT INTO message_reactions (message_id, user_id, reaction, created_at)
       SELECT m.id, bench_uuid('u', 10 + h), (ARRAY['👍', '🎉'])[1 + h], m.created_at + (h + 1) * interval '1 second'
       FROM messages m CROSS JOIN LATERAL generate_series(0, m.seq % 2) h
       WHERE m.room_id = ANY($1::uuid[]) AND m.seq % 3 = 0`,
      [Array.from({ length: INBOX_ROOMS }, (_, k) => ROOMS.inbox(k))],
    );
    await q(
      'inbox read state',
      `UPDATE room_members rm SET last_read_at = m.created_at FROM messages m
       WHERE m.room_id = rm.room_id AND m.seq = 10 AND rm.room_id = ANY($1::uuid[])`,
      [Array.from({ length: INBOX_ROOMS }, (_, k) => ROOMS.inbox(k))],
    );
    // NOISY: messages by the editor, edited round-robin by the noisy scenario.
    await versioned(
      'NOISY messages',
      `INSERT INTO messages (room_id, sender_id, type, content, seq, created_at, version)
       SELECT $2::uuid, $3::uuid, 'TEXT', 'Noisy message ' || s, s, now() - interval '1 hour' + s * interval '1 second', $1 + s
       FROM generate_series(1, $4::int) s`,
      [ROOMS.noisy, userId(PEOPLE.editor), NOISY_MESSAGES],
    );
    if (size.scaleRoomSets) {
      // SCALE rooms: the sender (OWNER) and SCALE.subscribers members each; OTHER rooms: the idle sockets' users.
      await versioned(
        'scale members',
        `INSERT INTO room_members (room_id, user_id, role, joined_at, version)
         SELECT room, usr, role, now() - interval '30 days', $1 + row_number() OVER ()
         FROM (
           SELECT bench_uuid('r', 300 + r) room, bench_uuid('u', $2::int) usr, 'OWNER'::member_role role FROM generate_series(0, $3::int - 1) r
           UNION ALL SELECT bench_uuid('r', 300 + i / $4::int), bench_uuid('u', $5::int + $6::int + i % ($8::int * $4::int)), 'MEMBER' FROM generate_series(0, $3::int * $4::int - 1) i
           UNION ALL SELECT bench_uuid('r', 10000 + i / $7::int), bench_uuid('u', $5::int + i), 'MEMBER' FROM generate_series(0, $6::int - 1) i
         ) AS m(room, usr, role)`,
        [PEOPLE.scaleSender, size.scaleRoomSets * SCALE.rooms, SCALE.subscribers, PEOPLE.socketBase, size.scaleOthers ?? 0, SCALE.perOtherRoom, SCALE.rooms],
      );
    }
    await q(
      'room last_seq',
      `UPDATE rooms r SET last_seq = x.seq, last_message_at = x.at
       FROM (SELECT room_id, max(seq) seq, max(created_at) at FROM messages GROUP BY room_id) x WHERE x.room_id = r.id`,
    );
    // The feed sees seeded rows only if the sequence is past them (a fresh number must be larger).
    await q('version sequence', `SELECT setval('change_version_seq', $1::bigint)`, [Math.max(version, 1)]);
    // Bulk inserts leave the search index's new entries in its pending list (scanned, not searched,
    // until a vacuum): fold them in, as a vacuumed production table has them.
    // Every GIN index on messages, whatever the migrations call it (messages_search_idx, messages_room_search_idx, then
    // messages_room_words_idx, which keeps no pending list: nothing to fold).
    await q(
      'search index pending list',
      `SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
       WHERE i.indrelid = 'messages'::regclass AND a.amname = 'gin'`,
    );
    await q('analyze', `ANALYZE`);
    return { changesSince: String(changesSince), lastVersion: String(version) };
  } finally {
    await db.end();
  }
}

/**
 * `count` messages in room `room`, versions `base + 1 ...` in seq order; SEARCH_WORDS.common
 * in every 1,000th, SEARCH_WORDS.rare in 5 of them and each of SEARCH_RARE_WORDS in 4 of them
 * (spread over the room). Returns `count`.
 */
async function seedMessages(
  q: (label: string, sql: string, params?: unknown[]) => Promise<number>,
  base: number,
  room: number,
  count: number,
  senderExpr: string,
): Promise<number> {
  if (count === 0) return 0;
  const rareEvery = Math.max(1, Math.floor(count / 5));
  const rareSetEvery = Math.max(1, Math.floor(count / (4 * SEARCH_RARE_WORDS.length)));
  await q(
    `room ${room} messages`,
    `INSERT INTO messages (room_id, sender_id, type, content, seq, created_at, version)
     SELECT bench_uuid('r', $1), bench_uuid('u', ${senderExpr}), 'TEXT',
       'Message ' || s || ': the quick brown ' || CASE WHEN s % 1000 = 0 THEN $4 ELSE 'fox' END
         || ' jumps over the lazy ' || CASE WHEN s % $6::int = $6::int / 2 + 1 THEN $5 ELSE 'dog' END
         || CASE WHEN s % $7::int = 3 THEN ' ' || ($8::text[])[1 + (s / $7::int) % 25] ELSE '' END, s,
       now() - interval '10 days' + s * interval '1 millisecond', $3::bigint + s
     FROM generate_series(1, $2::int) s`,
    [room, count, base, SEARCH_WORDS.common, SEARCH_WORDS.rare, rareEvery, rareSetEvery, SEARCH_RARE_WORDS],
  );
  return count;
}

/**
 * The noisy scenario's attack rooms, seeded when it starts (so the scenarios
 * before it see the same data with or without it): the crowd users; F2's room
 * (the attacker, OWNER, and its messages of one-letter words); F3's and F4's
 * rooms of NOISY_ATTACK.crowdMembers members; F3's messages with every member's
 * read position somewhere among them (member i has read up to message
 * 1 + i mod readMessages); F6's room of `replayMessages` messages (the editor
 * OWNER, the attacker a member). Versions from the sequence, as a write takes
 * them. Answers the id of F6's first message (its `since`).
 */
export async function seedNoisyAttacks(url: string, replayMessages: number, log: (line: string) => void): Promise<{ replayFrom: string }> {
  const db = new Client({ connectionString: url });
  await db.connect();
  const q = async (label: string, sql: string, params: unknown[] = []) => {
    const t = Date.now();
    const r = await db.query(sql, params);
    log(`  seed ${label}: ${r.rowCount ?? 0} rows, ${Date.now() - t} ms`);
    return r;
  };
  const a = NOISY_ATTACK;
  const crowd = a.crowdMembers - 2;
  try {
    await q(
      'noisy attack: crowd users',
      `INSERT INTO users (id, display_name, company_id, created_at, updated_at)
       SELECT bench_uuid('u', $2 + i), 'User ' || ($2 + i), $1, now() - interval '30 days', now() - interval '30 days' FROM generate_series(0, $3 - 1) i`,
      [COMPANY, CROWD_BASE, crowd],
    );
    await q(
      'noisy attack: rooms',
      `INSERT INTO rooms (id, type, name, company_id, created_by, created_at, updated_at)
       SELECT id, 'GROUP', name, $1, owner, now() - interval '30 days', now() - interval '30 days'
       FROM (VALUES ($2::uuid, 'F2 words', $6::uuid), ($3, 'F3 reads', $7), ($4, 'F4 live', $7), ($5, 'F6 replay', $7)) AS v(id, name, owner)`,
      [COMPANY, ROOMS.attackWords, ROOMS.attackReads, ROOMS.attackLive, ROOMS.attackReplay, userId(PEOPLE.attacker), userId(PEOPLE.editor)],
    );
    await q(
      'noisy attack: members',
      `INSERT INTO room_members (room_id, user_id, role, joined_at, version)
       SELECT room, usr, role, now() - interval '30 days', nextval('change_version_seq')
       FROM (
         SELECT $1::uuid room, $5::uuid usr, 'OWNER'::member_role role
         UNION ALL SELECT r, $6, 'OWNER' FROM unnest(ARRAY[$2, $3, $4]::uuid[]) r
         UNION ALL SELECT r, $5, 'MEMBER' FROM unnest(ARRAY[$2, $3, $4]::uuid[]) r
         UNION ALL SELECT r, bench_uuid('u', $7 + i), 'MEMBER' FROM unnest(ARRAY[$2, $3]::uuid[]) r, generate_series(0, $8 - 1) i
       ) AS m(room, usr, role)`,
      [ROOMS.attackWords, ROOMS.attackReads, ROOMS.attackLive, ROOMS.attackReplay, userId(PEOPLE.attacker), userId(PEOPLE.editor), CROWD_BASE, crowd],
    );
    /** `count` messages one millisecond apart, the last `endsAgo` ago. */
    const messages = async (label: string, room: string, sender: number, count: number, endsAgo: string, content: string, params: unknown[] = []) =>
      q(
        `noisy attack: ${label}`,
        `INSERT INTO messages (room_id, sender_id, type, content, seq, created_at, version)
         SELECT $1::uuid, $2::uuid, 'TEXT', ${content}, s, now() - $4::interval - ($3 - s) * interval '1 millisecond', nextval('change_version_seq')
         FROM generate_series(1, $3::int) s ORDER BY s`,
        [room, userId(sender), count, endsAgo, ...params],
      );
    // F2's are the attacker's newest messages: a search that walks rooms newest first stops at the
    // newest point where a room's share ran out, and F6's long history must not end after them.
    await messages('F2 messages', ROOMS.attackWords, PEOPLE.attacker, a.wordMessages, '1 minute', `$5::text`, [Array(a.wordsPerMessage).fill('a').join(' ')]);
    await messages('F3 messages', ROOMS.attackReads, PEOPLE.editor, a.readMessages, '1 day', `'Read me ' || s`);
    await messages('F6 messages', ROOMS.attackReplay, PEOPLE.editor, replayMessages, '2 days', `'Replay message ' || s`);
    await q(
      'noisy attack: F3 read positions',
      `UPDATE room_members rm SET last_read_at = m.created_at
       FROM (SELECT rm2.id, 1 + (row_number() OVER (ORDER BY rm2.id) - 1) % $2 AS upto FROM room_members rm2 WHERE rm2.room_id = $1) p
       JOIN messages m ON m.room_id = $1 AND m.seq = p.upto
       WHERE rm.id = p.id`,
      [ROOMS.attackReads, a.readMessages],
    );
    await q(
      'noisy attack: rooms last_seq',
      `UPDATE rooms r SET last_seq = x.seq, last_message_at = x.at
       FROM (SELECT room_id, max(seq) seq, max(created_at) at FROM messages WHERE room_id = ANY($1::uuid[]) GROUP BY room_id) x WHERE x.room_id = r.id`,
      [[ROOMS.attackWords, ROOMS.attackReads, ROOMS.attackReplay]],
    );
    await q('noisy attack: analyze', `ANALYZE users, rooms, room_members, messages`);
    const { rows } = await db.query(`SELECT id FROM messages WHERE room_id = $1 AND seq = 1`, [ROOMS.attackReplay]);
    return { replayFrom: rows[0].id as string };
  } finally {
    await db.end();
  }
}
