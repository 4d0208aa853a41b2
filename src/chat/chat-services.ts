import type { Config } from '../config';
import type { ChatRepositories } from './chat-repositories';
import type { ChatEventPublisher } from './events';
import { MemberService } from './members/member.service';
import { MessageService } from './messages/message.service';
import { ReactionService } from './reactions/reaction.service';
import { RoomService } from './rooms/room.service';
import { TypingService } from './typing/typing.service';

/** The domain's rules, one service per area, wired once in the composition root. */
export interface ChatServices {
  rooms: RoomService;
  members: MemberService;
  messages: MessageService;
  reactions: ReactionService;
  typing: TypingService;
}

export function createServices(
  repos: ChatRepositories,
  events: ChatEventPublisher,
  limits: Pick<Config, 'messageRateLimit' | 'reactionRateLimit'>,
): ChatServices {
  const rooms = new RoomService(repos, events);
  const members = new MemberService(repos, rooms, events);
  const messages = new MessageService(repos, members, events, limits.messageRateLimit);
  const reactions = new ReactionService(repos, messages, events, limits.reactionRateLimit);
  const typing = new TypingService(members, events);
  return { rooms, members, messages, reactions, typing };
}
