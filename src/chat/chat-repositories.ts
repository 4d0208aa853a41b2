import type { EntityManager } from 'typeorm';
import type { SendBatching } from './messages/send-batcher';
import type { Database } from '../db/database';
import { attachmentRepository, type AttachmentRepository } from './attachments/attachment.repository';
import { changeRepository, type ChangeRepository } from './changes/change.repository';
import { rateLimitRepository, type RateLimitRepository } from './limits/rate-limit.repository';
import { memberRepository, type MemberRepository } from './members/member.repository';
import { messageRepository, type MessageRepository } from './messages/message.repository';
import { reactionRepository, type ReactionRepository } from './reactions/reaction.repository';
import { roomRepository, type RoomRepository } from './rooms/room.repository';
import { searchRepository, type SearchRepository } from './search/search.repository';
import { userRepository, type UserRepository } from './users/user.repository';

/** One repository per aggregate, each a TypeORM repository with the table's queries (the pool's, or one transaction's). */
export interface Repositories {
  users: UserRepository;
  rooms: RoomRepository;
  members: MemberRepository;
  messages: MessageRepository;
  reactions: ReactionRepository;
  rateLimits: RateLimitRepository;
  changes: ChangeRepository;
  search: SearchRepository;
  attachments: AttachmentRepository;
}

/** The repositories over the pool, and a way to run work in one transaction over the same ones. */
export interface ChatRepositories extends Repositories {
  /** Runs `work` with the repositories bound to one transaction (`manager.withRepository`): committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
}

export function createRepositories(db: Database, options: { sendBatching?: SendBatching } = {}): ChatRepositories {
  const { dataSource } = db;
  const repos: Repositories = {
    users: userRepository(dataSource, db),
    rooms: roomRepository(dataSource, db),
    members: memberRepository(dataSource, db),
    messages: messageRepository(dataSource, db, options.sendBatching),
    reactions: reactionRepository(dataSource, db),
    rateLimits: rateLimitRepository(dataSource, db),
    changes: changeRepository(dataSource, db),
    search: searchRepository(dataSource, db),
    attachments: attachmentRepository(dataSource, db),
  };
  // The same repositories, their statements on the transaction's connection.
  const within = (manager: EntityManager): Repositories =>
    Object.fromEntries(Object.entries(repos).map(([name, repo]) => [name, manager.withRepository(repo)])) as unknown as Repositories;
  return { ...repos, transaction: (work) => db.transaction((manager) => work(within(manager))) };
}
