import { Column } from 'typeorm';

/**
 * The columns of a row that takes part in the changes feed (messages and
 * memberships): the position of its latest change and that change's floor
 * (src/chat/changes/versions.ts). Not a table: entities extend it.
 */
export abstract class Versioned {
  /** Its latest change's number; a bigint, as a string. */
  @Column('bigint', { default: 0 })
  version!: string;

  /** The transaction of its latest change (xid8 as a bigint, as a string): with `version`, its position. */
  @Column('bigint', { default: () => 'chat_writing_xact()' })
  versionXid!: string;

  /** The floor of its latest change: every transaction below it had ended when the change was written. */
  @Column('bigint', { default: () => 'chat_version_floor()' })
  versionFloor!: string;
}
