/** The domain's enums, shared by entities, services and (re-registered) by the GraphQL layer. */

export enum RoomType {
  DIRECT = 'DIRECT',
  GROUP = 'GROUP',
}

export enum MemberRole {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
}

export enum MessageType {
  TEXT = 'TEXT',
  IMAGE = 'IMAGE',
  FILE = 'FILE',
  SYSTEM = 'SYSTEM',
}

export enum MembershipEventKind {
  ADDED = 'ADDED',
  REMOVED = 'REMOVED',
  ROLE_CHANGED = 'ROLE_CHANGED',
  MUTED = 'MUTED',
  UNMUTED = 'UNMUTED',
  BANNED = 'BANNED',
  UNBANNED = 'UNBANNED',
}

/** Rate-limited actions, as stored in `rate_limits.action`. */
export enum RateLimitedAction {
  MESSAGE = 'MESSAGE',
  REACTION = 'REACTION',
  EDIT = 'EDIT',
  /** createGroupChat and createDirectChat, per user (outside any room). */
  ROOM = 'ROOM',
  /** addMembers, per user and room. */
  MEMBERSHIP = 'MEMBERSHIP',
  /** pinMessage and unpinMessage, per user and room. */
  PIN = 'PIN',
  /** updateMemberRole, per user and room. */
  ROLE = 'ROLE',
  /** createUpload, per user across rooms. */
  UPLOAD = 'UPLOAD',
  /** muteMember, unmuteMember, banMember, unbanMember and setSlowMode, per user and room. */
  MODERATION = 'MODERATION',
}

/** A page of rows with the numbers a client needs to page on. */
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
  pages: number;
}
