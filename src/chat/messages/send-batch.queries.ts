import type { Database } from '../../db/database';
import { grantedSql, Permission } from '../access/permissions';
import { visibleMembershipSql } from '../access/visibility';
import { NEXT_VERSION } from '../changes/versions';
import { admitSql, type RateLimit } from '../limits/rate-limit.repository';
import { SLOW_MODE_ACTION } from '../limits/slow-mode';
import { RateLimitedAction } from '../types';
import { SENDER } from './message-rows';
import { outcomeOf, type NewMessage, type SendOutcome, type SendRow } from './send-outcome';

/**
 * A plain send: no reply, mention or upload (those take the one-send
 * statement, which locks their rows too). Only these are sent together.
 */
export function isPlainSend(input: NewMessage): boolean {
  return input.parentId === null && input.mentionIds.length === 0 && input.attachmentIds.length === 0;
}

/**
 * Several plain sends in ONE statement (src/chat/messages/send-batcher.ts
 * gathers them): the one-send statement's rule (send.queries.ts), row by row.
 * Each input row gets one result row (`n`, its place in the input) with the
 * same columns the one-send statement returns, so the same outcomeOf reads it.
 *
 * A sender appears once per room (the batcher's rule): a rate-limit key
 * appears once (ON CONFLICT updates a row once per statement). A clientId used
 * twice (one sender, two rooms) fails the statement on the unique key, and the
 * batcher sends each again alone.
 * Rooms are locked first, all of them (the count orders the memberships'
 * locks after the last room's) and in id order, so two of these statements
 * never wait on each other's rooms in a cycle; memberships are only
 * share-locked (batches never wait on each other there); the rate limits'
 * rows each belong to a room this statement holds. The messages' unique key
 * (sender, clientId) is the one place left where two batches could wait on
 * each other crosswise (two senders each reusing a clientId in another room,
 * in two batches at once): a server never runs two sends of one sender at
 * once, so it takes two servers and two such senders; PostgreSQL then ends
 * one batch as a deadlock after deadlock_timeout, and its sends go again
 * alone (send-batcher.ts). Inserting in key order instead would put a room's
 * outbox rows out of seq order. Against the
 * one-send statement and moderation the order is theirs: rooms, then
 * memberships. (Leaving and marking a room read lock the membership alone,
 * in one statement that holds nothing else: either may wait for the other,
 * never in a cycle.)
 * A room with k sends here moves its seq by k at once: its sends get the next
 * k numbers in input order (their arrival: sendMany keeps it within a room),
 * committed together under the room's lock, so the seq stays gap-free and in
 * commit order, and the answers, given in arrival order, come in seq order.
 */
