import { col, table, type RecordOf } from '../../db/table';

/** An earlier version of a message: the content an edit replaced, and when. */
export const editsTable = table('message_edits', {
  id: col.uuid(),
  messageId: col.uuid(),
  content: col.text(),
  replacedAt: col.timestamptz(),
});

export type MessageEdit = RecordOf<typeof editsTable>;
