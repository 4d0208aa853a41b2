import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { isoTimestamps } from '../../db/timestamps';
import { Versioned } from '../changes/versioned.entity';
import { Room } from '../rooms/room.entity';
import { MemberRole } from '../types';
import { User } from '../users/user.entity';

@Entity('room_members')
@Unique('room_members_room_user_key', ['roomId', 'userId'])
@Index('room_members_user_active_idx', ['userId', 'roomId'], { where: 'is_active' })
/** Exactly one active OWNER per room: a hand-over demotes the old owner first, under the room's lock. */
@Index('room_members_one_owner_key', ['roomId'], { unique: true, where: `role = 'OWNER' AND is_active` })
@Index('room_members_user_position_idx', ['userId', 'versionXid', 'version'])
@Index('room_members_room_joined_idx', ['roomId', 'joinedAt', 'id'])
/** A banned user is never an active member, whatever path tries to bring them back (unbanMember first). */
@Check('room_members_banned_inactive', `NOT (is_active AND banned_at IS NOT NULL)`)
@Index('room_members_room_read_idx', ['roomId', 'lastReadAt', 'id'], { where: 'is_active AND last_read_at IS NOT NULL' })
export class Member extends Versioned {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  roomId!: string;

  @ManyToOne(() => Room, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'room_id' })
  room?: Room;

  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User)
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'enum', enum: MemberRole, enumName: 'member_role' })
  role!: MemberRole;

  @Column('boolean', { default: true })
  isActive!: boolean;

  @Column('timestamptz', { default: () => 'now()', transformer: isoTimestamps })
  joinedAt!: string;

  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  lastReadAt!: string | null;

  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  removedAt!: string | null;

  /** The position at which the member left (or was removed); null while active. */
  @Column('bigint', { nullable: true })
  leftVersion!: string | null;

  @Column('bigint', { nullable: true })
  leftXid!: string | null;

  /**
   * Until when the member may not send, react, edit, pin or type (muteMember);
   * null, or a time past, when not muted. A mute without an end is MUTED_FOREVER.
   */
  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  mutedUntil!: string | null;

  /** Set while the user is banned from the room (banMember): inactive, and nobody can add them back until unbanMember. */
  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  bannedAt!: string | null;
}
