import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import type { Member } from '../members/member.entity';
import type { Message } from '../messages/message.entity';
import { requireIntInRange } from '../validation';
import { fromOutside } from '../reading/outside';
import type { ChangedMessage } from './change.repository';
import type { CursorCodec } from './cursor';

export const CHANGES_LIMIT = { min: 1, max: 500 };

/** A changed message as its reader may see it: from outside, when they have left its room since. */
export function asSeenBy({ roomLeft, ...message }: ChangedMessage): Message {
  return roomLeft ? fromOutside(message) : message;
}

/** A page of the changes feed. */
export interface ChangeBatch {
  messages: Message[];
  memberships: Member[];
  /** Pass as `since` next time. */
  cursor: string;
  hasMore: boolean;
}

/**
 * The changes feed: what changed in the caller's rooms (and in their own
 * memberships) after a cursor, oldest change first, each row at its latest
 * state. Versions commit in order (src/chat/changes/versions.ts), so paging by
 * version misses nothing and repeats nothing, whatever commits meanwhile.
 */
export class ChangeService {
  constructor(
    private readonly repos: ChatRepositories,
    readonly cursors: CursorCodec,
  ) {}

  /** A position in the feed as clients see it (ChangeBatch.cursor). */
  cursorOf(version: string): string {
    return this.cursors.encode(version);
  }

  /** A message's version as clients see it (Message.version): its revision, and its position in the feed. */
  versionOf(message: Pick<Message, 'revision' | 'version'>): string {
    return this.cursors.encodeVersion(message.revision, message.version);
  }

  /**
   * Up to `limit` messages and `limit` memberships changed after `since`; without
   * `since`, none and the cursor of now. When either list had more, both stop at
   * the smaller of their last versions (so the next page repeats nothing), and
   * `hasMore` says to ask again.
   */
  async changes(actor: Actor, since: string | null, limit: number): Promise<ChangeBatch> {
    requireIntInRange('limit', limit, CHANGES_LIMIT.min, CHANGES_LIMIT.max);
    if (since === null) {
      return { messages: [], memberships: [], cursor: this.cursors.encode(await this.repos.changes.currentVersion()), hasMore: false };
    }
    const from = this.cursors.decode(since, 'since');
    const [messages, memberships] = await Promise.all([
      this.repos.changes.messagesAfter(actor.id, actor.companyId, from, limit + 1),
      this.repos.changes.membershipsAfter(actor.id, actor.companyId, from, limit + 1),
    ]);
    const hasMore = messages.length > limit || memberships.length > limit;
    let until: bigint | null = null;
    for (const list of [messages, memberships]) {
      if (list.length > limit) {
        const last = BigInt(list[limit - 1].version);
        until = until === null || last < until ? last : until;
      }
    }
    const upTo = <T extends { version: string }>(list: T[]) => (until === null ? list : list.filter((row) => BigInt(row.version) <= (until as bigint)));
    const page = { messages: upTo(messages).slice(0, limit), memberships: upTo(memberships).slice(0, limit) };
    const newest = [...page.messages, ...page.memberships].reduce((max, row) => (BigInt(row.version) > max ? BigInt(row.version) : max), BigInt(from));
    return {
      // Rooms left, and memberships ended, are read from outside: what they were, nothing of the room since.
      messages: page.messages.map(asSeenBy),
      memberships: page.memberships.map((m) => (m.isActive ? m : fromOutside(m))),
      cursor: this.cursors.encode(newest),
      hasMore,
    };
  }
}
