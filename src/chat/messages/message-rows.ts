import type { UserView } from '../users/user.entity';
import type { Message } from './message.entity';

/** A page of messages with their senders, read in one statement. */
export interface MessagesWithSenders {
  messages: Message[];
  senders: UserView[];
}

/** The sender's columns the API shows, under `s.` (what splitSenders reads). */
export const SENDER = `u.id AS "s.id", u.display_name AS "s.displayName", u.company_id AS "s.companyId"`;

/** Rows carrying a message and (under `s.`) its sender. */
export type MessageWithSenderRow = Message & Record<string, unknown>;

export function splitSenders<R extends MessageWithSenderRow>(rows: R[]): { messages: R[]; senders: UserView[] } {
  const senders = new Map<string, UserView>();
  for (const row of rows) {
    const id = row['s.id'] as string | null;
    if (id !== null && !senders.has(id)) {
      senders.set(id, { id, displayName: row['s.displayName'] as string | null, companyId: row['s.companyId'] as string | null });
    }
  }
  return { messages: rows, senders: [...senders.values()] };
}

