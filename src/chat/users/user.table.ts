import { col, table, type RecordOf } from '../../db/table';

/** A person seen in a token (`sub`), or named by someone who has (then with no name yet). */
export const usersTable = table('users', {
  id: col.uuid(),
  displayName: col.varchar().nullable(),
  companyId: col.uuid().nullable(),
  /** When a token of theirs was first (or last differently) seen; null for users only ever named by others. */
  seenAt: col.timestamptz().nullable(),
  createdAt: col.timestamptz(),
  updatedAt: col.timestamptz(),
});

export type User = RecordOf<typeof usersTable>;

/** What the API shows of a user; statements that join users bring this much. */
export type UserView = Pick<User, 'id' | 'displayName' | 'companyId'>;
