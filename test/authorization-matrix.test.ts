import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { buildChatSchema } from '../src/graphql/schema';
import { gql, ok, type TestUser, newUser } from './support/client';
import { groupRoom, promote, send, type SentMessage } from './support/factories';
import { startServer, wsClient, type TestServer } from './support/server';
import { connects, sleep, waitFor } from './support/ws';
import { ADD_MEMBERS, ADD_REACTION, EDIT, REMOVE_MEMBER, SET_TYPING } from './support/operations';

/*
 * Who may do what: every Query, Mutation and Subscription field of the schema
 * against seven callers, as docs/behaviour.md and docs/decisions.md say.
 *
 *   owner          OWNER of the fixture's GROUP room
 *   admin          ADMIN of that room
 *   member         MEMBER of that room
 *   removedMember  was a MEMBER, then removed by the owner (inactive membership)
 *   nonMember      same company, never in the room
 *   otherCompany   a user whose token names another company_id
 *   noToken        no Authorization at all
 *
 * Rules the table follows: to anyone who is not an active member the room (and
 * its messages) is NOT_FOUND, as a room that does not exist; an active member
 * whose role is not enough gets FORBIDDEN; queries that are not about one room
 * (me, rooms, companyRooms, directChat) are 'ok' for anyone with a token; no
 * token is UNAUTHENTICATED over HTTP and a socket closed with 4401 over WebSocket.
 *
 * Every cell builds a fresh fixture (its own users and room) on one shared
 * server, so no cell depends on what another cell did.
 */

/* ------------------------------------------------------------------ table */

const CALLERS = ['owner', 'admin', 'member', 'removedMember', 'nonMember', 'otherCompany', 'noToken'] as const;
type Caller = (typeof CALLERS)[number];
type Outcome = 'ok' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'BAD_USER_INPUT';
/** One expected outcome per caller, in the order of CALLERS. */
type Row = readonly [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome];

const NF = 'NOT_FOUND';
const F = 'FORBIDDEN';
const U = 'UNAUTHENTICATED';

