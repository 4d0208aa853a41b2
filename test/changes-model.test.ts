import { expect } from 'chai';
import { gql, newUser, ok } from './support/client';
import { groupRoom } from './support/factories';
import { ADD_REACTION, DELETE, EDIT, REMOVE_REACTION } from './support/operations';
import { startServer, type TestServer } from './support/server';
import { sleep } from './support/ws';

/*
 * A model-based check of the changes feed without a service-wide lock
 * (src/chat/changes/versions.ts): many writers change messages at once across
 * rooms, some in slow transactions, some rolled back, while readers page
 * `changes` all the while. Each reader keeps a copy of every message, as a
 * client does. At the end every copy equals the server's state, no change was
 * delivered twice, nothing rolled back was ever seen, and each room's seq is
 * 1, 2, 3... with no gap.
 */

const CHANGES = `query($s: String, $l: Int) { changes(since: $s, limit: $l) { cursor hasMore messages { id version content isDeleted } } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;

interface Copy {
  revision: string;
  content: string | null;
  isDeleted: boolean;
}

/** A message's revision: the 8 hex digits before the cursor in its version (they grow with each change to it). */
const revisionOf = (version: string) => version.split('.')[0];

describe('changes, modelled: concurrent writers (slow ones, rolled-back ones) and readers paging all the while', () => {
  it('every reader ends with exactly the server state over 10,000+ changes, nothing skipped, nothing doubled', async function () {
    this.timeout(300_000);
    const unlimited = '10000000/10';
    const server: TestServer = await startServer({ env: { MESSAGE_RATE_LIMIT: unlimited, REACTION_RATE_LIMIT: unlimited, EDIT_RATE_LIMIT: unlimited } });
    const owner = await newUser(server.url);
    const writers = await Promise.all(Array.from({ length: 10 }, () => newUser(server.url)));
    const readers = await Promise.all(Array.from({ length: 3 }, () => newUser(server.url)));
    const rooms: string[] = [];
    for (let r = 0; r < 6; r++) rooms.push(await groupRoom(server.url, owner, [...writers, ...readers], `room ${r}`));

    let writing = true;
    const problems: string[] = [];
    const copies = readers.map(() => new Map<string, Copy>());
    const delivered = readers.map(() => new Set<string>());
    const cursors: (string | null)[] = [];

    // Readers: page from the cursor of the start, all the time the writers write.
    for (let i = 0; i < readers.length; i++) cursors.push((await ok(server.url, CHANGES, { s: null }, readers[i].token)).changes.cursor);
    const page = async (i: number): Promise<boolean> => {
      const { changes } = await ok(server.url, CHANGES, { s: cursors[i], l: 37 }, readers[i].token);
      for (const m of changes.messages as { id: string; version: string; content: string | null; isDeleted: boolean }[]) {
        const change = `${m.id}@${revisionOf(m.version)}`;
        if (delivered[i].has(change)) problems.push(`reader ${i} got ${change} twice`);
        delivered[i].add(change);
        if (m.content === 'rolled back') problems.push(`reader ${i} saw a rolled-back change of ${m.id}`);
        const held = copies[i].get(m.id);
        if (held && held.revision >= revisionOf(m.version)) problems.push(`reader ${i} got ${m.id} at revision ${revisionOf(m.version)} after ${held.revision}`);
        copies[i].set(m.id, { revision: revisionOf(m.version), content: m.content, isDeleted: m.isDeleted });
      }
      cursors[i] = changes.cursor;
      return changes.hasMore;
    };
    const reading = readers.map(async (_, i) => {
      while (writing) {
        await page(i);
        await sleep(10);
      }
    });

    // Writers: sends, edits, reactions, deletions over HTTP, each writer in every room.
    const mine = writers.map(() => [] as { id: string; roomId: string }[]);
    let changes = 0;
    const writing$ = writers.map(async (writer, w) => {
      for (let i = 0; changes < 12_000; i++) {
        const roomId = rooms[(w + i) % rooms.length];
        const own = mine[w];
        const op = i % 7;
        if (op < 3 || own.length === 0) {
          const id = (await ok(server.url, SEND, { input: { roomId, content: `w${w} m${i}` } }, writer.token)).sendMessage.id;
          own.push({ id, roomId });
        } else if (op === 3) {
          await ok(server.url, EDIT, { id: own[i % own.length].id, c: `w${w} edit ${i}` }, writer.token);
        } else if (op === 4) {
          await ok(server.url, ADD_REACTION, { id: own[(i * 7) % own.length].id, r: `:r${i % 5}:` }, writer.token);
        } else if (op === 5) {
          await ok(server.url, REMOVE_REACTION, { id: own[(i * 7) % own.length].id, r: `:r${(i + 1) % 5}:` }, writer.token);
        } else if (own.length > 20) {
          await ok(server.url, DELETE, { id: own.shift()!.id }, writer.token);
        }
        changes++;
      }
    });
    // Slow writers: a transaction that edits, then holds its position uncommitted a while; every third one rolls back.
    const slow = (async () => {
      for (let i = 0; changes < 12_000; i++) {
        const target = mine[i % writers.length].at(-1);
        if (!target) {
          await sleep(20);
          continue;
        }
        const rollback = i % 3 === 0;
        await server.app.repos
          .transaction(async (tx) => {
            await tx.messages.editMessage(target.id, rollback ? 'rolled back' : `slow edit ${i}`);
            await sleep(50 + (i % 5) * 60);
            if (rollback) throw new Error('rolled back on purpose');
          })
          .catch((error: Error) => {
            if (error.message !== 'rolled back on purpose') problems.push(`slow writer: ${error.message}`);
          });
        if (!rollback) changes++;
      }
    })();
    await Promise.all([...writing$, slow]);
    writing = false;
    await Promise.all(reading);
    // Once nothing is in flight, each reader reads to the end.
    for (let i = 0; i < readers.length; i++) {
      for (let pages = 0; pages < 1000 && (await page(i)); pages++);
    }

    const state = await server.app.db.query<{ id: string; revision: number; content: string | null; is_deleted: boolean }>(
      `SELECT id, revision, content, is_deleted FROM messages WHERE room_id = ANY($1::uuid[])`,
      [rooms],
    );
    const expected = new Map(state.map((m) => [m.id, { revision: m.revision.toString(16).padStart(8, '0'), content: m.content, isDeleted: m.is_deleted }]));
    expect(problems.slice(0, 20)).to.deep.equal([]);
    const total = state.reduce((sum, m) => sum + m.revision, 0);
    expect(total, 'changes made (a send is the first)').to.be.at.least(10_000);
    for (let i = 0; i < readers.length; i++) {
      expect(copies[i].size, `reader ${i} holds every message`).to.equal(expected.size);
      const wrong = [...expected].filter(([id, want]) => JSON.stringify(copies[i].get(id)) !== JSON.stringify(want));
      expect(wrong.slice(0, 5), `reader ${i}'s copies that differ from the server`).to.deep.equal([]);
    }
    // Each room's seq is gap-free: 1..n.
    const seqs = await server.app.db.query<{ room_id: string; n: number; max: number; min: number }>(
      `SELECT room_id, count(*)::int AS n, max(seq) AS max, min(seq) AS min FROM messages WHERE room_id = ANY($1::uuid[]) GROUP BY room_id`,
      [rooms],
    );
    for (const s of seqs) expect([s.min, s.max], `seq of room ${s.room_id}`).to.deep.equal([1, s.n]);
    expect(await gql(server.url, CHANGES, { s: cursors[0] }, readers[0].token)).to.nested.include({ 'data.changes.hasMore': false });
  });
});

