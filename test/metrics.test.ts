import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { OPERATION_LABELS, PrometheusMetrics } from '../src/telemetry/metrics';
import { gql, makeUser, ok, signIn } from './support/client';
import { groupRoom } from './support/factories';
import { startServer, wsClient, type TestServer } from './support/server';
import { closeCodeOf, collect, sleep, waitFor } from './support/ws';

/** The samples of a Prometheus text: `name{labels} value` lines. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
      return { name: match[1], labels, value: Number(match[3]) };
    });
}

/** The sum of the samples of `name` whose labels include `labels`. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** A scrape once `names` have not moved for a while (events still coalescing, such as presence, have gone out). */
async function settled(server: TestServer, names: string[]): Promise<string> {
  let last = (await scrape(server)).text;
  let still = 0;
  for (let i = 0; i < 50 && still < 5; i++) {
    await sleep(300);
    const now = (await scrape(server)).text;
    still = names.every((n) => value(now, n) === value(last, n)) ? still + 1 : 0;
    last = now;
  }
  return last;
}

async function scrape(server: TestServer, token?: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(server.url.replace('/graphql', '/metrics'), { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const SEND = 'mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id } }';

describe('Metrics: GET /metrics (Prometheus)', () => {
  it('counts requests and errors by operation and code, their latency, refusals and rate limits', async () => {
    const server = await startServer({ env: { MESSAGE_RATE_LIMIT: '2/60' } });
    const alice = await signIn(server.url, await makeUser());
    const roomId = await groupRoom(server.url, alice);
    const before = (await scrape(server)).text;

    await ok(server.url, 'query Inbox { rooms { total } }', {}, alice.token);
    await ok(server.url, 'query Inbox { rooms { total } }', {}, alice.token);
    await gql(server.url, 'query Peek($id: ID!) { room(id: $id) { id } }', { id: '00000000-0000-4000-8000-000000000000' }, alice.token);
    for (let i = 0; i < 3; i += 1) await gql(server.url, SEND, { input: { roomId, content: `m${i}` } }, alice.token);
    await gql(server.url, 'query Nope { me { nope } }', {}, alice.token);
    await gql(server.url, 'query Anon { me { id } }');

    const { status, type, text } = await scrape(server);
    expect(status).to.equal(200);
    expect(type).to.match(/^text\/plain; version=0\.0\.4/);
    const moved = (name: string, labels: Record<string, string>) => value(text, name, labels) - value(before, name, labels);
    expect(moved('chat_graphql_requests_total', { transport: 'http', operation: 'Inbox', type: 'query', outcome: 'OK' })).to.equal(2);
    expect(moved('chat_graphql_requests_total', { operation: 'Peek', outcome: 'NOT_FOUND' })).to.equal(1);
    expect(moved('chat_graphql_errors_total', { transport: 'http', operation: 'Peek', code: 'NOT_FOUND' })).to.equal(1);
    expect(moved('chat_graphql_requests_total', { operation: 'Send', type: 'mutation', outcome: 'OK' })).to.equal(2);
    expect(moved('chat_graphql_requests_total', { operation: 'Send', outcome: 'RATE_LIMITED' })).to.equal(1);
    expect(moved('chat_rate_limit_refusals_total', { transport: 'http', operation: 'Send' })).to.equal(1);
    // A document that did not validate is not named by its own words; a refused request was never read.
    expect(moved('chat_graphql_requests_total', { operation: OPERATION_LABELS.invalid, outcome: 'GRAPHQL_VALIDATION_FAILED' })).to.equal(1);
    expect(moved('chat_graphql_requests_total', { operation: OPERATION_LABELS.refused, outcome: 'UNAUTHENTICATED' })).to.equal(1);
    expect(samples(text).some((s) => s.labels.operation === 'Nope' || s.labels.operation === 'Anon')).to.equal(false);
    expect(moved('chat_graphql_request_duration_seconds_count', { operation: 'Inbox', type: 'query' })).to.equal(2);
    expect(value(text, 'chat_graphql_request_duration_seconds_bucket', { operation: 'Inbox', le: '+Inf' })).to.equal(
      value(text, 'chat_graphql_request_duration_seconds_count', { operation: 'Inbox' }),
    );
    expect(value(text, 'chat_graphql_request_duration_seconds_sum', { operation: 'Inbox' })).to.be.above(0);
  });

  it('counts open sockets, active subscriptions, events published and delivered', async () => {
    const server = await startServer();
    const alice = await signIn(server.url, await makeUser());
    const bob = await signIn(server.url, await makeUser());
    const roomId = await groupRoom(server.url, alice, [bob]);
    const idle = (await scrape(server)).text;
    expect(value(idle, 'chat_websocket_connections')).to.equal(0);
    expect(value(idle, 'chat_subscriptions_active')).to.equal(0);

    const sockets = [wsClient(server, alice.token), wsClient(server, bob.token)];
    const subs = sockets.map((client) => collect(client, 'subscription Feed($roomId: ID!) { messageAdded(roomId: $roomId) { id } }', { roomId }));
    await waitFor(() => server.app.bus.listenerCount === 2, 5000, 'both subscriptions');
    let text = (await scrape(server)).text;
    expect(value(text, 'chat_websocket_connections')).to.equal(2);
    expect(value(text, 'chat_subscriptions_active')).to.equal(2);
    expect(value(text, 'chat_graphql_requests_total', { transport: 'ws', operation: 'Feed', type: 'subscription', outcome: 'OK' })).to.equal(2);

    // Their sockets opening made them online: those presence events first, then nothing moves.
    const quiet = await settled(server, ['chat_events_published_total', 'chat_events_received_total', 'chat_events_delivered_total']);
    expect(value(quiet, 'chat_events_published_total') - value(idle, 'chat_events_published_total'), 'presence events').to.be.at.least(1);
    await ok(server.url, SEND, { input: { roomId, content: 'hello' } }, alice.token);
    await waitFor(() => subs.every((s) => s.data.length === 1), 5000, 'both deliveries');
    text = (await scrape(server)).text;
    expect(value(text, 'chat_events_published_total') - value(quiet, 'chat_events_published_total')).to.equal(1);
    expect(value(text, 'chat_events_received_total') - value(quiet, 'chat_events_received_total')).to.equal(1);
    expect(value(text, 'chat_events_delivered_total') - value(quiet, 'chat_events_delivered_total')).to.equal(2);

    subs[0].stop();
    await waitFor(() => server.app.bus.listenerCount === 1, 5000, 'one subscription ended');
    expect(value((await scrape(server)).text, 'chat_subscriptions_active')).to.equal(1);
    await Promise.all(sockets.map((client) => client.dispose()));
    await waitFor(() => server.app.bus.listenerCount === 0, 5000, 'the sockets closed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    text = (await scrape(server)).text;
    expect(value(text, 'chat_websocket_connections')).to.equal(0);
    expect(value(text, 'chat_subscriptions_active')).to.equal(0);
    expect(value(text, 'chat_websocket_closes_total', { code: '1000' })).to.equal(2);

    // A socket refused at connection_init never counted as open: only its close code is counted.
    expect(await closeCodeOf(server, 'Bearer not-a-token')).to.equal(4401);
    await new Promise((resolve) => setTimeout(resolve, 50));
    text = (await scrape(server)).text;
    expect(value(text, 'chat_websocket_connections')).to.equal(0);
    expect(value(text, 'chat_websocket_closes_total', { code: '4401' })).to.equal(1);
  });

  it("reports the database pool, Node's own figures, and what the webhook worker tells it", async () => {
    const server = await startServer();
    await ok(server.url, '{ me { id } }', {}, (await makeUser()).token);
    server.app.metrics.webhookDelivered('delivered');
    server.app.metrics.webhookDelivered('failed');
    server.app.metrics.webhookBacklog(async () => 7);
    const { text } = await scrape(server);
    expect(value(text, 'chat_db_pool_connections', { state: 'total' })).to.be.at.least(1);
    expect(value(text, 'chat_db_pool_connections', { state: 'waiting' })).to.equal(0);
    expect(value(text, 'chat_db_pool_max')).to.equal(20);
    expect(value(text, 'chat_webhook_deliveries_total', { outcome: 'delivered' })).to.equal(1);
    expect(value(text, 'chat_webhook_deliveries_total', { outcome: 'failed' })).to.equal(1);
    expect(value(text, 'chat_webhook_deliveries_total', { outcome: 'dead' })).to.equal(0);
    expect(value(text, 'chat_webhook_backlog')).to.equal(7);
    expect(value(text, 'process_cpu_user_seconds_total')).to.be.above(0);
    expect(value(text, 'nodejs_heap_size_used_bytes')).to.be.above(0);
  });

  it('is not served in production without METRICS_TOKEN, and with it only to its bearer', async () => {
    const closed = await startServer({ env: { NODE_ENV: 'production' } });
    expect((await scrape(closed)).status).to.equal(404);
    expect(closed.app.metrics.enabled, 'nothing is counted either').to.equal(false);

    const guarded = await startServer({ env: { NODE_ENV: 'production', METRICS_TOKEN: 'scrape-me-please' } });
    expect((await scrape(guarded)).status).to.equal(401);
    expect((await scrape(guarded, 'scrape-me-not')).status).to.equal(401);
    const allowed = await scrape(guarded, 'scrape-me-please');
    expect(allowed.status).to.equal(200);
    expect(allowed.text).to.include('chat_graphql_requests_total');
  });

  it('has every series the Grafana dashboard (docs/grafana-dashboard.json) plots', async () => {
    const server = await startServer();
    const dashboard = JSON.parse(readFileSync(resolve(__dirname, '../docs/grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const plotted = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(chat|process|nodejs)_[a-z0-9_]+/g) ?? [])));
    // Declared series (a labelled counter has no sample before its first count), histograms with their parts.
    const served = new Set(
      [...(await scrape(server)).text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
        type === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
      ),
    );
    expect([...plotted].filter((name) => !served.has(name)), 'plotted but never served').to.deep.equal([]);
  });

  it('bounds operation names: cut to 64 characters, at most 50 distinct, the rest "(other)"', () => {
    const metrics = new PrometheusMetrics();
    expect(metrics.operationLabel('A'.repeat(200), true)).to.equal('A'.repeat(64));
    expect(metrics.operationLabel(null, true)).to.equal(OPERATION_LABELS.anonymous);
    expect(metrics.operationLabel('Whatever', false)).to.equal(OPERATION_LABELS.invalid);
    for (let i = 0; i < 48; i += 1) expect(metrics.operationLabel(`Op${i}`, true)).to.equal(`Op${i}`);
    expect(metrics.operationLabel('Op49th', true)).to.equal('Op49th');
    expect(metrics.operationLabel('OneTooMany', true)).to.equal(OPERATION_LABELS.other);
    expect(metrics.operationLabel('Op7', true), 'names already seen keep their label').to.equal('Op7');
  });
});
