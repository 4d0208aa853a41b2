import { Column, Entity, PrimaryColumn } from 'typeorm';
import { isoTimestamps } from '../../db/timestamps';

/** A person seen in a token (`sub`), or named by someone who has (then with no name yet). */
@Entity('users')
export class User {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 200, nullable: true })
  displayName!: string | null;

  @Column('uuid', { nullable: true })
  companyId!: string | null;

  /** When a token of theirs was first (or last differently) seen; null for users only ever named by others. */
  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  seenAt!: string | null;

  /** When their last socket closed (presence); null until it first did. While they are online the API shows now instead. */
  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  lastSeenAt!: string | null;

  @Column('timestamptz', { default: () => 'now()', transformer: isoTimestamps })
  createdAt!: string;

  @Column('timestamptz', { default: () => 'now()', transformer: isoTimestamps })
  updatedAt!: string;
}

/** What the API shows of a user; statements that join users bring this much. */
export type UserView = Pick<User, 'id' | 'displayName' | 'companyId'>;