// prettier-ignore
const MATRIX = {
  //                  owner  admin  member removed nonMember otherCompany noToken
  /* Query */
  changes:           ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', U], // the caller's own rooms' changes: nothing to refuse
  companyRooms:      ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', U],
  directChat:        ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', U], // userId: peer (answers null when there is none)
  me:                ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', U],
  mentions:          ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', U], // the caller's own mentions: nothing to refuse
  message:           ['ok', 'ok', 'ok', NF,   NF,   NF,   U], // id: the owner's message
  messages:          ['ok', 'ok', 'ok', NF,   NF,   NF,   U],
  room:              ['ok', 'ok', 'ok', NF,   NF,   NF,   U],
  rooms:             ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', U],
  searchMessages:    ['ok', 'ok', 'ok', NF,   NF,   NF,   U], // roomId: the room
  thread:            ['ok', 'ok', 'ok', NF,   NF,   NF,   U], // parentId: the owner's message
  /* Mutation */
  addMembers:        ['ok', 'ok', F,    NF,   NF,   NF,   U], // userIds: [peer], role MEMBER (the default)
  addReaction:       ['ok', 'ok', 'ok', NF,   NF,   NF,   U], // on the owner's message
  banMember:         ['ok', 'ok', F,    NF,   NF,   NF,   U], // userId: target, a MEMBER who is not the caller
  createDirectChat:  ['ok', 'ok', 'ok', 'ok', 'ok', F,    U], // userId: peer, so otherCompany DMs another company
  createGroupChat:   ['ok', 'ok', 'ok', 'ok', 'ok', F,    U], // memberIds: [peer], so otherCompany adds another company
  createUpload:      ['ok', 'ok', 'ok', NF,   NF,   NF,   U], // a 1-byte text file for the room
  deleteMessage:     ['ok', 'ok', F,    NF,   NF,   NF,   U], // the OWNER's message: the admin deletes it as ADMIN
  editMessage:       [F,    F,    'ok', NF,   NF,   NF,   U], // the MEMBER's message: sender only, not even the OWNER
  markRoomRead:      ['ok', 'ok', 'ok', NF,   NF,   NF,   U],
  muteMember:        ['ok', 'ok', F,    NF,   NF,   NF,   U], // userId: target (a MEMBER), for an hour
  pinMessage:        ['ok', 'ok', F,    NF,   NF,   NF,   U], // the member's message, in a GROUP room: OWNER and ADMINs
  removeMember:      ['ok', 'ok', F,    NF,   NF,   NF,   U], // userId: target, a MEMBER who is not the caller
  removeReaction:    ['ok', 'ok', 'ok', NF,   NF,   NF,   U], // ':+1:' on the owner's message (the owner put it there)
  sendMessage:       ['ok', 'ok', 'ok', NF,   NF,   NF,   U],
  setSlowMode:       ['ok', 'ok', F,    NF,   NF,   NF,   U], // 30 seconds
  setTyping:         ['ok', 'ok', 'ok', NF,   NF,   NF,   U],
  unbanMember:       ['ok', 'ok', F,    NF,   NF,   NF,   U], // userId: target, banned by the owner first
  unmuteMember:      ['ok', 'ok', F,    NF,   NF,   NF,   U], // userId: target, muted by the owner first
  unpinMessage:      ['ok', 'ok', F,    NF,   NF,   NF,   U], // the owner's message, pinned by the owner
  updateMemberRole:  ['ok', F,    F,    NF,   NF,   NF,   U], // userId: target (a MEMBER), role ADMIN
  /* Subscription */
  membershipChanged: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', U], // event: see its request builder
  messageAdded:      ['ok', 'ok', 'ok', NF,   NF,   NF,   U], // roomId: the room
  messageUpdated:    ['ok', 'ok', 'ok', NF,   NF,   NF,   U], // roomId: the room
  presenceChanged:   ['ok', 'ok', 'ok', NF,   NF,   NF,   U], // roomId: the room
  readReceipt:       ['ok', 'ok', 'ok', NF,   NF,   NF,   U], // roomId: the room
  typing:            ['ok', 'ok', 'ok', NF,   NF,   NF,   U], // roomId: the room
} as const satisfies Record<string, Row>;

type Operation = keyof typeof MATRIX;

/* ---------------------------------------------------------------- fixture */

interface Fixture {
  url: string;
  companyId: string;
  /** The caller's user; null for noToken. */
  as: Record<Caller, TestUser | null>;
  owner: TestUser;
  admin: TestUser;
  member: TestUser;
  /** A second MEMBER of the room: whom removeMember / updateMemberRole act on (never the caller). */
  target: TestUser;
  removedMember: TestUser;
  nonMember: TestUser;
  otherCompany: TestUser;
  /** Same company, signed in, in no room: whom addMembers, createDirectChat, directChat and createGroupChat name. */
  peer: TestUser;
  roomId: string;
  /** Sent by the owner; the owner reacted ':+1:' to it and pinned it. */
  ownerMessage: SentMessage;
  /** Sent by the member. */
  memberMessage: SentMessage;
}

