import { expect } from 'chai';
import { makeUser, ok, newUser } from './support/client';
import { groupRoom, send } from './support/factories';
import { onCleanup, startServer, wsClient } from './support/server';

/** Counts calls of an object's method, keeping its behaviour. */
function countCalls<T extends object>(target: T, method: keyof T): { calls: number } {
  const counter = { calls: 0 };
  const original = target[method] as (...args: unknown[]) => unknown;
  (target as Record<keyof T, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
    counter.calls += 1;
    return original.apply(this, args);
  };
  onCleanup(() => ((target as Record<keyof T, unknown>)[method] = original));
  return counter;
}

describe('fan-out of one event to many subscribers', () => {
  it('reads the shared rows once per event, whatever the number of subscribers', async () => {
    const server = await startServer();
    const owner = await newUser(server.url);
    const members = await Promise.all(Array.from({ length: 10 }, async () => makeUser()));
    const roomId = await groupRoom(server.url, owner, members);

    const received: string[] = [];
    for (const member of members) {
      wsClient(server, member.token).subscribe(
        {
          query: `subscription($r: ID) { messageAdded(roomId: $r) { id content sender { displayName } reactions { count } room { name } } }`,
          variables: { r: roomId },
        },
        { next: (v) => received.push((v.data as { messageAdded: { content: string } }).messageAdded.content), error: () => {}, complete: () => {} },
      );
    }
    // Wait until every subscription is live: a warm-up message reaches all ten.
    for (let i = 0; received.filter((c) => c === 'warm-up').length < members.length; i++) {
      if (i === 0 || i % 10 === 0) await send(server.url, owner, roomId, 'warm-up');
      if (i > 100) throw new Error('subscriptions did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200));

    const { repos } = server.app;
    const users = countCalls(repos.users, 'findByIds');
    const reactions = countCalls(repos.reactions, 'summaries');
    const membersAt = countCalls(repos.members, 'audience');
    const messages = countCalls(repos.messages, 'findById');
    const executionsBefore = server.app.stats.subscriptionExecutions;
    await send(server.url, owner, roomId, 'counted');
    for (let i = 0; received.filter((c) => c === 'counted').length < members.length; i++) {
      if (i > 100) throw new Error('not every subscriber received the message');
      await new Promise((r) => setTimeout(r, 50));
    }
    // The selection has no viewer-dependent field: the event is executed once for all ten sockets.
    expect({
      users: users.calls,
      reactions: reactions.calls,
      membersAt: membersAt.calls,
      messages: messages.calls,
      executions: server.app.stats.subscriptionExecutions - executionsBefore,
    }).to.deep.equal({ users: 1, reactions: 1, membersAt: 1, messages: 1, executions: 1 });
    const { messages: history } = await ok(server.url, `query($r: ID!) { messages(roomId: $r, limit: 1) { content } }`, { r: roomId }, owner.token);
    expect(history[0].content).to.equal('counted');
  });

  it('still answers viewer-dependent fields per subscriber (reactedByMe)', async () => {
    const server = await startServer();
    const owner = await newUser(server.url);
    const [ann, ben] = await Promise.all([makeUser(), makeUser()]);
    const roomId = await groupRoom(server.url, owner, [ann, ben]);
    const message = await send(server.url, owner, roomId, 'react to me');
    const seen = new Map<string, boolean[]>();
    for (const [name, user] of [['ann', ann], ['ben', ben]] as const) {
      seen.set(name, []);
      wsClient(server, user.token).subscribe(
        { query: `subscription($r: ID) { messageUpdated(roomId: $r) { reactions { reaction reactedByMe } } }`, variables: { r: roomId } },
        {
          next: (v) => seen.get(name)!.push(...(v.data as { messageUpdated: { reactions: { reactedByMe: boolean }[] } }).messageUpdated.reactions.map((r) => r.reactedByMe)),
          error: () => {},
          complete: () => {},
        },
      );
    }
    await new Promise((r) => setTimeout(r, 300));
    await ok(server.url, `mutation($id: ID!) { addReaction(messageId: $id, reaction: "👍") { id } }`, { id: message.id }, ann.token);
    for (let i = 0; seen.get('ann')!.length === 0 || seen.get('ben')!.length === 0; i++) {
      if (i > 100) throw new Error('the reaction did not reach both subscribers');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect({ ann: seen.get('ann'), ben: seen.get('ben') }).to.deep.equal({ ann: [true], ben: [false] });
  });

  it("one user's distinct subscriptions of viewer-dependent fields share that user's reads of each event: 30 cost what 1 costs", async () => {
    const server = await startServer({ maxSubscriptionsPerSocket: 40 });
    const owner = await newUser(server.url);
    const holder = await makeUser();
    const roomId = await groupRoom(server.url, owner, [holder]);
    const message = await send(server.url, owner, roomId, 'edit me');
    const EDIT = `mutation($id: ID!, $c: String!) { editMessage(id: $id, content: $c) { id } }`;
    const socket = wsClient(server, holder.token);
    const received: string[] = [];
    const subscribeVariant = (alias: string) =>
      socket.subscribe(
        // Distinct documents (the alias), each reading the viewer: executed apart, one per subscription.
        { query: `subscription($r: ID) { ${alias}: messageUpdated(roomId: $r) { content room { unreadCount myMembership { role } } reactions { reactedByMe } } }`, variables: { r: roomId } },
        { next: (v) => received.push(JSON.stringify(v.errors ?? v.data)), error: (e) => received.push(`error ${JSON.stringify(e)}`), complete: () => {} },
      );
    /** Statements the server sends for one edit (the mutation's own included), with `n` subscriptions live. */
    const statementsOfOneEdit = async (round: string, n: number): Promise<number> => {
      // Warm-up edits until every subscription is live (graphql-ws does not say when it is).
      for (let attempt = 0; ; attempt++) {
        received.length = 0;
        await ok(server.url, EDIT, { id: message.id, c: `warm ${round} ${attempt}` }, owner.token);
        for (let i = 0; received.length < n && i < 20; i++) await new Promise((r) => setTimeout(r, 25));
        if (received.length >= n) break;
        if (attempt > 20) throw new Error(`only ${received.length} of ${n} subscriptions got the warm-up`);
      }
      await new Promise((r) => setTimeout(r, 200));
      received.length = 0;
      const before = server.app.db.statements;
      await ok(server.url, EDIT, { id: message.id, c: `counted ${round}` }, owner.token);
      for (let i = 0; received.length < n; i++) {
        if (i > 200) throw new Error(`only ${received.length} of ${n} subscriptions got the edit`);
        await new Promise((r) => setTimeout(r, 25));
      }
      await new Promise((r) => setTimeout(r, 200));
      return server.app.db.statements - before;
    };
    subscribeVariant('a0');
    const one = await statementsOfOneEdit('one', 1);
    for (let i = 1; i < 30; i++) subscribeVariant(`a${i}`);
    const thirty = await statementsOfOneEdit('thirty', 30);
    expect(received.every((r) => r.includes('counted thirty')), received[0]).to.equal(true);
    expect(server.app.stats.subscriptionExecutions).to.be.greaterThan(60);
    expect(thirty).to.equal(one);
  });

  it('never shows a just-removed user the room\'s members, even when a member shares the subscription', async () => {
    const server = await startServer();
    const owner = await newUser(server.url);
    const [stays, leaves] = await Promise.all([makeUser(), makeUser()]);
    const roomId = await groupRoom(server.url, owner, [stays, leaves]);
    const query = `subscription { membershipChanged { kind member { user { id } } room { id members { user { id } } } } }`;
    const got = new Map<string, unknown[]>();
    for (const [name, user] of [['stays', stays], ['leaves', leaves]] as const) {
      got.set(name, []);
      wsClient(server, user.token).subscribe({ query }, { next: (v) => got.get(name)!.push(v), error: () => {}, complete: () => {} });
    }
    await new Promise((r) => setTimeout(r, 300));
    await ok(server.url, `mutation($r: ID!, $u: ID!) { removeMember(roomId: $r, userId: $u) }`, { r: roomId, u: leaves.id }, owner.token);
    for (let i = 0; got.get('stays')!.length === 0 || got.get('leaves')!.length === 0; i++) {
      if (i > 100) throw new Error('the removal did not reach both subscribers');
      await new Promise((r) => setTimeout(r, 50));
    }
    const [forStays] = got.get('stays') as { data: { membershipChanged: { room: { members: unknown[] } } } }[];
    const [forLeaves] = got.get('leaves') as { data: unknown; errors?: { extensions: { code: string } }[] }[];
    expect(forStays.data.membershipChanged.room.members).to.have.length(2);
    expect(JSON.stringify(forLeaves.data)).not.to.include(stays.id);
    // Their own removal reaches them; the room it names is seen from outside: no members, as for a room that does not exist.
    expect(forLeaves.errors).to.equal(undefined);
    expect(forLeaves.data).to.deep.include({ membershipChanged: { kind: 'REMOVED', member: { user: { id: leaves.id } }, room: { id: roomId, members: [] } } });
  });
});
