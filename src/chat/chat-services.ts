import { Access } from './access/access';
import { ChangeService } from './changes/change.service';
import { CursorCodec } from './changes/cursor';
import type { ChatRepositories } from './chat-repositories';
import type { ChatEventPublisher } from './events';
import { RateLimiter, type RateLimits } from './limits/rate-limiter';
import { MemberService } from './members/member.service';
import { MessageService } from './messages/message.service';
import { ModerationService } from './moderation/moderation.service';
import { ReactionService } from './reactions/reaction.service';
import { RoomService } from './rooms/room.service';
import { SearchService } from './search/search.service';
import { TypingService } from './typing/typing.service';

/** The domain's rules, one service per area, wired once in the composition root. */
export interface ChatServices {
  access: Access;
  limiter: RateLimiter;
  rooms: RoomService;
  members: MemberService;
  messages: MessageService;
  moderation: ModerationService;
  reactions: ReactionService;
  typing: TypingService;
  changes: ChangeService;
  search: SearchService;
}

/** Each service takes (repositories, access, events) and the limits it enforces; none calls another for its checks. */
export function createServices(repos: ChatRepositories, events: ChatEventPublisher, limits: RateLimits, cursorSecret: string): ChatServices {
  const access = new Access(repos);
  const limiter = new RateLimiter(limits);
  return {
    access,
    limiter,
    rooms: new RoomService(repos, access, events, limiter),
    members: new MemberService(repos, access, events, limiter),
    messages: new MessageService(repos, access, events, limiter),
    moderation: new ModerationService(repos, access, events, limiter),
    reactions: new ReactionService(repos, access, events, limiter),
    typing: new TypingService(access, events),
    changes: new ChangeService(repos, new CursorCodec(cursorSecret)),
    search: new SearchService(repos),
  };
}