async function fixture(url: string): Promise<Fixture> {
  const companyId = randomUUID();
  const user = async (name: string, company = companyId) => newUser(url, { companyId: company, name });
  const owner = await user('Owner');
  const admin = await user('Admin');
  const member = await user('Member');
  const target = await user('Target');
  const removedMember = await user('Removed');
  const nonMember = await user('NonMember');
  const otherCompany = await user('OtherCompany', randomUUID());
  const peer = await user('Peer');
  const roomId = await groupRoom(url, owner, [admin, member, target, removedMember], 'Matrix');
  await promote(url, owner, roomId, admin, 'ADMIN');
  const ownerMessage = await send(url, owner, roomId, 'from the owner');
  const memberMessage = await send(url, member, roomId, 'from the member');
  await send(url, removedMember, roomId, 'from the soon removed member');
  await ok(url, ADD_REACTION, { id: ownerMessage.id, r: ':+1:' }, owner.token);
  await ok(url, `mutation($id: ID!) { pinMessage(id: $id) { id } }`, { id: ownerMessage.id }, owner.token);
  await ok(url, REMOVE_MEMBER, { r: roomId, u: removedMember.id }, owner.token);
  return {
    url,
    companyId,
    as: { owner, admin, member, removedMember, nonMember, otherCompany, noToken: null },
    owner,
    admin,
    member,
    target,
    removedMember,
    nonMember,
    otherCompany,
    peer,
    roomId,
    ownerMessage,
    memberMessage,
  };
}

/* --------------------------------------------------------------- requests */


interface Request {
  query: string;
  variables: Record<string, unknown>;
}

interface SubscriptionRequest extends Request {
  /** Causes (over HTTP) one event the caller should receive; called again until one arrives. */
  trigger: () => Promise<unknown>;
  /** Whether a delivered `data` is the event `trigger` causes. */
  relevant: (data: any) => boolean;
}

type Build = (f: Fixture, caller: Caller) => Request | SubscriptionRequest;

let counter = 0;

