import { rateLimitsTable } from './limits/rate-limit.table';
import { membersTable } from './members/member.table';
import { editsTable } from './messages/edit.table';
import { mentionsTable } from './messages/mention.table';
import { messagesTable } from './messages/message.table';
import { reactionsTable } from './reactions/reaction.table';
import { roomsTable } from './rooms/room.table';
import { usersTable } from './users/user.table';

/** Every table the domain reads, as declared beside its records (test/tables.test.ts holds them to the migrations). */
export const chatTables = [usersTable, roomsTable, membersTable, messagesTable, mentionsTable, editsTable, reactionsTable, rateLimitsTable];
