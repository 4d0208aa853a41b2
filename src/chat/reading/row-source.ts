import type { ChatRepositories } from '../chat-repositories';
import type { Member } from '../members/member.entity';
import type { ReactionsWithUsers } from '../reactions/reaction.repository';
import type { Room } from '../rooms/room.entity';
import type { User } from '../users/user.entity';

/**
 * The reads whose answer does not depend on who asks. A request reads them
 * straight from the repositories; the subscribers of one event share one
 * EventRows, so 2,000 sockets receiving a message cost one query per kind of
 * row instead of 2,000.
 */
export interface RowSource {
  users(ids: readonly string[]): Promise<User[]>;
  rooms(ids: readonly string[]): Promise<Room[]>;
  memberships(pairs: readonly { roomId: string; userId: string }[]): Promise<Member[]>;
  reactions(messageIds: readonly string[]): Promise<ReactionsWithUsers>;
}

export function repositoryRows(repos: ChatRepositories): RowSource {
  return {
    users: (ids) => repos.users.findByIds(ids),
    rooms: (ids) => repos.rooms.findByIds(ids),
    memberships: (pairs) => repos.members.findByRoomAndUsers(pairs),
    reactions: (messageIds) => repos.reactions.getByMessages(messageIds),
  };
}

/**
 * Rows read for one event, memoised per key: the first subscriber's batch
 * queries, the others await the same promise. Lives as long as the event.
 */
export class EventRows implements RowSource {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(private readonly source: RowSource) {}

  /** Fetches the keys nobody asked for yet in one call, then answers every key from the memo. */
  private async memo<K, V>(
    kind: string,
    keys: readonly K[],
    keyOf: (k: K) => string,
    fetch: (missing: K[]) => Promise<Map<string, V>>,
  ): Promise<V[]> {
    const missing = keys.filter((k) => !this.cache.has(`${kind}:${keyOf(k)}`));
    if (missing.length > 0) {
      const fetched = fetch(missing);
      for (const k of missing) {
        const key = keyOf(k);
        this.cache.set(`${kind}:${key}`, fetched.then((found) => found.get(key) ?? null));
      }
    }
    const values = await Promise.all(keys.map((k) => this.cache.get(`${kind}:${keyOf(k)}`) as Promise<V | null>));
    return values.filter((v): v is Awaited<V> => v !== null) as V[];
  }

  users(ids: readonly string[]): Promise<User[]> {
    return this.memo('user', ids, (id) => id, async (missing) => new Map((await this.source.users(missing)).map((u) => [u.id, u])));
  }

  rooms(ids: readonly string[]): Promise<Room[]> {
    return this.memo('room', ids, (id) => id, async (missing) => new Map((await this.source.rooms(missing)).map((r) => [r.id, r])));
  }

  memberships(pairs: readonly { roomId: string; userId: string }[]): Promise<Member[]> {
    const keyOf = (p: { roomId: string; userId: string }) => `${p.roomId}:${p.userId}`;
    return this.memo('member', pairs, keyOf, async (missing) =>
      new Map((await this.source.memberships(missing)).map((m) => [keyOf(m), m])),
    );
  }

  async reactions(messageIds: readonly string[]): Promise<ReactionsWithUsers> {
    const perMessage = await this.memo('reactions', messageIds, (id) => id, async (missing) => {
      const { reactions, users } = await this.source.reactions(missing);
      return new Map(missing.map((id) => [id, { reactions: reactions.filter((r) => r.messageId === id), users }]));
    });
    return {
      reactions: perMessage.flatMap((p) => p.reactions),
      users: [...new Map(perMessage.flatMap((p) => p.users).map((u) => [u.id, u])).values()],
    };
  }
}
