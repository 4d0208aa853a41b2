import { col, table, type RecordOf } from '../../db/table';

export const reactionsTable = table('message_reactions', {
  id: col.uuid(),
  messageId: col.uuid(),
  userId: col.uuid(),
  reaction: col.varchar(),
  createdAt: col.timestamptz(),
});

export type Reaction = RecordOf<typeof reactionsTable>;
