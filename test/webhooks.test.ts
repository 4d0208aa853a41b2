import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { verifyWebhook } from '../src/webhooks/signature';
import { newUser, ok } from './support/client';
import { groupRoom, send } from './support/factories';
import { startServerProcess } from './support/process';
import { ADD_MEMBERS, ADD_REACTION, DELETE, EDIT, REMOVE_MEMBER, REMOVE_REACTION, UPDATE_ROLE } from './support/operations';
import { countRows, onCleanup, startServer } from './support/server';
import { webhookReceiver, type Received, type WebhookReceiver } from './support/webhook-receiver';
import { connects, sleep, waitFor } from './support/ws';

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
    // The format BEHAVIOUR.md gives, computed here on its own, and the helper receivers may use.
    expect(signature).to.equal(`sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${hit.raw}`).digest('hex')}`);
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

  it('keeps commit order per room while several rooms send at once', async () => {
    const receiver = await webhookReceiver();
    // A receiver that answers after a random while: deliveries of different rooms overlap and finish out of order.
    receiver.answer = () => ({ status: 200, delayMs: Math.floor(Math.random() * 15) });
    const server = await startServer({ env: hooksTo([receiver]) });
    const senders = await Promise.all([1, 2, 3].map(() => newUser(server.url)));
    const rooms = await Promise.all(Array.from({ length: 4 }, () => groupRoom(server.url, senders[0], senders.slice(1))));
    const perRoom = 15;
    // Everyone sends to every room at once: within a room the seq (commit order) decides, not the order of the requests.
    await Promise.all(rooms.flatMap((roomId) => Array.from({ length: perRoom }, (_, i) => send(server.url, senders[i % senders.length], roomId, `m${i}`))));
    await waitFor(() => rooms.every((roomId) => createdSeqs(receiver.ofRoom(roomId)).length === perRoom), 20_000, 'every message of every room');
    for (const roomId of rooms) {
      expect(createdSeqs(receiver.ofRoom(roomId))).to.deep.equal(Array.from({ length: perRoom }, (_, i) => i + 1));
    }
  });

  it('delivers everything, in order, to a receiver that was down for a while, once it is back', async () => {
    const receiver = await webhookReceiver();
    const server = await startServer({ env: hooksTo([receiver]) });
    const owner = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner);
    await waitFor(() => receiver.ofRoom(roomId).length === 1, 10_000, 'the owner joining');
    await receiver.stop();
    for (let i = 1; i <= 5; i++) await send(server.url, owner, roomId, `while down ${i}`);
    await sleep(1_500);
    expect(receiver.ofRoom(roomId)).to.have.length(1);
    // Back, but its first answer is a 503: a failure too.
    let refused = 0;
    receiver.answer = (hit) => (hit.body.roomId === roomId && refused++ === 0 ? { status: 503 } : { status: 200 });
    await receiver.start();
    // The next attempts come after their backoff (1, 2, 4, 8 s... with jitter).
    await waitFor(() => createdSeqs(receiver.ofRoom(roomId)).length === 5, 30_000, 'the five messages after the receiver came back');
    expect(refused).to.be.above(1);
    expect(createdSeqs(receiver.ofRoom(roomId))).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('keeps an event as dead once the retry window has passed, and the room goes on', async () => {
    const receiver = await webhookReceiver();
    receiver.answer = (hit) => ({ status: hit.body.type === 'message.created' && hit.body.data.message.content === 'poison' ? 500 : 200 });
    const server = await startServer({ env: hooksTo([receiver], { WEBHOOK_RETRY_WINDOW_SECONDS: '3' }) });
    const owner = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner);
    const poison = await send(server.url, owner, roomId, 'poison');
    const after = await send(server.url, owner, roomId, 'after');

    await waitFor(() => createdSeqs(receiver.ofRoom(roomId)).includes(after.seq), 20_000, 'the message after the dead one');
    const tries = receiver.attempts.filter((h) => h.body.data.message?.id === poison.id);
    expect(tries.length).to.be.at.least(2);
    // Retried with growing gaps (1 s, then about 2 s...), never after the window.
    expect(tries[1].at - tries[0].at).to.be.at.least(800);
    // Head of line: the next event waited for the dead one.
    const afterAt = receiver.ofRoom(roomId).find((h) => h.body.data.message?.id === after.id)!.at;
    expect(afterAt).to.be.above(tries[tries.length - 1].at);
    const [dead] = await server.app.db.query<{ url: string; attempts: number; last_error: string; body: string }>(
      `SELECT d.url, d.attempts, d.last_error, d.body FROM webhook_dead_events d JOIN webhook_events e ON e.id = d.event_id WHERE e.room_id = $1`,
      [roomId],
    );
    expect(dead).to.include({ url: receiver.url, last_error: 'HTTP 500', attempts: tries.length });
    expect(JSON.parse(dead.body).data.message.id).to.equal(poison.id);
    // /metrics counts each attempt's outcome.
    const metrics = await fetch(server.url.replace('/graphql', '/metrics')).then((r) => r.text());
    const counted = (outcome: string) => Number(new RegExp(`chat_webhook_deliveries_total\\{outcome="${outcome}"\\} (\\d+)`).exec(metrics)?.[1]);
    expect(counted('dead')).to.be.at.least(1);
    expect(counted('failed')).to.be.at.least(tries.length - 1);
    expect(counted('delivered')).to.be.at.least(2);
  });

  it('prunes the outbox batch after batch however many rows have piled up, and dead events after 30 days', async () => {
    const receiver = await webhookReceiver();
    const server = await startServer({ env: hooksTo([receiver], { WEBHOOK_RETRY_WINDOW_SECONDS: '3' }) });
    const roomId = randomUUID();
    // Pruning walks the key while rows are old (ids grow with time): earlier tests' rows, young, would stop it first.
    await server.app.db.query(`UPDATE webhook_events SET created_at = created_at - interval '1 hour'`);
    // 25,000 delivered events a minute old (past twice the window), 100 young ones; 12,000 dead events, half 31 days old.
    await server.app.db.query(
      `INSERT INTO webhook_events (event_id, type, room_id, snapshot, created_at, relayed)
       SELECT gen_random_uuid(), 'message.created', $1, '{}', clock_timestamp() - CASE WHEN g <= 25000 THEN interval '1 minute' ELSE interval '0' END, true
       FROM generate_series(1, 25100) g`,
      [roomId],
    );
    await server.app.db.query(
      `INSERT INTO webhook_dead_events (event_id, url, body, attempts, last_error, died_at)
       SELECT g, 'http://x.test', '{}', 3, 'HTTP 500', clock_timestamp() - CASE WHEN g % 2 = 0 THEN interval '31 days' ELSE interval '29 days' END
       FROM generate_series(1, 12000) g`,
    );
    await server.app.webhooks!.prune();
    const left = async (sql: string) => Number((await server.app.db.query<{ n: number }>(sql, [roomId]))[0].n);
    expect(await left(`SELECT count(*)::int AS n FROM webhook_events WHERE room_id = $1`)).to.equal(100);
    expect(await left(`SELECT count(*)::int AS n FROM webhook_dead_events WHERE url = 'http://x.test' AND $1::uuid IS NOT NULL`)).to.equal(6000);
  });

  it('holds back only the URL that fails: another URL gets the room\'s events meanwhile', async () => {
    const failing = await webhookReceiver();
    failing.answer = () => ({ status: 503 });
    const healthy = await webhookReceiver();
    const server = await startServer({ env: hooksTo([failing, healthy]) });
    const owner = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner);
    for (let i = 1; i <= 3; i++) await send(server.url, owner, roomId, `m${i}`);
    await waitFor(() => createdSeqs(healthy.ofRoom(roomId)).length === 3, 10_000, 'the healthy receiver getting all three');
    expect(createdSeqs(healthy.ofRoom(roomId))).to.deep.equal([1, 2, 3]);
    // The failing URL is still retrying the room's first event (the owner joining): nothing after it was tried there.
    expect(new Set(failing.attempts.filter((h) => h.body.roomId === roomId).map((h) => h.body.type))).to.deep.equal(new Set(['member.added']));
  });

  it('delivers each event once when two servers share the outbox', async () => {
    const receiver = await webhookReceiver();
    const one = await startServer({ env: hooksTo([receiver]) });
    const two = await startServer({ env: hooksTo([receiver]) });
    const owner = await newUser(one.url);
    const rooms = await Promise.all([1, 2, 3].map(() => groupRoom(one.url, owner)));
    await Promise.all(rooms.flatMap((roomId, r) => Array.from({ length: 10 }, (_, i) => send((i + r) % 2 ? one.url : two.url, owner, roomId, `m${i}`))));
    await waitFor(() => rooms.every((roomId) => createdSeqs(receiver.ofRoom(roomId)).length === 10), 20_000, 'thirty messages');
    await sleep(1_000);
    const mine = receiver.attempts.filter((h) => rooms.includes(h.body.roomId));
    expect(mine).to.have.length(33);
    expect(new Set(mine.map((h) => h.body.id)).size).to.equal(33);
    for (const roomId of rooms) expect(createdSeqs(receiver.ofRoom(roomId))).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('tells a push service which members of a new message have no open socket', async () => {
    const receiver = await webhookReceiver();
    const server = await startServer({ env: hooksTo([receiver]) });
    const sender = await newUser(server.url);
    const online = await newUser(server.url);
    const offline = await newUser(server.url);
    const gone = await newUser(server.url);
    const roomId = await groupRoom(server.url, sender, [online, offline, gone]);
    await ok(server.url, REMOVE_MEMBER, { r: roomId, u: gone.id }, sender.token);
    await connects(server, online.token);
    const { id } = await send(server.url, sender, roomId, 'are you there?', { mentionIds: [offline.id, online.id] });

    await waitFor(() => receiver.ofRoom(roomId).some((h) => h.body.type === 'message.created'), 10_000, 'the message.created event');
    const created = receiver.ofRoom(roomId).find((h) => h.body.type === 'message.created')!;
    expect(created.body.data.message).to.include({ id, senderId: sender.id, content: 'are you there?' });
    // Not the sender, not who left, not who has a socket open: only the member who would miss it.
    expect(created.body.data.offlineMemberIds).to.deep.equal([offline.id]);
    expect(created.body.data.mentionIds).to.deep.equal([offline.id, online.id]);
    // Other kinds carry no recipients.
    for (const hit of receiver.ofRoom(roomId).filter((h) => h.body.type !== 'message.created')) expect(hit.body.data).to.have.all.keys('member');
  });

  it("reads a new message's push audience once for all its URLs", async () => {
    const receivers = [await webhookReceiver(), await webhookReceiver(), await webhookReceiver()];
    const server = await startServer({ env: hooksTo(receivers) });
    const sender = await newUser(server.url);
    const roomId = await groupRoom(server.url, sender, [await newUser(server.url), await newUser(server.url)]);
    const audienceReads: string[] = [];
    server.app.db.observer = (text) => {
      if (text.includes('FROM room_members WHERE room_id = $1 AND is_active AND user_id IS DISTINCT FROM $2')) audienceReads.push(text);
    };
    await send(server.url, sender, roomId, 'to everyone');
    await waitFor(() => receivers.every((r) => r.ofRoom(roomId).some((h) => h.body.type === 'message.created')), 10_000, 'the event at every URL');
    const bodies = receivers.map((r) => r.ofRoom(roomId).find((h) => h.body.type === 'message.created')!.body.data.offlineMemberIds);
    expect(bodies[1]).to.deep.equal(bodies[0]);
    expect(bodies[2]).to.deep.equal(bodies[0]);
    expect(bodies[0]).to.have.length(2);
    expect(audienceReads).to.have.length(1);
  });

  it('loses nothing when a server is killed (SIGKILL) mid-delivery: after a restart every event arrives, in order', async () => {
    const receiver = await webhookReceiver();
    const env = hooksTo([receiver]);
    const first = await startServerProcess(env);
    const owner = await newUser(first.url);
    const roomId = await groupRoom(first.url, owner);
    // The first message's delivery hangs at the receiver: the server dies while it is in flight.
    let hung = false;
    const inFlight = new Promise<void>((resolveHit) => {
      receiver.onRequest = (hit) => {
        if (hit.body.roomId === roomId && hit.body.type === 'message.created' && !hung) {
          hung = true;
          resolveHit();
        }
      };
    });
    receiver.answer = (hit) => (hit.body.type === 'message.created' && hit.body.data.message.seq === 1 && receiver.attempts.filter((h) => h.body.id === hit.body.id).length === 1 ? { status: 200, delayMs: 20_000 } : { status: 200 });
    for (let i = 1; i <= 5; i++) await send(first.url, owner, roomId, `before the crash ${i}`);
    await inFlight;
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(createdSeqs(receiver.ofRoom(roomId))).to.deep.equal([]);

    const second = await startServerProcess(env);
    await send(second.url, owner, roomId, 'after the restart');
    // The dead server's delivery is found when it expires (timeout + 5 s), then retried; the rest wait behind it.
    await waitFor(() => createdSeqs(receiver.ofRoom(roomId)).length === 6, 30_000, 'all six messages');
    expect(createdSeqs(receiver.ofRoom(roomId))).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('ships a push receiver (examples/push-receiver) that verifies the signature and logs the push for each offline member', async () => {
    const child = spawn(process.execPath, [resolve(__dirname, '../examples/push-receiver/server.mjs')], {
      env: { ...process.env, WEBHOOK_SECRET: SECRET, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onCleanup(() => child.exitCode === null && child.kill('SIGKILL'));
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor(() => /push receiver on (http:\S+)/.test(out), 10_000, 'the push receiver');
    const url = /push receiver on (http:\S+)/.exec(out)![1];
    // A POST without a valid signature is refused.
    const forged = await fetch(url, { method: 'POST', headers: { 'x-chat-timestamp': String(Math.floor(Date.now() / 1000)), 'x-chat-signature': 'sha256=00' }, body: '{}' });
    expect(forged.status).to.equal(401);

    const server = await startServer({ env: { ...hooksTo([]), WEBHOOK_URLS: url } });
    const sender = await newUser(server.url);
    const away = await newUser(server.url);
    const roomId = await groupRoom(server.url, sender, [away]);
    await send(server.url, sender, roomId, 'lunch?', { mentionIds: [away.id] });
    await waitFor(() => out.includes(`push to ${away.id} (mentioned): room ${roomId}, from ${sender.id}: "lunch?"`), 10_000, 'the logged push');
    expect(out).not.to.include(`push to ${sender.id}`);
  });
});