const REQUESTS: Record<Operation, Build> = {
  /* Query */
  changes: () => ({ query: '{ changes(limit: 10) { cursor hasMore messages { id } memberships { id } } }', variables: {} }),
  companyRooms: () => ({ query: '{ companyRooms { total items { id } } }', variables: {} }),
  directChat: (f) => ({ query: 'query($u: ID!) { directChat(userId: $u) { id } }', variables: { u: f.peer.id } }),
  me: () => ({ query: '{ me { id } }', variables: {} }),
  mentions: () => ({ query: '{ mentions(limit: 5) { id room { id } } }', variables: {} }),
  message: (f) => ({ query: 'query($id: ID!) { message(id: $id) { id content } }', variables: { id: f.ownerMessage.id } }),
  messages: (f) => ({ query: 'query($r: ID!) { messages(roomId: $r) { id } }', variables: { r: f.roomId } }),
  room: (f) => ({ query: 'query($id: ID!) { room(id: $id) { id name } }', variables: { id: f.roomId } }),
  rooms: () => ({ query: '{ rooms { total items { id } } }', variables: {} }),
  thread: (f) => ({ query: 'query($p: ID!) { thread(parentId: $p) { id parent { id } } }', variables: { p: f.ownerMessage.id } }),
  searchMessages: (f) => ({ query: 'query($r: ID) { searchMessages(query: "owner", roomId: $r) { snippet message { id } } }', variables: { r: f.roomId } }),

  /* Mutation */
  addMembers: (f) => ({ query: ADD_MEMBERS, variables: { r: f.roomId, u: [f.peer.id] } }),
  addReaction: (f) => ({ query: ADD_REACTION, variables: { id: f.ownerMessage.id, r: ':tada:' } }),
  createDirectChat: (f) => ({ query: 'mutation($u: ID!) { createDirectChat(userId: $u) { id } }', variables: { u: f.peer.id } }),
  createGroupChat: (f) => ({
    query: 'mutation($input: CreateGroupChatInput!) { createGroupChat(input: $input) { id } }',
    variables: { input: { name: 'Another group', memberIds: [f.peer.id] } },
  }),
  createUpload: (f) => ({
    query: 'mutation($r: ID!) { createUpload(roomId: $r, filename: "a.txt", contentType: "text/plain", size: 1) { attachmentId } }',
    variables: { r: f.roomId },
  }),
  deleteMessage: (f) => ({ query: 'mutation($id: ID!) { deleteMessage(id: $id) { id isDeleted } }', variables: { id: f.ownerMessage.id } }),
  editMessage: (f) => ({ query: EDIT, variables: { id: f.memberMessage.id, c: 'edited' } }),
  markRoomRead: (f) => ({ query: 'mutation($r: ID!) { markRoomRead(roomId: $r) { id } }', variables: { r: f.roomId } }),
  pinMessage: (f) => ({ query: 'mutation($id: ID!) { pinMessage(id: $id) { id pinnedAt } }', variables: { id: f.memberMessage.id } }),
  unpinMessage: (f) => ({ query: 'mutation($id: ID!) { unpinMessage(id: $id) { id pinnedAt } }', variables: { id: f.ownerMessage.id } }),
  removeMember: (f) => ({ query: REMOVE_MEMBER, variables: { r: f.roomId, u: f.target.id } }),
  removeReaction: (f) => ({
    query: 'mutation($id: ID!, $r: String!) { removeReaction(messageId: $id, reaction: $r) { id } }',
    variables: { id: f.ownerMessage.id, r: ':+1:' },
  }),
  sendMessage: (f) => ({
    query: 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }',
    variables: { input: { roomId: f.roomId, content: 'hello' } },
  }),
  setTyping: (f) => ({ query: SET_TYPING, variables: { r: f.roomId, t: true } }),
  muteMember: (f) => ({
    query: 'mutation($r: ID!, $u: ID!, $until: DateTime) { muteMember(roomId: $r, userId: $u, until: $until) { id mutedUntil } }',
    variables: { r: f.roomId, u: f.target.id, until: new Date(Date.now() + 3_600_000).toISOString() },
  }),
  unmuteMember: (f) => ({ query: 'mutation($r: ID!, $u: ID!) { unmuteMember(roomId: $r, userId: $u) { id mutedUntil } }', variables: { r: f.roomId, u: f.target.id } }),
  banMember: (f) => ({ query: 'mutation($r: ID!, $u: ID!) { banMember(roomId: $r, userId: $u) }', variables: { r: f.roomId, u: f.target.id } }),
  unbanMember: (f) => ({ query: 'mutation($r: ID!, $u: ID!) { unbanMember(roomId: $r, userId: $u) }', variables: { r: f.roomId, u: f.target.id } }),
  setSlowMode: (f) => ({ query: 'mutation($r: ID!, $s: Int!) { setSlowMode(roomId: $r, seconds: $s) { id slowModeSeconds } }', variables: { r: f.roomId, s: 30 } }),
  updateMemberRole: (f) => ({
    query: 'mutation($r: ID!, $u: ID!, $role: MemberRole!) { updateMemberRole(roomId: $r, userId: $u, role: $role) { id role } }',
    variables: { r: f.roomId, u: f.target.id, role: 'ADMIN' },
  }),

  /* Subscription: the triggers are HTTP requests by the owner. */

  /*
   * membershipChanged takes no room, so every caller with a token may subscribe.
   * The event each one should receive:
   * - owner, admin, member: the owner adds a fresh user to the room (a member of a room they belong to);
   * - removedMember, nonMember: the owner adds the caller, then removes them again (their own membership);
   * - otherCompany: cannot be added to the room (company scope), so the owner of a
   *   room of their own company adds and removes them (their own membership).
   */
  membershipChanged: (f, caller) => {
    const me = f.as[caller];
    const query = 'subscription { membershipChanged { kind room { id } member { user { id } } } }';
    if (caller === 'owner' || caller === 'admin' || caller === 'member' || caller === 'noToken') {
      const newcomers = new Set<string>();
      return {
        query,
        variables: {},
        trigger: async () => {
          const newcomer = await newUser(f.url, { companyId: f.companyId, name: `Newcomer ${++counter}` });
          newcomers.add(newcomer.id);
          await ok(f.url, ADD_MEMBERS, { r: f.roomId, u: [newcomer.id] }, f.owner.token);
        },
        relevant: (d) => d.membershipChanged.room.id === f.roomId && newcomers.has(d.membershipChanged.member.user.id),
      };
    }
    let theirs: Promise<{ owner: TestUser; roomId: string }> | null = null;
    const room = () => {
      if (caller !== 'otherCompany') return Promise.resolve({ owner: f.owner, roomId: f.roomId });
      theirs ??= (async () => {
        const owner = await newUser(f.url, { companyId: f.otherCompany.companyId, name: 'Their owner' });
        return { owner, roomId: await groupRoom(f.url, owner, [], 'Theirs') };
      })();
      return theirs;
    };
    return {
      query,
      variables: {},
      trigger: async () => {
        const { owner, roomId } = await room();
        await ok(f.url, ADD_MEMBERS, { r: roomId, u: [me!.id] }, owner.token);
        await ok(f.url, REMOVE_MEMBER, { r: roomId, u: me!.id }, owner.token);
      },
      relevant: (d) => d.membershipChanged.member.user.id === me!.id,
    };
  },
  messageAdded: (f) => ({
    query: 'subscription($r: ID) { messageAdded(roomId: $r) { id room { id } } }',
    variables: { r: f.roomId },
    trigger: () => send(f.url, f.owner, f.roomId, `trigger ${++counter}`),
    relevant: (d) => d.messageAdded.room.id === f.roomId,
  }),
  messageUpdated: (f) => ({
    query: 'subscription($r: ID) { messageUpdated(roomId: $r) { id content } }',
    variables: { r: f.roomId },
    trigger: () => ok(f.url, EDIT, { id: f.ownerMessage.id, c: `edit ${++counter}` }, f.owner.token),
    relevant: (d) => d.messageUpdated.id === f.ownerMessage.id,
  }),
  // A member of the room (the target) opens a socket and closes it: every active member hears them come and go.
  presenceChanged: (f) => ({
    query: 'subscription($r: ID!) { presenceChanged(roomId: $r) { online user { id } } }',
    variables: { r: f.roomId },
    trigger: async () => {
      const socket = await connects({ wsUrl: f.url.replace(/^http/, 'ws') }, f.target.token);
      await sleep(20);
      await socket.dispose();
    },
    relevant: (d) => d.presenceChanged.user.id === f.target.id,
  }),
  // The owner's read position moves forward: every active member hears it.
  readReceipt: (f) => ({
    query: 'subscription($r: ID!) { readReceipt(roomId: $r) { room { id } user { id } lastReadAt } }',
    variables: { r: f.roomId },
    trigger: async () => {
      await sleep(5);
      return ok(f.url, 'mutation($r: ID!) { markRoomRead(roomId: $r) { id } }', { r: f.roomId }, f.owner.token);
    },
    relevant: (d) => d.readReceipt.room.id === f.roomId && d.readReceipt.user.id === f.owner.id,
  }),
  // Typing is not echoed to the typist: when the caller is the owner, the member types instead.
  typing: (f, caller) => ({
    query: 'subscription($r: ID!) { typing(roomId: $r) { room { id } user { id } } }',
    variables: { r: f.roomId },
    trigger: () => ok(f.url, SET_TYPING, { r: f.roomId, t: true }, (caller === 'owner' ? f.member : f.owner).token),
    relevant: (d) => d.typing.room.id === f.roomId,
  }),
};

