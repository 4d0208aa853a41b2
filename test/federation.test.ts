import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { expect } from 'chai';
import { parse } from 'graphql';
import { printChatSchema } from '../src/graphql/schema';
import { printChatSubgraphSchema } from '../src/graphql/subgraph';
import { gql, makeUser, ok, signIn, type TestUser } from './support/client';
import { groupRoom } from './support/factories';
import { onCleanup, startServer, wsClient, type TestServer } from './support/server';
import { collect, waitFor } from './support/ws';

/** What the accounts subgraph hands out: bookmarks naming rooms, messages and users by id (references to the chat subgraph). */
interface Bookmark {
  label: string;
  roomId: string | null;
  messageId: string | null;
  ownerId: string;
}

/**
 * A second subgraph, as another team would run it: it owns `User.email`
 * (extending the chat service's User entity) and bookmarks that point at chat
 * rooms, messages and users it does not resolve itself.
 */
async function startAccounts(bookmarks: () => Bookmark[]): Promise<string> {
  const account = (id: string) => ({ id, email: `${id.slice(0, 8)}@accounts.test` });
  const typeDefs = parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    type User @key(fields: "id") { id: ID! email: String! }
    type Room @key(fields: "id", resolvable: false) { id: ID! }
    type Message @key(fields: "id", resolvable: false) { id: ID! }
    type Bookmark { label: String! room: Room message: Message owner: User! }
    type Query { bookmarks: [Bookmark!]! }
  `);
  const resolvers = {
    Query: { bookmarks: () => bookmarks() },
    Bookmark: {
      room: (b: Bookmark) => (b.roomId ? { __typename: 'Room', id: b.roomId } : null),
      message: (b: Bookmark) => (b.messageId ? { __typename: 'Message', id: b.messageId } : null),
      owner: (b: Bookmark) => account(b.ownerId),
    },
    User: { __resolveReference: (ref: { id: string }) => account(ref.id) },
  };
  const server = new ApolloServer({ schema: buildSubgraphSchema([{ typeDefs, resolvers }]), plugins: [ApolloServerPluginInlineTraceDisabled()] });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  onCleanup(() => server.stop());
  return url;
}

/** A gateway over both subgraphs, composed by introspecting them on loopback, passing each client's token on to the subgraphs. */
async function startGateway(chat: TestServer, accountsUrl: string, serviceToken: string): Promise<string> {
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({
      subgraphs: [
        { name: 'chat', url: chat.url },
        { name: 'accounts', url: accountsUrl },
      ],
      // The chat subgraph answers nothing without a token, its SDL included.
      introspectionHeaders: { authorization: `Bearer ${serviceToken}` },
    }),
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<{ authorization?: string }>({
        url,
        willSendRequest({ request, context }) {
          if (context.authorization) request.http?.headers.set('authorization', context.authorization);
        },
      }),
  });
  const server = new ApolloServer<{ authorization?: string }>({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  onCleanup(() => server.stop());
  return url;
}

describe('Apollo Federation: the API as a subgraph (SUBGRAPH=1)', () => {
  let chat: TestServer;
  let gateway: string;
  let alice: TestUser;
  let bob: TestUser;
  let outsider: TestUser;
  let bookmarks: Bookmark[] = [];

  beforeEach(async () => {
    chat = await startServer({ env: { SUBGRAPH: '1' } });
    alice = await signIn(chat.url, await makeUser({ name: 'Alice' }));
    bob = await signIn(chat.url, await makeUser({ name: 'Bob' }));
    outsider = await signIn(chat.url, await makeUser({ name: 'Olga of another company', companyId: randomUUID() }));
    bookmarks = [];
    const accounts = await startAccounts(() => bookmarks);
    gateway = await startGateway(chat, accounts, alice.token);
  });

  it('answers a query that crosses both subgraphs: chat users get the email the accounts subgraph owns', async () => {
    const roomId = await groupRoom(chat.url, alice, [bob]);
    await ok(chat.url, 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { roomId, content: 'hello' } }, bob.token);
    const data = await ok<{ me: { displayName: string; email: string }; messages: { content: string; sender: { displayName: string; email: string } }[] }>(
      gateway,
      'query Crossing($roomId: ID!) { me { displayName email } messages(roomId: $roomId) { content sender { displayName email } } }',
      { roomId },
      alice.token,
    );
    expect(data.me).to.deep.equal({ displayName: 'Alice', email: `${alice.id.slice(0, 8)}@accounts.test` });
    expect(data.messages).to.deep.equal([{ content: 'hello', sender: { displayName: 'Bob', email: `${bob.id.slice(0, 8)}@accounts.test` } }]);
  });

  it('resolves Room, Message and User references with the visibility of room(id) and message(id): NOT_FOUND for a room the caller cannot see, nothing of it leaked', async () => {
    const visible = await groupRoom(chat.url, alice, [], 'Visible room');
    const hidden = await groupRoom(chat.url, bob, [], 'Secret plans');
    const sent = await ok<{ sendMessage: { id: string } }>(
      chat.url,
      'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }',
      { input: { roomId: hidden, content: 'the secret itself' } },
      bob.token,
    );
    bookmarks = [
      { label: 'mine', roomId: visible, messageId: null, ownerId: bob.id },
      { label: 'not mine', roomId: hidden, messageId: null, ownerId: outsider.id },
      { label: 'a hidden message', roomId: null, messageId: sent.sendMessage.id, ownerId: alice.id },
    ];
    const res = await gql<{ bookmarks: { label: string; room: { name: string } | null; message: { content: string } | null; owner: { displayName: string | null; companyId: string | null; email: string } }[] }>(
      gateway,
      'query Marks { bookmarks { label room { id name } message { id content } owner { displayName companyId email } } }',
      {},
      alice.token,
    );
    expect(res.data, JSON.stringify(res.errors)).to.not.equal(null);
    const [mine, notMine, hiddenMessage] = res.data!.bookmarks;
    expect(mine.room, JSON.stringify(res)).to.deep.include({ name: 'Visible room' });
    // The gateway keeps the id the accounts subgraph gave; everything the chat subgraph would have added is null.
    expect(notMine.room).to.deep.equal({ id: hidden, name: null });
    expect(hiddenMessage.message).to.deep.equal({ id: sent.sendMessage.id, content: null });
    const codes = (res.errors ?? []).map((e) => [e.path?.join('.'), e.extensions.code, e.message]);
    expect(codes).to.deep.include.members([
      ['bookmarks.1.room', 'NOT_FOUND', 'Room not found'],
      ['bookmarks.2.message', 'NOT_FOUND', 'Message not found'],
    ]);
    const text = JSON.stringify(res);
    expect(text).not.to.include('Secret plans');
    expect(text).not.to.include('the secret itself');
    // A user of the caller's company shows their name; a user of another company answers as a user never seen.
    expect(mine.owner).to.deep.include({ displayName: 'Bob', companyId: bob.companyId });
    expect(notMine.owner).to.deep.include({ displayName: null, companyId: null, email: `${outsider.id.slice(0, 8)}@accounts.test` });
  });

  it('keeps subscriptions on its own WebSocket, with the API schema', async () => {
    const roomId = await groupRoom(chat.url, alice, [bob]);
    const sub = collect(wsClient(chat, bob.token), 'subscription($roomId: ID!) { messageAdded(roomId: $roomId) { content } }', { roomId });
    await waitFor(() => chat.app.bus.listenerCount === 1, 5000, 'the subscription');
    await ok(chat.url, 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { roomId, content: 'live' } }, alice.token);
    await waitFor(() => sub.data.length === 1, 5000, 'the delivery');
    expect(sub.data).to.deep.equal([{ messageAdded: { content: 'live' } }]);
  });

  it('refuses an _entities call of more representations than it resolves at once, before reading anything', async () => {
    const representations = Array.from({ length: 501 }, () => ({ __typename: 'Room', id: randomUUID() }));
    const res = await gql(chat.url, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Room { id } } }', { r: representations }, alice.token);
    expect(res.errors?.map((e) => e.extensions.code)).to.deep.equal(['BAD_USER_INPUT']);
    expect(res.extensions?.sqlStatements ?? 0).to.equal(0);
  });
});

describe('subgraph.graphql', () => {
  it('is the SDL the subgraph serves (run `npm run schema` after changing the API), and the default schema carries no federation directive', () => {
    const root = resolve(__dirname, '..');
    expect(readFileSync(resolve(root, 'subgraph.graphql'), 'utf8')).to.equal(printChatSubgraphSchema());
    expect(printChatSchema()).not.to.match(/@key|_entities|_service/);
  });
});
