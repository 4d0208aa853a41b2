import { col, table, type RecordOf } from '../../db/table';

/** A user a message mentions; the message's room and time are copied in for the mention pages and counts. */
export const mentionsTable = table('message_mentions', {
  messageId: col.uuid(),
  userId: col.uuid(),
  roomId: col.uuid(),
  createdAt: col.timestamptz(),
  /** Order of the mention in the message's list. */
  position: col.int(),
});

export type Mention = RecordOf<typeof mentionsTable>;