/** What an operation needs done to the fixture first (by the owner), so that its call has something to undo. */
const PREPARE: Partial<Record<Operation, (f: Fixture) => Promise<unknown>>> = {
  unmuteMember: (f) => ok(f.url, 'mutation($r: ID!, $u: ID!) { muteMember(roomId: $r, userId: $u) { id } }', { r: f.roomId, u: f.target.id }, f.owner.token),
  unbanMember: (f) => ok(f.url, 'mutation($r: ID!, $u: ID!) { banMember(roomId: $r, userId: $u) }', { r: f.roomId, u: f.target.id }, f.owner.token),
};

/* ---------------------------------------------------------------- helpers */

/** The outcome of one HTTP request: 'ok', or the first error's code. */
async function httpOutcome(url: string, request: Request, token: string | null): Promise<{ outcome: string; detail: string }> {
  const res = await gql(url, request.query, request.variables, token);
  if (res.errors?.length) return { outcome: res.errors[0].extensions?.code ?? '(no code)', detail: JSON.stringify(res.errors) };
  if (res.data === null || res.data === undefined) return { outcome: '(no data)', detail: `status ${res.status}` };
  return { outcome: 'ok', detail: JSON.stringify(res.data) };
}

const SUBSCRIPTION_TIMEOUT_MS = 3000;

