import { expect } from 'chai';
import pino from 'pino';
import { gql, newUser } from './support/client';
import { groupRoom, send } from './support/factories';
import { startServer, wsClient } from './support/server';

type LogLine = { level: number; msg: string; errorId?: string; err?: { type?: string; message: string; stack: string; code?: string } };

/** A server whose structured log lines the test can read. */
async function serverWithLog() {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const server = await startServer({ logger });
  return { server, lines };
}

const MASKED = /^Internal server error \(ref ([0-9a-f-]{36})\)$/;

describe('error masking', () => {
  it('masks a TypeError thrown inside a resolver; the log has the whole error under the same id', async () => {
    const { server, lines } = await serverWithLog();
    const user = await newUser(server.url);
    server.app.services.rooms.createGroupChat = async () => {
      throw new TypeError('cannot read secretColumn of undefined');
    };
    const res = await gql(server.url, `mutation { createGroupChat(input: { name: "x", memberIds: [] }) { id } }`, {}, user.token);
    expect(res.status).to.be.below(500);
    const [error] = res.errors ?? [];
    expect(error.extensions.code).to.equal('INTERNAL_SERVER_ERROR');
    expect(error.message).to.match(MASKED);
    expect(JSON.stringify(res)).not.to.include('secretColumn').and.not.to.include('stacktrace');
    const errorId = MASKED.exec(error.message)?.[1];
    expect(error.extensions.errorId).to.equal(errorId);
    const logged = lines.find((l) => l.errorId === errorId);
    expect(logged?.err?.message).to.equal('cannot read secretColumn of undefined');
    expect(logged?.err?.stack).to.include('TypeError');
  });

  it('masks an uncoded GraphQLError a library raises on a field path (a date-time that cannot be serialised)', async () => {
    const { server, lines } = await serverWithLog();
    const user = await newUser(server.url);
    const roomId = await groupRoom(server.url, user);
    const message = await send(server.url, user, roomId, 'from the far future');
    // A row no code writes, as a bad migration or a manual fix might leave it.
    await server.app.db.query(`UPDATE messages SET created_at = 'infinity' WHERE id = $1`, [message.id]);
    const res = await gql(server.url, `query($id: ID!) { message(id: $id) { id createdAt } }`, { id: message.id }, user.token);
    const [error] = res.errors ?? [];
    expect(error.path).to.deep.equal(['message', 'createdAt']);
    expect(error.extensions.code).to.equal('INTERNAL_SERVER_ERROR');
    expect(error.message).to.match(MASKED);
    expect(JSON.stringify(res)).not.to.include('infinity');
    const logged = lines.find((l) => l.errorId === error.extensions.errorId);
    expect(logged?.err?.message).to.include('DateTime cannot represent');
  });

  it('masks a constraint violation: no SQL or driver text reaches the client', async () => {
    const { server, lines } = await serverWithLog();
    const owner = await newUser(server.url);
    const member = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner, [member]);
    // A repository that (wrongly) inserts a membership that already exists.
    server.app.services.members.addMembers = async (_actor, room: string, userIds: string[]) => {
      await server.app.db.query(`INSERT INTO room_members (room_id, user_id, role) VALUES ($1, $2, 'MEMBER')`, [room, userIds[0]]);
      return [];
    };
    const res = await gql(server.url, `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id } }`, { r: roomId, u: [member.id] }, owner.token);
    const [error] = res.errors ?? [];
    expect(error.extensions.code).to.equal('INTERNAL_SERVER_ERROR');
    expect(error.message).to.match(MASKED);
    const body = JSON.stringify(res);
    for (const leak of ['duplicate key', 'room_members', 'INSERT', '23505', 'constraint']) expect(body).not.to.include(leak);
    const logged = lines.find((l) => l.errorId === error.extensions.errorId);
    expect(logged?.err?.message).to.include('duplicate key value violates unique constraint');
  });

  it('masks errors over WebSocket the same way', async () => {
    const { server, lines } = await serverWithLog();
    const user = await newUser(server.url);
    server.app.services.rooms.createGroupChat = async () => {
      throw new TypeError('socket-side secret');
    };
    const client = wsClient(server, user.token);
    const result = await new Promise<{ errors?: { message: string; extensions: { code: string; errorId: string } }[] }>((resolve, reject) =>
      client.subscribe(
        { query: `mutation { createGroupChat(input: { name: "x", memberIds: [] }) { id } }` },
        { next: (value) => resolve(value as never), error: reject, complete: () => {} },
      ),
    );
    const [error] = result.errors ?? [];
    expect(error.extensions.code).to.equal('INTERNAL_SERVER_ERROR');
    expect(error.message).to.match(MASKED);
    expect(JSON.stringify(result)).not.to.include('socket-side secret');
    expect(lines.find((l) => l.errorId === error.extensions.errorId)?.err?.message).to.equal('socket-side secret');
  });
});
