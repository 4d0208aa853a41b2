import { InitialSchema1764300000000 } from './1764300000000-initial-schema';
import { CompanyScopeAndRateLimits1764900000000 } from './1764900000000-company-scope-and-rate-limits';
import { ChangesAndSearch1765000000000 } from './1765000000000-changes-and-search';
import { Conversations1765100000000 } from './1765100000000-conversations';
import { SearchByRoom1765200000000 } from './1765200000000-search-by-room';
import { BoundedReads1765300000000 } from './1765300000000-bounded-reads';
import { SearchRoomWords1765317000000 } from './1765317000000-search-room-words';
import { Entities1765400000000 } from './1765400000000-entities';
import { VersionsWithoutLock1765500000000 } from './1765500000000-versions-without-lock';
import { Webhooks1765600000000 } from './1765600000000-webhooks';
import { Moderation1765610000000 } from './1765610000000-moderation';
import { Presence1765700000000 } from './1765700000000-presence';
import { Attachments1765800000000 } from './1765800000000-attachments';

/** Every migration, oldest first; the server applies pending ones at start, the CLI through ormconfig.ts. */
export const migrations = [
  InitialSchema1764300000000,
  CompanyScopeAndRateLimits1764900000000,
  ChangesAndSearch1765000000000,
  Conversations1765100000000,
  SearchByRoom1765200000000,
  BoundedReads1765300000000,
  SearchRoomWords1765317000000,
  Entities1765400000000,
  VersionsWithoutLock1765500000000,
  Webhooks1765600000000,
  Moderation1765610000000,
  Presence1765700000000,
  Attachments1765800000000,
];
