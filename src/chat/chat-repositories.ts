import type { DataSource } from 'typeorm';
import { MemberRepository } from './members/member.repository';
import { MessageRepository } from './messages/message.repository';
import { ReactionRepository } from './reactions/reaction.repository';
import { RoomRepository } from './rooms/room.repository';
import { UserRepository } from './users/user.repository';

/** One repository per aggregate, all over the same data source. */
export interface ChatRepositories {
  users: UserRepository;
  rooms: RoomRepository;
  members: MemberRepository;
  messages: MessageRepository;
  reactions: ReactionRepository;
}

export function createRepositories(db: DataSource): ChatRepositories {
  return {
    users: new UserRepository(db),
    rooms: new RoomRepository(db),
    members: new MemberRepository(db),
    messages: new MessageRepository(db),
    reactions: new ReactionRepository(db),
  };
}