export function sendManySql(MESSAGE: string): string {
  return `WITH input AS (
      SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::message_type[], $4::text[], $5::jsonb[], $6::varchar[], $7::uuid[])
        WITH ORDINALITY AS i(room_id, sender_id, type, content, metadata, client_id, company_id, n)
    ),
    -- Looked up by key for each send (the lateral's OFFSET keeps it so, whatever the statistics say).
    first AS (
      SELECT m.*, i.n AS input_n FROM input i
      CROSS JOIN LATERAL (
        SELECT * FROM messages m WHERE m.sender_id = i.sender_id AND m.client_id = i.client_id AND m.client_id IS NOT NULL OFFSET 0
      ) m
    ),
    locked AS (
      SELECT id, slow_mode_seconds FROM rooms
      WHERE id IN (SELECT i.room_id FROM input i WHERE NOT EXISTS (SELECT 1 FROM first f WHERE f.input_n = i.n))
      ORDER BY id
      FOR NO KEY UPDATE
    ),
    -- Each sender's membership, looked up by its key and share-locked row by row. The lateral keeps that plan whatever
    -- the statistics say (joined the other way round, a room of many members would be read whole for each batch).
    visible AS (
      SELECT i.n, ${grantedSql(Permission.SendMessage, 'r', 'rm')} AS may_send, rm.muted_until,
        ${grantedSql(Permission.SkipSlowMode, 'r', 'rm')} AS skips_slow_mode
      FROM input i
      JOIN rooms r ON r.id = i.room_id
      CROSS JOIN LATERAL (
        SELECT * FROM room_members m WHERE m.room_id = i.room_id AND m.user_id = i.sender_id FOR SHARE
      ) rm
      WHERE ${visibleMembershipSql('rm', 'r', 'i.company_id')} AND (SELECT count(*) FROM locked) >= 0
        AND (EXISTS (SELECT 1 FROM first f WHERE f.input_n = i.n) OR EXISTS (SELECT 1 FROM locked l WHERE l.id = i.room_id))
    ),
    allowed AS (
      SELECT v.n, v.skips_slow_mode FROM visible v WHERE v.may_send AND NOT EXISTS (SELECT 1 FROM first f WHERE f.input_n = v.n)
    ),
    slowed_down AS (
      SELECT a.n FROM allowed a JOIN input i ON i.n = a.n JOIN locked l ON l.id = i.room_id
      WHERE l.slow_mode_seconds > 0 AND NOT a.skips_slow_mode
    ),
    slow AS (
      ${admitSql(
        {
          user: 'i.sender_id',
          scope: 'i.room_id',
          action: `'${SLOW_MODE_ACTION}'`,
          window: '(SELECT slow_mode_seconds FROM locked WHERE id = rl.scope_id)',
          max: '1',
        },
        'true',
        { from: 'slowed_down s JOIN input i ON i.n = s.n' },
      )}
    ),
    admitted AS (
      ${admitSql(
        { user: 'i.sender_id', scope: 'i.room_id', action: `'${RateLimitedAction.MESSAGE}'`, window: '$8', max: '$9' },
        `(a.n NOT IN (SELECT n FROM slowed_down) OR EXISTS (SELECT 1 FROM slow WHERE slow.user_id = i.sender_id AND slow.scope_id = i.room_id))`,
        { from: 'allowed a JOIN input i ON i.n = a.n' },
      )}
    ),
    going AS (
      SELECT i.*, row_number() OVER (PARTITION BY i.room_id ORDER BY i.n) AS k, count(*) OVER (PARTITION BY i.room_id) AS c
      FROM input i JOIN admitted a ON a.user_id = i.sender_id AND a.scope_id = i.room_id
    ),
    room AS (
      UPDATE rooms r SET last_seq = r.last_seq + g.c, updated_at = clock_timestamp(), last_message_at = clock_timestamp()
      FROM (SELECT DISTINCT room_id, c FROM going) g WHERE r.id = g.room_id
      RETURNING r.id, r.last_seq
    ),
    sent AS (
      INSERT INTO messages (room_id, sender_id, type, content, metadata, client_id, seq, parent_id, also_in_room, version)
      SELECT g.room_id, g.sender_id, g.type, g.content, g.metadata, g.client_id, r.last_seq - g.c + g.k, NULL, false, ${NEXT_VERSION}
      FROM going g JOIN room r ON r.id = g.room_id
      -- In seq order within each room: the rows' triggers (the webhook outbox) see a room's messages in its order.
      ORDER BY g.n
      RETURNING *
    )
    SELECT i.n, ${MESSAGE}, ${SENDER}, m.outcome, v.n IS NOT NULL AS visible, v.may_send, v.muted_until,
      EXISTS (SELECT 1 FROM slowed_down s WHERE s.n = i.n)
        AND NOT EXISTS (SELECT 1 FROM slow WHERE slow.user_id = i.sender_id AND slow.scope_id = i.room_id) AS slowed,
      l.slow_mode_seconds, true AS parent_ok, NULL::uuid AS root_id, true AS attachments_ok
    FROM input i
    LEFT JOIN visible v ON v.n = i.n
    LEFT JOIN locked l ON l.id = i.room_id
    LEFT JOIN LATERAL (
      SELECT 'sent' AS outcome, s.*, NULL::bigint AS input_n FROM sent s WHERE s.sender_id = i.sender_id AND s.room_id = i.room_id
      UNION ALL
      SELECT 'first', f.* FROM first f WHERE f.input_n = i.n
    ) m ON true
    LEFT JOIN users u ON u.id = m.sender_id
    ORDER BY i.n`;
}

/** Runs the statement of sendManySql for `inputs` (plain sends, one per sender and room) under one rate limit; one outcome per input, in order. */
export async function sendMany(db: Database, text: string, given: readonly NewMessage[], limit: RateLimit): Promise<SendOutcome[]> {
  // By room, and within a room in arrival order: the order of their seqs.
  const order = given.map((_, i) => i).sort((a, b) => compare(given[a].roomId, given[b].roomId) || a - b);
  const inputs = order.map((i) => given[i]);
  const rows = await db.query<SendRow & { n: string; input_n?: unknown }>(text, [
    inputs.map((i) => i.roomId),
    inputs.map((i) => i.senderId),
    inputs.map((i) => i.type),
    inputs.map((i) => i.content),
    inputs.map((i) => (i.metadata === null ? null : JSON.stringify(i.metadata))),
    inputs.map((i) => i.clientId),
    inputs.map((i) => i.senderCompanyId),
    limit.windowSeconds,
    limit.max,
  ]);
  if (rows.length !== inputs.length) throw new Error(`A batch of ${inputs.length} sends returned ${rows.length} rows`);
  const outcomes: SendOutcome[] = new Array(given.length);
  for (const { n, input_n: _i, ...row } of rows) outcomes[order[Number(n) - 1]] = outcomeOf(row as SendRow);
  return outcomes;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
