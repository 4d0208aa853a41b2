/**
 * Which statements are hand-tuned, and why: the same read made with TypeORM's
 * API and as our statement, like for like (one statement each side), on the
 * same pool and data, one after another, timed; each of our statements twice,
 * unnamed (planned each time, as TypeORM sends its own) and named (prepared
 * once per connection, as the repositories send them).
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node -r @swc-node/register bench/orm-vs-sql.ts
 * Creates a throwaway database, migrates it, seeds 1 room of 50 members and 200
 * messages, then per read and variant runs a fixed number of calls from 10
 * concurrent callers, in two rounds (the second is the one to read).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { In } from 'typeorm';
import { createRepositories } from '../src/chat/chat-repositories';
import { Member } from '../src/chat/members/member.entity';
import { Message } from '../src/chat/messages/message.entity';
import { User } from '../src/chat/users/user.entity';
import { openDatabase } from '../src/db/data-source';
import { Database } from '../src/db/database';
import { runOnScratchDatabase } from './lib/scratch-database';

async function timed(label: string, total: number, run: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < total) await run(next++);
    }),
  );
  const perSec = total / ((performance.now() - start) / 1000);
  console.log(`  ${label.padEnd(64)} ${perSec.toFixed(0).padStart(6)} /s`);
  return perSec;
}

runOnScratchDatabase('chat_orm_probe', async (url) => {
  const { dataSource, db } = await openDatabase({ url, poolSize: 10 });
  try {
    const roomId = randomUUID();
    const users = Array.from({ length: 50 }, () => randomUUID());
    await db.query(`INSERT INTO users (id, display_name) SELECT u, 'User' FROM unnest($1::uuid[]) u`, [users]);
    await db.query(`INSERT INTO rooms (id, type, name, last_seq) VALUES ($1, 'GROUP', 'probe', 200)`, [roomId]);
    await db.query(`INSERT INTO room_members (room_id, user_id, role) SELECT $1, u, 'MEMBER' FROM unnest($2::uuid[]) u`, [roomId, users]);
    await db.query(
      `INSERT INTO messages (room_id, sender_id, type, content, seq) SELECT $1, ($2::uuid[])[1 + i % 50], 'TEXT', 'message ' || i, i FROM generate_series(1, 200) i`,
      [roomId, users],
    );
    // The same repositories twice: statements named (as the server runs them) and unnamed.
    const named = createRepositories(db);
    const unnamedDb = new Database({ prepare: false }).attach(dataSource);
    const unnamed = createRepositories(unnamedDb);
    const ids = (i: number) => [users[i % 50], users[(i + 7) % 50], users[(i + 19) % 50]];

    for (let round = 1; round <= 2; round++) {
      console.log(`round ${round}`);
      console.log(' membership by (room, user): one statement each');
      await timed('TypeORM Repository.findOneBy', 3000, (i) => dataSource.getRepository(Member).findOneBy({ roomId, userId: users[i % 50] }));
      await timed('our statement, unnamed (findByRoomAndUser)', 3000, (i) => unnamed.members.findByRoomAndUser(roomId, users[i % 50]));
      await timed('our statement, named', 3000, (i) => named.members.findByRoomAndUser(roomId, users[i % 50]));
      console.log(' users by ids (every request\'s user loader): one statement each');
      await timed('TypeORM Repository.findBy(In)', 3000, (i) => dataSource.getRepository(User).findBy({ id: In(ids(i)) }));
      await timed('our statement, unnamed (findByIds)', 3000, (i) => unnamed.users.findByIds(ids(i)));
      await timed('our statement, named', 3000, (i) => named.users.findByIds(ids(i)));
      console.log(' history page of 50 with senders: one statement each');
      await timed('TypeORM QueryBuilder, sender joined (getMany)', 300, () =>
        dataSource
          .getRepository(Message)
          .createQueryBuilder('m')
          .leftJoinAndSelect('m.sender', 's')
          .where('m.roomId = :roomId AND NOT m.isDeleted AND (m.parentId IS NULL OR m.alsoInRoom)', { roomId })
          .orderBy('m.seq', 'DESC')
          // limit, not take: with a join, take() sends two statements (the ids first).
          .limit(50)
          .getMany(),
      );
      await timed('our statement, unnamed (getRoomMessages)', 300, () => unnamed.messages.getRoomMessages(roomId, 50, null, false));
      await timed('our statement, named', 300, () => named.messages.getRoomMessages(roomId, 50, null, false));
    }
  } finally {
    await dataSource.destroy().catch(() => {});
  }
});
