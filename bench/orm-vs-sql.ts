/**
 * Why the repositories run SQL on pg's pool instead of TypeORM's Repository<T>:
 * the same reads both ways, on the same pool, one after another, timed.
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node -r @swc-node/register bench/orm-vs-sql.ts
 * Creates a throwaway database, migrates it, seeds 1 room of 50 members and 200
 * messages, then per variant: 3,000 membership look-ups by (room, user) and 300
 * history pages of 50 messages (senders joined), 10 concurrent callers.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { Column, DataSource, Entity, ManyToOne, JoinColumn, PrimaryColumn } from 'typeorm';
import { dataSourceOptions } from '../src/db/data-source';
import { Database } from '../src/db/database';
import { MemberRepository } from '../src/chat/members/member.repository';
import { MessageRepository } from '../src/chat/messages/message.repository';
import { runOnScratchDatabase } from './lib/scratch-database';

@Entity('users')
class UserEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'display_name', type: 'varchar', nullable: true }) displayName: string | null;
  @Column({ name: 'company_id', type: 'uuid', nullable: true }) companyId: string | null;
}

@Entity('room_members')
class MemberEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'room_id', type: 'uuid' }) roomId: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId: string;
  @Column({ type: 'varchar' }) role: string;
  @Column({ name: 'is_active', type: 'boolean' }) isActive: boolean;
  @Column({ name: 'joined_at', type: 'timestamptz' }) joinedAt: Date;
  @Column({ name: 'last_read_at', type: 'timestamptz', nullable: true }) lastReadAt: Date | null;
  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true }) removedAt: Date | null;
}

@Entity('messages')
class MessageEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'room_id', type: 'uuid' }) roomId: string;
  @Column({ name: 'sender_id', type: 'uuid', nullable: true }) senderId: string | null;
  @ManyToOne(() => UserEntity) @JoinColumn({ name: 'sender_id' }) sender: UserEntity | null;
  @Column({ type: 'varchar' }) type: string;
  @Column({ type: 'text', nullable: true }) content: string | null;
  @Column({ type: 'jsonb', nullable: true }) metadata: unknown;
  @Column({ name: 'client_id', type: 'varchar', nullable: true }) clientId: string | null;
  @Column({ type: 'integer' }) seq: number;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'edited_at', type: 'timestamptz', nullable: true }) editedAt: Date | null;
  @Column({ name: 'is_deleted', type: 'boolean' }) isDeleted: boolean;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt: Date | null;
}

async function timed(label: string, total: number, concurrency: number, run: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await run(next++);
    }),
  );
  const ms = performance.now() - start;
  console.log(`${label.padEnd(46)} ${(total / (ms / 1000)).toFixed(0).padStart(6)} /s`);
  return total / (ms / 1000);
}

runOnScratchDatabase('chat_orm_probe', async (url) => {
  const options = dataSourceOptions({ url, poolSize: 10 });
  const orm = new DataSource({ ...options, entities: [UserEntity, MemberEntity, MessageEntity] } as never);
  try {
    await orm.initialize();
    await orm.runMigrations();
    const roomId = randomUUID();
    const users = Array.from({ length: 50 }, () => randomUUID());
    await orm.query(`INSERT INTO users (id, display_name) SELECT u, 'User' FROM unnest($1::uuid[]) u`, [users]);
    await orm.query(`INSERT INTO rooms (id, type, name, last_seq) VALUES ($1, 'GROUP', 'probe', 200)`, [roomId]);
    await orm.query(`INSERT INTO room_members (room_id, user_id, role) SELECT $1, u, 'MEMBER' FROM unnest($2::uuid[]) u`, [roomId, users]);
    await orm.query(
      `INSERT INTO messages (room_id, sender_id, type, content, seq) SELECT $1, ($2::uuid[])[1 + i % 50], 'TEXT', 'message ' || i, i FROM generate_series(1, 200) i`,
      [roomId, users],
    );
    const db = new Database((orm.driver as unknown as { master: Pool }).master);
    const members = new MemberRepository(db);
    const messages = new MessageRepository(db);
    const ormMembers = orm.getRepository(MemberEntity);
    const ormMessages = orm.getRepository(MessageEntity);

    for (let round = 1; round <= 2; round++) {
      console.log(`round ${round}`);
      await timed('membership: TypeORM Repository.findOneBy', 3000, 10, (i) => ormMembers.findOneBy({ roomId, userId: users[i % 50] }));
      await timed('membership: SQL on the pool (findByRoomAndUser)', 3000, 10, (i) => members.findByRoomAndUser(roomId, users[i % 50]));
      await timed('history page: TypeORM find + relation', 300, 10, () =>
        ormMessages.find({ where: { roomId, isDeleted: false }, relations: { sender: true }, order: { seq: 'DESC' }, take: 50 }),
      );
      await timed('history page: SQL on the pool (getRoomMessages)', 300, 10, () => messages.getRoomMessages(roomId, 50, null, false));
    }
  } finally {
    await orm.destroy().catch(() => {});
  }
});
