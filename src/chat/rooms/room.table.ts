import { col, table, type RecordOf } from '../../db/table';
import type { RoomType } from '../types';

export const roomsTable = table('rooms', {
  id: col.uuid(),
  type: col.enum<RoomType>('room_type'),
  name: col.varchar().nullable(),
  /** The creator's company at creation; who may join or see the room is judged against it. */
  companyId: col.uuid().nullable(),
  createdById: col.uuid('created_by').nullable(),
  /** DIRECT rooms only: the pair's ids in ascending order, unique together. */
  directUserLow: col.uuid().nullable(),
  directUserHigh: col.uuid().nullable(),
  /** The seq of the newest message; the next one gets lastSeq + 1 under this row's lock. */
  lastSeq: col.int(),
  createdAt: col.timestamptz(),
  updatedAt: col.timestamptz(),
  lastMessageAt: col.timestamptz().nullable(),
});

export type Room = RecordOf<typeof roomsTable>;
