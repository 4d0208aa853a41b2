import type { Database, Queryable } from '../db/database';
import { ChangeRepository } from './changes/change.repository';
import { RateLimitRepository } from './limits/rate-limit.repository';
import { MemberRepository } from './members/member.repository';
import { MessageRepository } from './messages/message.repository';
import { ReactionRepository } from './reactions/reaction.repository';
import { RoomRepository } from './rooms/room.repository';
import { SearchRepository } from './search/search.repository';
import { UserRepository } from './users/user.repository';

/** One repository per aggregate, all over the same connection (the pool, or one transaction's). */
export interface Repositories {
  users: UserRepository;
  rooms: RoomRepository;
  members: MemberRepository;
  messages: MessageRepository;
  reactions: ReactionRepository;
  rateLimits: RateLimitRepository;
  changes: ChangeRepository;
  search: SearchRepository;
}

/** The repositories over the pool, and a way to run work in one transaction over fresh ones. */
export interface ChatRepositories extends Repositories {
  /** Runs `work` with repositories bound to one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
}

function over(q: Queryable): Repositories {
  return {
    users: new UserRepository(q),
    rooms: new RoomRepository(q),
    members: new MemberRepository(q),
    messages: new MessageRepository(q),
    reactions: new ReactionRepository(q),
    rateLimits: new RateLimitRepository(q),
    changes: new ChangeRepository(q),
    search: new SearchRepository(q),
  };
}

export function createRepositories(db: Database): ChatRepositories {
  return { ...over(db), transaction: (work) => db.transaction((tx) => work(over(tx))) };
}
