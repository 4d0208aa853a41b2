import { expect } from 'chai';
import { ok } from './support/client';
import { send, staffedRoom } from './support/factories';
import { startServer, type TestServer } from './support/server';

/** What an object-typed field of Message is asked with; a field added to Message without one here fails the first test. */
const SUB_SELECTIONS: Record<string, string> = {
  room: '{ id name }',
  sender: '{ id displayName }',
  parent: '{ id content }',
  threadParticipants: '{ id }',
  mentions: '{ id displayName }',
  pinnedBy: '{ id }',
  edits: '{ content }',
  readBy: '{ id }',
  reactions: '{ reaction count reactedByMe users { id } }',
  attachments: '{ id }',
};

/**
 * A history page reads only the columns its selected fields need (a lean
 * select list when they need no more: src/graphql/selection.ts). Whatever the
 * page selects, each field must answer exactly what the message's own query
 * answers: a field whose needs were declared wrong would read a column the
 * lean row does not carry.
 */
describe('history page: every Message field, asked alone, answers as message(id) does', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer({ env: { MESSAGE_RATE_LIMIT: '100000/10' } });
  });

  it('answers each field of a varied page (edited, pinned, replied to, mentioning, reacted to, deleted) as message(id)', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const plain = await send(server.url, owner, roomId, 'plain', { clientId: 'c-plain', metadata: { k: 1 } });
    const mentioning = await send(server.url, member, roomId, 'hi there', { mentionIds: [owner.id] });
    await send(server.url, member, roomId, 'a reply', { parentId: plain.id, alsoInRoom: true });
    const edited = await send(server.url, owner, roomId, 'draft');
    await ok(server.url, `mutation($id: ID!) { editMessage(id: $id, content: "final") { id } }`, { id: edited.id }, owner.token);
    await ok(server.url, `mutation($id: ID!) { pinMessage(id: $id) { id } }`, { id: mentioning.id }, owner.token);
    await ok(server.url, `mutation($id: ID!) { addReaction(messageId: $id, reaction: "👍") { id } }`, { id: plain.id }, member.token);
    const gone = await send(server.url, member, roomId, 'oops');
    await ok(server.url, `mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: gone.id }, member.token);
    await ok(server.url, `mutation($roomId: ID!) { markRoomRead(roomId: $roomId) { id } }`, { roomId }, member.token);

    const { __type } = await ok<{ __type: { fields: { name: string; type: { kind: string; ofType: { kind: string; ofType: { kind: string; ofType: { kind: string } | null } | null } | null } }[] } }>(
      server.url,
      `{ __type(name: "Message") { fields { name type { kind ofType { kind ofType { kind ofType { kind } } } } } } }`,
      {},
      owner.token,
    );
    const innermost = (t: { kind: string; ofType?: unknown }): string => {
      let type = t as { kind: string; ofType?: { kind: string; ofType?: unknown } | null };
      while (type.ofType) type = type.ofType as typeof type;
      return type.kind;
    };
    for (const { name, type } of __type.fields) {
      const object = innermost(type) === 'OBJECT';
      if (object) expect(SUB_SELECTIONS, `a sub-selection for Message.${name}`).to.have.property(name);
      const field = object ? `${name} ${SUB_SELECTIONS[name]}` : name;
      const page = await ok<{ messages: Record<string, unknown>[] }>(
        server.url,
        `query($roomId: ID!) { messages(roomId: $roomId, includeDeleted: true) { id ${field} } }`,
        { roomId },
        owner.token,
      );
      expect(page.messages, name).to.have.length(5);
      for (const message of page.messages) {
        const alone = await ok<{ message: Record<string, unknown> }>(server.url, `query($id: ID!) { message(id: $id) { id ${field} } }`, { id: message.id }, owner.token);
        expect(message, `Message.${name} of ${String(message.id)}`).to.deep.equal(alone.message);
      }
    }
  });

  it('answers a page of every field at once as message(id) does for each', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const root = await send(server.url, owner, roomId, 'root', { mentionIds: [member.id] });
    await send(server.url, member, roomId, 'reply', { parentId: root.id, alsoInRoom: true });
    const fields = `id seq content isEdited version parent { id } room { id } sender { id } mentions { id } reactions { reaction }`;
    const page = await ok<{ messages: Record<string, unknown>[] }>(server.url, `query($roomId: ID!) { messages(roomId: $roomId) { ${fields} } }`, { roomId }, owner.token);
    expect(page.messages).to.have.length(2);
    for (const message of page.messages) {
      const alone = await ok<{ message: Record<string, unknown> }>(server.url, `query($id: ID!) { message(id: $id) { ${fields} } }`, { id: message.id }, owner.token);
      expect(message).to.deep.equal(alone.message);
    }
  });

  it('keeps a lean page out of the request\'s messages: a parent read in the same request comes whole', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const root = await send(server.url, owner, roomId, 'root');
    const reply = await send(server.url, member, roomId, 'reply', { parentId: root.id, alsoInRoom: true });
    const { b } = await ok<{ b: { id: string; parent: Record<string, unknown> | null }[] }>(
      server.url,
      // b's page is the reply alone, and reads its readers before it answers: a's lean page (with the root) has come by then.
      `query($roomId: ID!) { a: messages(roomId: $roomId) { id content } b: messages(roomId: $roomId, limit: 1) { id readBy { id } parent { id version room { id } } } }`,
      { roomId },
      owner.token,
    );
    const { message } = await ok<{ message: { parent: Record<string, unknown> } }>(
      server.url,
      `query($id: ID!) { message(id: $id) { parent { id version room { id } } } }`,
      { id: reply.id },
      owner.token,
    );
    expect(b.find((m) => m.id === reply.id)?.parent).to.deep.equal(message.parent);
  });
});