/** Subscribes as `token` and checks the outcome `expected` (see the header). */
async function checkSubscription(server: TestServer, token: string | null, request: SubscriptionRequest, expected: Outcome): Promise<void> {
  const data: any[] = [];
  const errors: { code: string | undefined; message: string }[] = [];
  let closeCode: number | null = null;
  const client = wsClient(server, token, {
    lazy: true,
    // Keep the socket after a refused (hence finished) subscription: a close by the server shows.
    lazyCloseTimeout: 60_000,
    on: { closed: (event) => (closeCode = (event as { code: number }).code) },
  });
  client.subscribe(
    { query: request.query, variables: request.variables },
    {
      next: (result) => {
        if (result.errors?.length) for (const e of result.errors) errors.push({ code: (e as any).extensions?.code, message: e.message });
        else if (result.data) data.push(result.data);
      },
      error: (error: unknown) => {
        if (Array.isArray(error)) for (const e of error) errors.push({ code: e?.extensions?.code, message: String(e?.message) });
        else if (error && typeof error === 'object' && 'code' in error) {
          closeCode ??= (error as { code: number }).code;
        } else errors.push({ code: undefined, message: String(error) });
      },
      complete: () => {},
    },
  );

  if (expected === 'UNAUTHENTICATED') {
    await waitFor(() => closeCode !== null || errors.length > 0, SUBSCRIPTION_TIMEOUT_MS, 'the socket to be closed');
    expect({ closeCode, errors }, 'no token: the socket is closed with 4401').to.deep.equal({ closeCode: 4401, errors: [] });
    expect(data).to.deep.equal([]);
    return;
  }

  if (expected === 'ok') {
    // graphql-ws does not acknowledge a subscription: trigger until the event arrives (bounded).
    const deadline = Date.now() + SUBSCRIPTION_TIMEOUT_MS;
    const done = () => data.some(request.relevant) || errors.length > 0 || closeCode !== null;
    while (!done() && Date.now() < deadline) {
      await request.trigger();
      const pause = Date.now() + 300;
      while (!done() && Date.now() < pause) await sleep(20);
    }
    expect(errors, 'the subscription is accepted').to.deep.equal([]);
    expect(closeCode, 'the socket stays open').to.equal(null);
    expect(data.some(request.relevant), `the next relevant event arrives within ${SUBSCRIPTION_TIMEOUT_MS} ms (got ${JSON.stringify(data)})`).to.equal(true);
    return;
  }

  await waitFor(() => errors.length > 0 || closeCode !== null, SUBSCRIPTION_TIMEOUT_MS, `the subscription to be refused with ${expected}`);
  expect({ codes: errors.map((e) => e.code), closeCode }).to.deep.equal({ codes: [expected], closeCode: null });
  expect(data, 'nothing is delivered').to.deep.equal([]);
}

/* ------------------------------------------------------------------ tests */

const schema = buildChatSchema();
const subscriptionFields = new Set(Object.keys(schema.getSubscriptionType()?.getFields() ?? {}));
const schemaOperations = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
  .flatMap((type) => Object.keys(type?.getFields() ?? {}))
  .sort();

