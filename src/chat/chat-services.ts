import { Access } from './access/access';
import { AttachmentService, type AttachmentSettings } from './attachments/attachment.service';
import type { AttachmentStore } from './attachments/attachment-store';
import { ChangeService } from './changes/change.service';
import { CursorCodec } from './changes/cursor';
import type { ChatRepositories } from './chat-repositories';
import type { ChatEventPublisher } from './events';
import { RateLimiter, type RateLimits } from './limits/rate-limiter';
import { MemberService } from './members/member.service';
import { MessageService } from './messages/message.service';
import { InProcessPresenceDirectory, type PresenceDirectory } from './presence/presence-directory';
import { PresenceService } from './presence/presence.service';
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
  presence: PresenceService;
  attachments: AttachmentService;
}

/** How presence is shared (src/chat/presence): the other servers' directory, the events' interval, where failures are reported. */
export interface PresenceOptions {
  /** @default new InProcessPresenceDirectory() (one server) */
  directory?: PresenceDirectory;
  /** @default PRESENCE_INTERVAL_MS */
  intervalMs?: number;
  onError?: (error: unknown, what: string) => void;
}

/** Where attachments' bytes are kept, and their limits. */
export interface AttachmentOptions {
  store: AttachmentStore;
  settings: AttachmentSettings;
}

/** Each service takes (repositories, access, events) and the limits it enforces; none calls another for its checks. */
export function createServices(
  repos: ChatRepositories,
  events: ChatEventPublisher,
  limits: RateLimits,
  cursorSecret: string,
  files: AttachmentOptions,
  presence: PresenceOptions = {},
): ChatServices {
  const access = new Access(repos);
  const limiter = new RateLimiter(limits);
  const attachments = new AttachmentService(repos, access, limiter, files.store, files.settings);
  return {
    access,
    limiter,
    rooms: new RoomService(repos, access, events, limiter),
    members: new MemberService(repos, access, events, limiter),
    messages: new MessageService(repos, access, events, limiter, attachments),
    moderation: new ModerationService(repos, access, events, limiter),
    reactions: new ReactionService(repos, access, events, limiter),
    typing: new TypingService(access, events),
    changes: new ChangeService(repos, new CursorCodec(cursorSecret)),
    search: new SearchService(repos),
    presence: new PresenceService(repos, events, presence.directory ?? new InProcessPresenceDirectory(), presence.onError ?? (() => {}), presence.intervalMs),
    attachments,
  };
}
