import { col, table, type RecordOf } from '../../db/table';
import type { MemberRole } from '../types';

export const membersTable = table('room_members', {
  id: col.uuid(),
  roomId: col.uuid(),
  userId: col.uuid(),
  role: col.enum<MemberRole>('member_role'),
  isActive: col.bool(),
  joinedAt: col.timestamptz(),
  lastReadAt: col.timestamptz().nullable(),
  removedAt: col.timestamptz().nullable(),
  /** The version of its latest change (src/chat/changes/versions.ts). */
  version: col.bigint(),
  /** The version at which the member left (or was removed); null while active. */
  leftVersion: col.bigint().nullable(),
});

export type Member = RecordOf<typeof membersTable>;
