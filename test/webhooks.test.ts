import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { verifyWebhook } from '../src/webhooks/signature';
import { newUser, ok } from './support/client';
import { groupRoom, send } from './support/factories';
import { testDatabaseUrl } from './support/hooks';
import { ADD_MEMBERS, ADD_REACTION, DELETE, EDIT, REMOVE_MEMBER, REMOVE_REACTION, UPDATE_ROLE } from './support/operations';
import { countRows, onCleanup, startServer, TEST_JWT_SECRET, wsClient, type TestServer } from './support/server';
import { webhookReceiver, type Received, type WebhookReceiver } from './support/webhook-receiver';
import { ready, sleep, waitFor } from './support/ws';

const SECRET = 'webhook-test-secret';
const NO_RATE_LIMIT = { MESSAGE_RATE_LIMIT: '100000/10', EDIT_RATE_LIMIT: '100000/10', REACTION_RATE_LIMIT: '100000/10', ROOM_RATE_LIMIT: '100000/10', MEMBER_RATE_LIMIT: '100000/10', ROLE_RATE_LIMIT: '100000/10' };

/** Webhooks to `receivers`, with the waits shortened: first retry after 1 s, 1 s timeout, dead deliveries looked for every second. */
function hooksTo(receivers: WebhookReceiver[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    WEBHOOK_URLS: receivers.map((r) => r.url).join(','),
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_RETRY_DELAY_SECONDS: '1',
    WEBHOOK_TIMEOUT_MS: '1000',
    WEBHOOK_SUPERVISE_SECONDS: '1',
    ...NO_RATE_LIMIT,
    ...extra,
  };
}

const types = (hits: Received[]) => hits.map((h) => h.body.type);
const createdSeqs = (hits: Received[]) => hits.filter((h) => h.body.type === 'message.created').map((h) => h.body.data.message.seq as number);

describe('webhooks', function () {
  this.timeout(60_000);

  it('signs each event: X-Chat-Signature is sha256=<HMAC of "<timestamp>.<body>"> with WEBHOOK_SECRET, beside X-Chat-Timestamp', async () => {
    const receiver = await webhookReceiver();
    const server = await startServer({ env: hooksTo([receiver]) });
    const owner = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner);
    const sent = await send(server.url, owner, roomId, 'signed and sealed');

    await waitFor(() => receiver.ofRoom(roomId).some((h) => h.body.type === 'message.created'), 10_000, 'the message.created event');
    const hit = receiver.ofRoom(roomId).find((h) => h.body.type === 'message.created')!;
    const signature = hit.headers['x-chat-signature'] as string;
    const timestamp = hit.headers['x-chat-timestamp'] as string;
    expect(signature).to.match(/^sha256=[0-9a-f]{64}$/);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).to.be.below(30);
    expect(verifyWebhook(SECRET, timestamp, hit.raw, signature)).to.equal(true);
    // Another secret, another body or another timestamp does not verify.
    expect(verifyWebhook('another-secret', timestamp, hit.raw, signature)).to.equal(false);
    expect(verifyWebhook(SECRET, timestamp, hit.raw.replace('signed', 'forged'), signature)).to.equal(false);
    expect(verifyWebhook(SECRET, String(Number(timestamp) + 1), hit.raw, signature)).to.equal(false);

    expect(hit.headers['content-type']).to.equal('application/json');
    expect(Object.keys(hit.body).sort()).to.deep.equal(['createdAt', 'data', 'id', 'roomId', 'type']);
    expect(hit.body.id).to.match(/^[0-9a-f-]{36}$/);
    expect(new Date(hit.body.createdAt).toISOString()).to.equal(hit.body.createdAt);
    const message = hit.body.data.message;
    expect(message).to.include({ id: sent.id, roomId, seq: sent.seq, senderId: owner.id, content: 'signed and sealed', type: 'TEXT', isDeleted: false });
    // How the service keeps the row is not for receivers.
    for (const internal of ['version', 'versionXid', 'versionFloor', 'search', 'clientId', 'revision']) expect(message).not.to.have.property(internal);
  });

  it('posts every message, reaction and membership change of a room, in the order they committed', async () => {
    const receiver = await webhookReceiver();
    const server = await startServer({ env: hooksTo([receiver]) });
    const owner = await newUser(server.url);
    const member = await newUser(server.url);
    const late = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner, [member]);
    const { id } = await send(server.url, owner, roomId, 'first');
    await ok(server.url, EDIT, { id, c: 'first, edited' }, owner.token);
    await ok(server.url, ADD_REACTION, { id, r: '👍' }, member.token);
    await ok(server.url, REMOVE_REACTION, { id, r: '👍' }, member.token);
    await ok(server.url, ADD_MEMBERS, { r: roomId, u: [late.id] }, owner.token);
    await ok(server.url, UPDATE_ROLE, { r: roomId, u: late.id, role: 'ADMIN' }, owner.token);
    await ok(server.url, REMOVE_MEMBER, { r: roomId, u: late.id }, owner.token);
    await ok(server.url, DELETE, { id }, owner.token);
    // A read position is no membership change.
    await ok(server.url, `mutation($r: ID!) { markRoomRead(roomId: $r) { lastReadAt } }`, { r: roomId }, member.token);

    const expected = [
      'member.added',
      'member.added',
      'message.created',
      'message.updated',
      'reaction.added',
      'reaction.removed',
      'member.added',
      'member.updated',
      'member.removed',
      'message.deleted',
    ];
    await waitFor(() => receiver.ofRoom(roomId).length >= expected.length, 10_000, `${expected.length} events`);
    await sleep(300);
    const hits = receiver.ofRoom(roomId);
    expect(types(hits)).to.deep.equal(expected);
    expect(new Set(hits.map((h) => h.body.id)).size).to.equal(expected.length);
    expect(hits[3].body.data.message).to.include({ id, content: 'first, edited' });
    expect(hits[4].body.data.reaction).to.include({ messageId: id, userId: member.id, reaction: '👍' });
    expect(hits[7].body.data.member).to.include({ userId: late.id, role: 'ADMIN', isActive: true });
    expect(hits[8].body.data.member).to.include({ userId: late.id, isActive: false });
    expect(hits[9].body.data.message).to.include({ id, isDeleted: true, content: null });
  });

  it('writes no outbox row when webhooks are off: the send path calls no trigger function', async () => {
    const server = await startServer({ env: NO_RATE_LIMIT });
    const owner = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner);
    await send(server.url, owner, roomId, 'nobody listens');
    expect(await countRows(server, `SELECT count(*)::int AS n FROM webhook_events WHERE room_id = $1`, [roomId])).to.equal(0);
  });
});
