import { col, table, type RecordOf } from '../../db/table';
import type { MessageType } from '../types';

export const messagesTable = table('messages', {
  id: col.uuid(),
  roomId: col.uuid(),
  /** Null for SYSTEM messages. */
  senderId: col.uuid().nullable(),
  type: col.enum<MessageType>('message_type'),
  /** Wiped when the message is deleted. */
  content: col.text().nullable(),
  /** Wiped when the message is deleted. */
  metadata: col.jsonb<Record<string, unknown>>().nullable(),
  clientId: col.varchar().nullable(),
  seq: col.int(),
  createdAt: col.timestamptz(),
  editedAt: col.timestamptz().nullable(),
  isDeleted: col.bool(),
  deletedAt: col.timestamptz().nullable(),
  /** The version of its latest change (src/chat/changes/versions.ts); a bigint, as a string. */
  version: col.bigint(),
  /** How many times it changed (1 when sent): two versions of one message compare by it (src/chat/changes/cursor.ts). */
  revision: col.int(),
  /** The thread root this message replies to; null for a top-level message. */
  parentId: col.uuid().nullable(),
  /** A reply also shown in the room's history. */
  alsoInRoom: col.bool(),
  /** Replies that are not deleted (thread roots only). */
  replyCount: col.int(),
  lastReplyAt: col.timestamptz().nullable(),
  pinnedAt: col.timestamptz().nullable(),
  pinnedById: col.uuid('pinned_by').nullable(),
  /** What search matches: generated from the content by PostgreSQL. */
  search: col.tsvector(),
});

export type Message = RecordOf<typeof messagesTable>;