describe('authorization matrix', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ keep: true, env: { MESSAGE_RATE_LIMIT: '100000/10', REACTION_RATE_LIMIT: '100000/10' } });
  });

  after(async () => {
    await server?.app.stop();
  });

  it('covers every operation of the schema (one row per Query, Mutation and Subscription field, no stale row)', () => {
    expect(Object.keys(MATRIX).sort()).to.deep.equal(schemaOperations);
    expect(Object.keys(REQUESTS).sort()).to.deep.equal(schemaOperations);
  });

  for (const operation of Object.keys(MATRIX) as Operation[]) {
    describe(operation, () => {
      CALLERS.forEach((caller, i) => {
        const expected: Outcome = MATRIX[operation][i];
        it(`${operation} as ${caller}: ${expected}`, async () => {
          const f = await fixture(server.url);
          const token = f.as[caller]?.token ?? null;
          await PREPARE[operation]?.(f);
          const request = REQUESTS[operation](f, caller);
          if (subscriptionFields.has(operation)) {
            expect(request, `${operation} is a subscription: its builder needs trigger and relevant`).to.have.property('trigger');
            await checkSubscription(server, token, request as SubscriptionRequest, expected);
          } else {
            const { outcome, detail } = await httpOutcome(server.url, request, token);
            expect(outcome, detail).to.equal(expected);
          }
        });
      });
    });
  }

  /*
   * Ids are no oracle: to a non-member, an existing room or message answers
   * exactly as a random id that names nothing.
   */
  describe('room-scoped reads: an existing id answers as a nonexistent one', () => {
    const HIDDEN = {
      room: { query: 'query($id: ID!) { room(id: $id) { id } }', existing: (f: Fixture) => f.roomId },
      messages: { query: 'query($id: ID!) { messages(roomId: $id) { id } }', existing: (f: Fixture) => f.roomId },
      message: { query: 'query($id: ID!) { message(id: $id) { id } }', existing: (f: Fixture) => f.ownerMessage.id },
      'Room.members': { query: 'query($id: ID!) { room(id: $id) { members { id user { id } } } }', existing: (f: Fixture) => f.roomId },
      searchMessages: { query: 'query($id: ID) { searchMessages(query: "owner", roomId: $id) { snippet } }', existing: (f: Fixture) => f.roomId },
      thread: { query: 'query($id: ID!) { thread(parentId: $id) { id } }', existing: (f: Fixture) => f.ownerMessage.id },
      'Room.pinnedMessages': { query: 'query($id: ID!) { room(id: $id) { pinnedMessages { id } } }', existing: (f: Fixture) => f.roomId },
      'Room.readReceipts': { query: 'query($id: ID!) { room(id: $id) { readReceipts { lastReadAt } } }', existing: (f: Fixture) => f.roomId },
      'Message.readBy / parent / mentions': {
        query: 'query($id: ID!) { message(id: $id) { readBy { id } parent { id } mentions { id } readCount } }',
        existing: (f: Fixture) => f.ownerMessage.id,
      },
    } satisfies Record<string, { query: string; existing: (f: Fixture) => string }>;

    for (const [read, { query, existing }] of Object.entries(HIDDEN)) {
      for (const caller of ['nonMember', 'otherCompany'] as const) {
        it(`${read} as ${caller}: the same NOT_FOUND error for an existing and a missing id`, async () => {
          const f = await fixture(server.url);
          const token = f.as[caller]!.token;
          const real = await gql(server.url, query, { id: existing(f) }, token);
          const missing = await gql(server.url, query, { id: randomUUID() }, token);
          const shape = (res: typeof real) => ({
            data: res.data ?? null,
            errors: (res.errors ?? []).map((e) => ({ code: e.extensions?.code, message: e.message })),
          });
          expect(shape(missing).errors.map((e) => e.code)).to.deep.equal([NF]);
          expect(shape(real)).to.deep.equal(shape(missing));
        });
      }
    }
  });
});
