import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { makeUser, ok, signIn } from './support/client';
import { groupRoom } from './support/factories';
import { testDatabaseUrl } from './support/hooks';
import { onCleanup, startServer, TEST_JWT_SECRET } from './support/server';

interface SpanSeen {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  attributes: Record<string, unknown>;
  status: number;
  instrumentation: string;
}

/** Waits for the child's next message of `type`. */
function next<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string } & T) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null) => reject(new Error(`the traced server exited (${code}) before sending ${type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

describe('Traces: OpenTelemetry with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('makes a span per GraphQL operation (name, type, outcome) whose children are its statements and its Redis publish', async function () {
    this.timeout(60_000);
    const child = fork(join(__dirname, 'fixtures', 'traced-server.ts'), [], {
      execArgv: ['-r', '@swc-node/register'],
      env: { ...process.env, DATABASE_URL: testDatabaseUrl(), JWT_SECRET: TEST_JWT_SECRET, REDIS_URL: 'redis://127.0.0.1:6379', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    onCleanup(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const { url } = await next<{ url: string }>(child, 'ready');
    const alice = await signIn(url, await makeUser());
    const roomId = await groupRoom(url, alice);
    await ok(url, 'mutation SayHello($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { roomId, content: 'traced' } }, alice.token);
    child.send({ type: 'spans' });
    const { spans } = await next<{ spans: SpanSeen[] }>(child, 'spans');

    const operation = spans.find((s) => s.name === 'mutation SayHello');
    expect(operation, spans.map((s) => s.name).join(', ')).to.not.equal(undefined);
    expect(operation!.attributes).to.deep.include({ 'graphql.operation.name': 'SayHello', 'graphql.operation.type': 'mutation', 'chat.outcome': 'OK' });
    // Its parent is the HTTP server span of the request.
    const server = spans.find((s) => s.spanId === operation!.parentSpanId);
    expect(server?.instrumentation).to.equal('@opentelemetry/instrumentation-http');

    // Every span under the operation, whatever its depth (pg's pool connect wraps its query).
    const below = new Set([operation!.spanId]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const s of spans) {
        if (s.parentSpanId && below.has(s.parentSpanId) && !below.has(s.spanId)) below.add(s.spanId), (grew = true);
      }
    }
    const children = spans.filter((s) => s.spanId !== operation!.spanId && below.has(s.spanId));
    expect(children.every((s) => s.traceId === operation!.traceId)).to.equal(true);
    const statements = children.filter((s) => s.instrumentation === '@opentelemetry/instrumentation-pg' && s.name.startsWith('pg.query'));
    expect(statements.length, 'the send statement').to.be.at.least(1);
    const publishes = children.filter((s) => s.instrumentation === '@opentelemetry/instrumentation-ioredis' && /publish/i.test(s.name));
    expect(publishes.length, `the event's publish: ${children.map((s) => s.name).join(', ')}`).to.be.at.least(1);

    // A refused operation: its outcome is the code; not the server's failure, so the span's status is not ERROR.
    const stranger = await makeUser();
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${stranger.token}` }, body: JSON.stringify({ query: 'query Peek($id: ID!) { room(id: $id) { id } }', variables: { id: roomId } }) });
    child.send({ type: 'spans' });
    const after = (await next<{ spans: SpanSeen[] }>(child, 'spans')).spans;
    const peek = after.find((s) => s.name === 'query Peek');
    expect(peek?.attributes['chat.outcome']).to.equal('NOT_FOUND');
    expect(peek?.status, 'UNSET, not ERROR').to.equal(0);
    expect(after.some((s) => s.attributes['url.path'] === '/health' || s.name.includes('/health'))).to.equal(false);

    child.send({ type: 'stop' });
    await new Promise((resolve) => child.once('exit', resolve));
  });

  it('is off and free without an endpoint: no OpenTelemetry SDK or instrumentation is loaded, pg is not patched', async () => {
    const server = await startServer();
    await ok(server.url, '{ me { id } }', {}, (await makeUser()).token);
    const loaded = Object.keys(require.cache).filter((path) => /@opentelemetry[\\/](sdk-node|instrumentation)/.test(path));
    expect(loaded).to.deep.equal([]);
    const { Client } = require('pg') as { Client: { prototype: { query: { __wrapped?: boolean } } } };
    expect(Client.prototype.query.__wrapped).to.equal(undefined);
  });
});
