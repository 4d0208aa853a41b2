import { Attachment } from './attachments/attachment.entity';
import { RateLimitLog } from './limits/rate-limit.entity';
import { Member } from './members/member.entity';
import { MessageEdit } from './messages/edit.entity';
import { Mention } from './messages/mention.entity';
import { Message } from './messages/message.entity';
import { Reaction } from './reactions/reaction.entity';
import { Room } from './rooms/room.entity';
import { User } from './users/user.entity';
import { WebhookDeadEvent, WebhookEvent } from '../webhooks/webhook.entity';

/** Every table of the domain: the one declaration of each (test/schema-drift.test.ts holds the migrations to them). */
export const chatEntities = [User, Room, Member, Message, Mention, MessageEdit, Reaction, RateLimitLog, WebhookEvent, WebhookDeadEvent, Attachment];
