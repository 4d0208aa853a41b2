import { registerEnumType } from 'type-graphql';
import { MemberRole, MembershipEventKind, MessageType, RoomType } from '../../chat/types';

registerEnumType(RoomType, { name: 'RoomType' });
registerEnumType(MemberRole, { name: 'MemberRole' });
registerEnumType(MessageType, { name: 'MessageType' });
registerEnumType(MembershipEventKind, { name: 'MembershipEventKind' });

export { MemberRole, MembershipEventKind, MessageType, RoomType };
