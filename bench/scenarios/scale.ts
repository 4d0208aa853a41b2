/**
 * scale (issue 14): the cost of an event for one room while other sockets watch
 * other rooms (Part A), and 1, 2, 3 servers over a Redis Cluster sharing the
 * subscribers of a set of rooms (Part B); with --before, the design before
 * issue 14 side by side. Its servers are its own.
 */
import { spawnSync } from 'node:child_process';
import type { Cluster, Redis } from 'ioredis';
import { Client } from 'pg';
import { roomTopic } from '../../src/realtime/topics';
import type { BusFigures } from '../servers/chat-server';
import { forkScript, median, nowMs, percentile, sleep, sortedCopy, type Worker } from '../lib/common';
import type { Context, Row } from '../lib/context';
import { fmt, ratio, round } from '../lib/figures';
import { log } from '../lib/log';
import { ON_MESSAGE } from '../lib/queries';
import { startRedisCluster, startRedisServerAlone, type BenchRedis } from '../lib/redis';
import { PEOPLE, range, ROOMS, SCALE, scaleSubscriber, userId } from '../lib/seed';
import { waitUntil } from '../lib/wait';

/** scale: the servers' counts of Part B; the idle other sockets one load process holds at most. */
const SCALE_SERVERS = [1, 2, 3];
const SCALE_SOCKETS_PER_LOADER = 5_000;
/** scale: the pool of each of its servers (up to eight of them on one PostgreSQL of max_connections 100). */
const SCALE_POOL_MAX = 8;

/** A server process of the scale scenario. */
interface ScaleServer {
  label: string;
  worker: Worker;
  url: string;
  wsUrl: string;
}

/** The code the scale servers run: this checkout over the bench's Redis Cluster, or --before's over one Redis. */
interface Design {
  name: 'after' | 'before';
  env: NodeJS.ProcessEnv;
  describe: string;
  redis: BenchRedis;
  /** Publishes a messageAdded event as a server of this design does right after a send's commit. */
  publish: (event: { kind: 'messageAdded'; roomId: string; messageId: string; seq: number }) => Promise<unknown>;
  /** Its processes, stopped when the scenario ends. */
  workers: Worker[];
}

/** A design's servers holding sockets, and its rooms. */
interface ScaleSetup {
  design: Design;
  /** Its SCALE.rooms rooms (a set of its own: see SCALE in lib/seed.ts). */
  rooms: string[];
  servers: ScaleServer[];
}

async function startScaleServer(ctx: Context, design: Design, label: string): Promise<ScaleServer> {
  const worker = forkScript(`${design.name} ${label}`, 'servers/chat-server.ts', design.env, ['--expose-gc'], ctx.serverNode);
  design.workers.push(worker);
  const { port } = await worker.ready;
  return { label, worker, url: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql` };
}

const cpuMsBetween = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / 1000;

/** Opens one socket per entry of `subs`, a messageAdded subscription each, from `loader` on `server`; answers the sockets that failed. */
async function openScaleSockets(ctx: Context, loader: Worker, server: ScaleServer, group: string, subs: { user: number; roomId: string }[]): Promise<number> {
  if (subs.length === 0) return 0;
  const timeoutMs = 60_000 + subs.length * 60;
  const r = await loader.call<{ connected: number; failed: number; ms: number; lastError: string }>(
    'connect',
    { group, url: server.wsUrl, query: ON_MESSAGE, subs: subs.map((s) => ({ token: ctx.tokens.get(s.user), variables: { roomId: s.roomId } })), concurrency: 100, timeoutMs },
    timeoutMs + 30_000,
  );
  if (r.failed) log(`  warning: ${r.failed} of ${subs.length} sockets to ${server.label} failed (${r.lastError})`);
  return r.failed;
}

const waitListeners = (server: ScaleServer, count: number) =>
  waitUntil(`${count} listeners on ${server.label}`, async () => (await server.worker.call<number>('subscribers')) === count, 180_000);

/**
 * Stores `count` new messages by the scale sender, spread evenly over `rooms`
 * (one statement per room: each room's seq moves on by its share, as that
 * many sends would have moved it); answers them in publishing order, the rooms
 * interleaved, each room's in seq order.
 */
async function storeScaleMessages(db: Client, rooms: string[], count: number, tag: string): Promise<{ id: string; seq: number; room: number }[]> {
  const perRoom = rooms.map((_, r) => Math.floor(count / rooms.length) + (r < count % rooms.length ? 1 : 0));
  const lists: { id: string; seq: number; room: number }[][] = [];
  for (const [r, roomId] of rooms.entries()) {
    if (perRoom[r] === 0) continue;
    const { rows } = await db.query<{ id: string; seq: number }>(
      `WITH room AS (UPDATE rooms SET last_seq = last_seq + $2, last_message_at = clock_timestamp(), updated_at = clock_timestamp() WHERE id = $1 RETURNING last_seq)
       INSERT INTO messages (room_id, sender_id, type, content, seq, created_at, version)
       SELECT $1, $3, 'TEXT', $4 || ' ' || s, room.last_seq - $2 + s, clock_timestamp(), nextval('change_version_seq')
       FROM room, generate_series(1, $2::int) s ORDER BY s
       RETURNING id, seq`,
      [roomId, perRoom[r], userId(PEOPLE.scaleSender), `scale ${tag}`],
    );
    lists.push(rows.sort((x, y) => x.seq - y.seq).map((row) => ({ ...row, room: r })));
  }
  const order: { id: string; seq: number; room: number }[] = [];
  for (let i = 0; order.length < count; i++) for (const list of lists) if (i < list.length) order.push(list[i]);
  return order;
}

/** One server's share of a round. */
interface ServerShare {
  label: string;
  cpuMs: number;
  /** Events that reached its bus (on a topic it watches; before issue 14: every event). */
  received: number;
  /** Listener calls; before issue 14 (not counted there) every listener heard every event: received x listeners. */
  dispatched: number;
  statements: number;
  deliveries: number;
  listeners: number;
}

interface Round {
  events: number;
  deliveries: number;
  /** Deliveries ÷ (last receipt − first publish). */
  deliveriesPerSec: number;
  /** The window the CPU was measured over, ms. */
  windowMs: number;
  /** Publish -> receipt, ms (all events are published at once: this is the backlog draining). */
  p50: number | null;
  p99: number | null;
  servers: ServerShare[];
  /** CPU of the design's Redis server(s) over the window, ms. */
  redisCpuMs: number;
  missing: number;
}

/**
 * Stores `count` messages into `rooms` (the subscribers of room r on server
 * `serverOf(r)`, SCALE.subscribers of them, all on ctx.ws), then publishes
 * their events all at once, as the servers the sends went through would have
 * right after each commit, and waits for every delivery: each server's CPU,
 * bus counters and statements over that window.
 */
async function scaleRound(ctx: Context, db: Client, setup: ScaleSetup, servers: ScaleServer[], serverOf: (room: number) => number, count: number, tag: string): Promise<Round> {
  const messages = await storeScaleMessages(db, setup.rooms, count, tag);
  await ctx.ws.call('take');
  const snapshot = () =>
    Promise.all(
      servers.map(async (s) => ({ cpu: await s.worker.call<NodeJS.CpuUsage>('cpu'), bus: await s.worker.call<BusFigures>('bus'), statements: await s.worker.call<number>('statements') })),
    );
  const before = await snapshot();
  const redisBefore = await setup.design.redis.cpuSeconds();
  const t0 = nowMs();
  const publishedAt = new Map<string, number>();
  await Promise.all(
    messages.map((m) => {
      publishedAt.set(m.id, nowMs());
      return setup.design.publish({ kind: 'messageAdded', roomId: setup.rooms[m.room], messageId: m.id, seq: m.seq });
    }),
  );
  const expected = messages.length * SCALE.subscribers;
  const w = await ctx.ws.call<{ received: number; streamErrors: number; lastError: string }>('waitFor', { count: expected, timeoutMs: 120_000 }, 130_000);
  const after = await snapshot();
  const t1 = nowMs();
  const redisAfter = await setup.design.redis.cpuSeconds();
  const taken = await ctx.ws.call<{ byId: Record<string, number[]>; received: number; streamErrors: number; lastError: string }>('take');
  if (w.streamErrors) log(`  warning: ${w.streamErrors} stream errors (${w.lastError})`);
  const deliveriesOf = servers.map(() => 0);
  const latencies: number[] = [];
  let firstPublish = Infinity;
  let lastReceipt = 0;
  for (const m of messages) {
    const times = taken.byId[m.id] ?? [];
    deliveriesOf[serverOf(m.room)] += times.length;
    const at = publishedAt.get(m.id) as number;
    firstPublish = Math.min(firstPublish, at);
    for (const t of times) {
      latencies.push(t - at);
      lastReceipt = Math.max(lastReceipt, t);
    }
  }
  const deliveries = deliveriesOf.reduce((a, b) => a + b, 0);
  const sorted = sortedCopy(latencies);
  return {
    events: messages.length,
    deliveries,
    deliveriesPerSec: deliveries / ((lastReceipt - firstPublish) / 1000),
    windowMs: t1 - t0,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    servers: servers.map((s, k) => {
      const received = after[k].bus.received - before[k].bus.received;
      const a = after[k].bus.dispatched;
      const b = before[k].bus.dispatched;
      return {
        label: s.label,
        cpuMs: cpuMsBetween(before[k].cpu, after[k].cpu),
        received,
        dispatched: a !== null && b !== null ? a - b : received * after[k].bus.listeners,
        statements: after[k].statements - before[k].statements,
        deliveries: deliveriesOf[k],
        listeners: after[k].bus.listeners,
      };
    }),
    redisCpuMs: (redisAfter - redisBefore) * 1000,
    missing: expected - deliveries,
  };
}

/** Each server's CPU while nothing is published, ms per second (keep-alive pings of its sockets, timers): measured over `ms`. */
async function idleCpu(servers: ScaleServer[], ms: number): Promise<number[]> {
  const before = await Promise.all(servers.map((s) => s.worker.call<NodeJS.CpuUsage>('cpu')));
  const t0 = nowMs();
  await sleep(ms);
  const after = await Promise.all(servers.map((s) => s.worker.call<NodeJS.CpuUsage>('cpu')));
  const seconds = (nowMs() - t0) / 1000;
  return servers.map((_, k) => cpuMsBetween(before[k], after[k]) / seconds);
}

/**
 * Rounds of every setup, after one warm-up round each: round i visits them all,
 * starting from a different one each time and going the other way every other
 * round (a neighbour's burst hits them alike).
 */
async function alternate(ctx: Context, setups: ScaleSetup[], warmup: (s: ScaleSetup) => Promise<unknown>, round: (s: ScaleSetup, i: number) => Promise<Round>): Promise<Round[][]> {
  for (const s of setups) await warmup(s);
  const rounds = setups.map(() => [] as Round[]);
  for (let i = 0; i < ctx.size.scaleRounds; i++) {
    const rotated = [...setups.keys()].map((k) => (k + i) % setups.length);
    for (const k of i % 2 ? rotated.reverse() : rotated) rounds[k].push(await round(setups[k], i));
  }
  return rounds;
}

const designLabel = (d: Design) => (d.name === 'after' ? 'after' : 'before 14');

interface OthersFigures {
  others: number;
  deliveriesPerSec: number | null;
  cpuPerEvent: number | null;
  /** CPU per event less the idle CPU (keep-alive pings of the idle sockets) over the window. */
  netCpuPerEvent: number | null;
  /** The median over the rounds of CPU per event ÷ that of the 0-others server in the same round. */
  pairedRatio: number | null;
  /**
   * What this server spent, net of idle, per event of the other levels' rooms (none of its
   * sockets watch them) while their rounds ran, ms, and how many of those events it received.
   */
  foreignCpuPerEvent: number | null;
  foreignReceivedShare: number | null;
  idleMsPerSec: number;
  dispatchedPerEvent: number | null;
  statementsPerEvent: number | null;
  p50: number | null;
  p99: number | null;
  heapMiB: number;
  rssMiB: number;
}

/**
 * Part A: one room of SCALE.subscribers sockets on a server, while 0, 1,000
 * and 10,000 (quick: 300, 1,000) other idle sockets watch other rooms. One
 * server per level, all up at once, each with a room of its own (room l of its
 * design's set), and rounds going from one to the next: the machine's slow
 * spells (its CPU per event moves by up to 1.5x from one minute to the next,
 * both designs alike) hit every level, so the 0-others server measured in the
 * same rounds is the baseline.
 */
async function scaleOthers(ctx: Context, db: Client, setups: ScaleSetup[]): Promise<Row[]> {
  const levels = ctx.size.scaleOthers;
  const maxOthers = Math.max(...levels);
  const t = Date.now();
  // A server per level and design (the first is the design's server 1, which Part B goes on with).
  // Every round measures all the servers of its design: the one whose room it sends to, and what
  // the others spend meanwhile on events none of their sockets watch.
  const serversOf = await Promise.all(
    setups.map((s) => Promise.all(levels.map((others, l) => (l === 0 ? s.servers[0] : startScaleServer(ctx, s.design, `server (${others} others)`))))),
  );
  const cells = setups.flatMap((s, d) =>
    levels.map((others, l) => ({ d, l, others, setup: { design: s.design, rooms: [s.rooms[l]], servers: serversOf[d] } as ScaleSetup })),
  );
  const server = (c: (typeof cells)[number]) => c.setup.servers[c.l];
  // Its hot room's subscribers (ctx.ws), and its other sockets (load processes of SCALE_SOCKETS_PER_LOADER sockets at most).
  const loaders: Worker[] = [];
  const loaderRoom: number[] = [];
  const groups: { loader: Worker; group: string }[] = [];
  const failed = await Promise.all(
    cells.map(async (c, k) => {
      const hot = range(0, SCALE.subscribers).map((j) => ({ user: PEOPLE.socketBase + scaleSubscriber(maxOthers, c.l, j), roomId: c.setup.rooms[0] }));
      groups.push({ loader: ctx.ws, group: `scale-a-hot-${k}` });
      const jobs = [openScaleSockets(ctx, ctx.ws, server(c), `scale-a-hot-${k}`, hot)];
      for (let from = 0; from < c.others; ) {
        let li = loaderRoom.findIndex((room) => room > 0);
        if (li < 0) {
          const loader = forkScript(`ws load (others ${loaders.length + 1})`, 'load/ws-load.ts', { ...process.env });
          setups[c.d].design.workers.push(loader);
          loaders.push(loader);
          loaderRoom.push(SCALE_SOCKETS_PER_LOADER);
          li = loaders.length - 1;
        }
        const to = Math.min(c.others, from + loaderRoom[li]);
        loaderRoom[li] -= to - from;
        const subs = range(from, to).map((i) => ({ user: PEOPLE.socketBase + i, roomId: ROOMS.other(Math.floor(i / SCALE.perOtherRoom)) }));
        const group = `scale-a-others-${k}-${from}`;
        groups.push({ loader: loaders[li], group });
        const loader = loaders[li];
        jobs.push(loader.ready.then(() => openScaleSockets(ctx, loader, server(c), group, subs)));
        from = to;
      }
      return (await Promise.all(jobs)).reduce((a, b) => a + b, 0);
    }),
  );
  await Promise.all(cells.map((c, k) => waitListeners(server(c), SCALE.subscribers + c.others - failed[k])));
  log(`  scale A: ${cells.length} servers up, each with ${SCALE.subscribers} sockets on a room of its own and ${levels.join(' / ')} other sockets (${((Date.now() - t) / 1000).toFixed(1)} s to get there, ${loaders.length} load processes for the other sockets)`);
  await sleep(ctx.quick ? 1_000 : 3_000);
  const mem = await Promise.all(cells.map((c) => server(c).worker.call<NodeJS.MemoryUsage>('mem')));
  const idle = await idleCpu(cells.map(server), ctx.quick ? 2_000 : 5_000);

  const count = ctx.size.scaleMessages;
  const setupsOf = cells.map((c) => c.setup);
  const levelOf = (s: ScaleSetup) => cells[setupsOf.indexOf(s)].l;
  const rounds = await alternate(
    ctx,
    setupsOf,
    (s) => scaleRound(ctx, db, s, s.servers, () => levelOf(s), count, 'aw'),
    (s, i) => scaleRound(ctx, db, s, s.servers, () => levelOf(s), count, `ar${i}`),
  );
  const figures: OthersFigures[][] = setups.map(() => []);
  for (const [k, c] of cells.entries()) {
    const rs = rounds[k];
    const one = (r: Round) => r.servers[c.l];
    const zero = rounds[cells.findIndex((x) => x.d === c.d && x.l === 0)];
    // The rounds of the other levels of its design: what this server did meanwhile.
    const foreign = cells.flatMap((x, j) => (x.d === c.d && x.l !== c.l ? rounds[j] : []));
    figures[c.d].push({
      others: c.others,
      deliveriesPerSec: median(rs.map((r) => r.deliveriesPerSec)),
      cpuPerEvent: median(rs.map((r) => one(r).cpuMs / r.events)),
      netCpuPerEvent: median(rs.map((r) => (one(r).cpuMs - (idle[k] * r.windowMs) / 1000) / r.events)),
      pairedRatio: median(rs.map((r, i) => one(r).cpuMs / r.events / (zero[i].servers[0].cpuMs / zero[i].events))),
      foreignCpuPerEvent: median(foreign.map((r) => (one(r).cpuMs - (idle[k] * r.windowMs) / 1000) / r.events)),
      foreignReceivedShare: median(foreign.map((r) => one(r).received / r.events)),
      idleMsPerSec: idle[k],
      dispatchedPerEvent: median(rs.map((r) => one(r).dispatched / r.events)),
      statementsPerEvent: median(rs.map((r) => one(r).statements / r.events)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      heapMiB: mem[k].heapUsed / 2 ** 20,
      rssMiB: mem[k].rss / 2 ** 20,
    });
    const f = figures[c.d][figures[c.d].length - 1];
    const missing = rs.reduce((n, r) => n + r.missing, 0);
    log(
      `  scale A ${designLabel(c.setup.design).padEnd(9)} ${String(c.others).padStart(5)} others: ${fmt(f.deliveriesPerSec)} deliveries/s (runs ${rs.map((r) => Math.round(r.deliveriesPerSec)).join(', ')}), ` +
        `CPU ${fmt(f.cpuPerEvent, 3)} ms/event (runs ${rs.map((r) => (one(r).cpuMs / r.events).toFixed(3)).join(', ')}; idle ${fmt(f.idleMsPerSec, 1)} ms/s, net ${fmt(f.netCpuPerEvent, 3)}), ` +
        `${fmt(f.dispatchedPerEvent, 0)} listener calls/event, ${fmt(f.statementsPerEvent, 1)} statements/event, publish->receipt p50 ${fmt(f.p50, 1)} p99 ${fmt(f.p99, 1)} ms, heap ${fmt(f.heapMiB)} MiB, RSS ${fmt(f.rssMiB)} MiB; ` +
        `during the other levels' rounds it received ${fmt((f.foreignReceivedShare ?? 0) * 100, 0)} % of their events and spent ${fmt(f.foreignCpuPerEvent, 3)} ms per event (net of idle)` +
        (missing ? `; ${missing} deliveries MISSING` : ''),
    );
  }

  const rows: Row[] = [];
  for (const [d, s] of setups.entries()) {
    const base = figures[d][0];
    const who = designLabel(s.design);
    log(`  scale A ${who}: others | deliveries/s | ratio | CPU ms/event | ratio | paired ratio | net of idle | ratio | listener calls/event | heap MiB | ms per event of other servers' rooms`);
    for (const f of figures[d]) {
      log(
        `  scale A ${who}: ${String(f.others).padStart(6)} | ${fmt(f.deliveriesPerSec)} | ${fmt(ratio(f.deliveriesPerSec, base.deliveriesPerSec), 2)} | ${fmt(f.cpuPerEvent, 3)} | ${fmt(ratio(f.cpuPerEvent, base.cpuPerEvent), 2)} | ${fmt(f.pairedRatio, 2)} | ${fmt(f.netCpuPerEvent, 3)} | ${fmt(ratio(f.netCpuPerEvent, base.netCpuPerEvent), 2)} | ${fmt(f.dispatchedPerEvent, 0)} | ${fmt(f.heapMiB)} | ${fmt(f.foreignCpuPerEvent, 3)}`,
      );
      if (f === base) continue;
      const what = `${who}: 1 room, ${SCALE.subscribers} subscribers, ${f.others} other sockets (baseline: 0 other, same rounds)`;
      rows.push(
        { scenario: 'scale', metric: `A ${what}: deliveries/s`, ours: round(f.deliveriesPerSec, 0), baseline: round(base.deliveriesPerSec, 0), ratio: ratio(f.deliveriesPerSec, base.deliveriesPerSec), p50: round(f.p50), p99: round(f.p99), statements: round(f.statementsPerEvent, 1) },
        { scenario: 'scale', metric: `A ${what}: server CPU ms per event`, ours: round(f.cpuPerEvent, 3), baseline: round(base.cpuPerEvent, 3), ratio: ratio(f.cpuPerEvent, base.cpuPerEvent), p50: null, p99: null, statements: round(f.statementsPerEvent, 1) },
        { scenario: 'scale', metric: `A ${what}: server CPU ms per event, net of idle`, ours: round(f.netCpuPerEvent, 3), baseline: round(base.netCpuPerEvent, 3), ratio: ratio(f.netCpuPerEvent, base.netCpuPerEvent), p50: null, p99: null, statements: null },
      );
    }
  }
  if (setups.length > 1) {
    const top = levels.length - 1;
    const [a, b] = [figures[0][top], figures[1][top]];
    rows.push({ scenario: 'scale', metric: `A server CPU ms per event at ${a.others} other sockets, after (baseline: before 14)`, ours: round(a.cpuPerEvent, 3), baseline: round(b.cpuPerEvent, 3), ratio: ratio(a.cpuPerEvent, b.cpuPerEvent), p50: null, p99: null, statements: null });
  }
  // Done: the sockets close, the load processes and the servers of the other levels stop; server 1 goes on to Part B.
  await Promise.all(groups.map(({ loader, group }) => loader.call('close', { group }, 300_000)));
  await Promise.all(loaders.map((l) => l.stop()));
  await Promise.all(cells.filter((c) => c.l > 0).map((c) => server(c).worker.stop()));
  await Promise.all(setups.map((s) => waitListeners(s.servers[0], 0)));
  return rows;
}

interface ServersFigures {
  n: number;
  deliveriesPerSec: number | null;
  /** Deliveries per second of server CPU (all servers' CPU summed)... */
  perCpuSec: number | null;
  /** ...× n: what n servers could deliver with a core each. */
  capacity: number | null;
  /** Mean over the servers of the events each received. */
  receivedPerServer: number | null;
  /** Mean over the servers of each one's CPU per event sent, ms. */
  cpuPerServerPerEvent: number | null;
  usPerDelivery: number | null;
  redisCpuPerEvent: number | null;
  events: number;
}

/**
 * Part B: SCALE.rooms rooms of SCALE.subscribers sockets; room r's sockets on
 * server r mod n (each server holds 1/n of them, whole rooms), for n = 1, 2, 3;
 * the events spread evenly over the rooms.
 */
async function scaleServers(ctx: Context, db: Client, setups: ScaleSetup[]): Promise<Row[]> {
  const maxOthers = Math.max(...ctx.size.scaleOthers);
  const figures: ServersFigures[][] = setups.map(() => []);
  for (const n of SCALE_SERVERS) {
    const t = Date.now();
    await Promise.all(
      setups.map(async (s) => {
        while (s.servers.length < n) s.servers.push(await startScaleServer(ctx, s.design, `server ${s.servers.length + 1}`));
      }),
    );
    const on = (k: number) => range(0, SCALE.rooms).filter((r) => r % n === k);
    await Promise.all(
      setups.flatMap((s) =>
        range(0, n).map((k) =>
          openScaleSockets(
            ctx,
            ctx.ws,
            s.servers[k],
            `scale-b-${s.design.name}-${n}-${k}`,
            on(k).flatMap((r) => range(0, SCALE.subscribers).map((j) => ({ user: PEOPLE.socketBase + scaleSubscriber(maxOthers, r, j), roomId: s.rooms[r] }))),
          ),
        ),
      ),
    );
    await Promise.all(setups.flatMap((s) => range(0, n).map((k) => waitListeners(s.servers[k], on(k).length * SCALE.subscribers))));
    log(`  scale B: ${n} server(s) per design, ${SCALE.rooms} rooms x ${SCALE.subscribers} sockets, room r on server r mod ${n} (${((Date.now() - t) / 1000).toFixed(1)} s to get there)`);
    const count = ctx.size.scaleMessages;
    const servers = (s: ScaleSetup) => s.servers.slice(0, n);
    const rounds = await alternate(
      ctx,
      setups,
      (s) => scaleRound(ctx, db, s, servers(s), (r) => r % n, count, `b${n}w`),
      (s, i) => scaleRound(ctx, db, s, servers(s), (r) => r % n, count, `b${n}r${i}`),
    );
    for (const [d, s] of setups.entries()) {
      const rs = rounds[d];
      const cpuOf = (r: Round) => r.servers.reduce((a, x) => a + x.cpuMs, 0);
      const perCpuSec = (r: Round) => r.deliveries / (cpuOf(r) / 1000);
      const f: ServersFigures = {
        n,
        deliveriesPerSec: median(rs.map((r) => r.deliveriesPerSec)),
        perCpuSec: median(rs.map(perCpuSec)),
        capacity: median(rs.map((r) => perCpuSec(r) * n)),
        receivedPerServer: median(rs.map((r) => r.servers.reduce((a, x) => a + x.received, 0) / n)),
        cpuPerServerPerEvent: median(rs.map((r) => cpuOf(r) / n / r.events)),
        usPerDelivery: median(rs.map((r) => (cpuOf(r) * 1000) / r.deliveries)),
        redisCpuPerEvent: median(rs.map((r) => r.redisCpuMs / r.events)),
        events: rs[0]?.events ?? 0,
      };
      figures[d].push(f);
      const missing = rs.reduce((m, r) => m + r.missing, 0);
      const last = rs[rs.length - 1];
      log(
        `  scale B ${designLabel(s.design).padEnd(9)} ${n} server(s): ${fmt(f.deliveriesPerSec)} deliveries/s in all (runs ${rs.map((r) => Math.round(r.deliveriesPerSec)).join(', ')}; p50 ${fmt(median(rs.map((r) => r.p50)), 1)} ms); ` +
          `${fmt(f.perCpuSec, 0)} deliveries per server-CPU-second -> capacity ${fmt(f.capacity, 0)}/s with a core each; ${fmt(f.usPerDelivery, 1)} µs CPU per delivery; ${fmt(f.cpuPerServerPerEvent, 3)} ms CPU per server per event; Redis ${fmt(f.redisCpuPerEvent, 3)} ms CPU per event` +
          (missing ? `; ${missing} deliveries MISSING` : ''),
      );
      for (const x of last.servers) {
        log(
          `    ${x.label}: received ${x.received} of ${last.events} events, ${x.dispatched} listener calls, ${x.deliveries} deliveries, ${x.statements} statements, ${fmt(x.cpuMs, 0)} ms CPU (${fmt((x.cpuMs * 1000) / Math.max(1, x.deliveries), 1)} µs per delivery), ${x.listeners} listeners`,
        );
      }
    }
    await Promise.all(setups.flatMap((s) => range(0, n).map((k) => ctx.ws.call('close', { group: `scale-b-${s.design.name}-${n}-${k}` }, 120_000))));
    await Promise.all(setups.flatMap((s) => range(0, n).map((k) => waitListeners(s.servers[k], 0))));
  }

  const rows: Row[] = [];
  for (const [d, s] of setups.entries()) {
    const base = figures[d][0];
    const who = designLabel(s.design);
    log(`  scale B ${who}: servers | deliveries/s | ratio | deliveries per server-CPU-s | capacity (x servers) | ratio | events received per server | CPU ms per server per event | µs CPU per delivery`);
    for (const f of figures[d]) {
      log(
        `  scale B ${who}: ${f.n} | ${fmt(f.deliveriesPerSec)} | ${fmt(ratio(f.deliveriesPerSec, base.deliveriesPerSec), 2)} | ${fmt(f.perCpuSec, 0)} | ${fmt(f.capacity, 0)} | ${fmt(ratio(f.capacity, base.capacity), 2)} | ${fmt(f.receivedPerServer, 0)} of ${f.events} | ${fmt(f.cpuPerServerPerEvent, 3)} | ${fmt(f.usPerDelivery, 1)}`,
      );
      if (f.n === base.n) continue;
      const what = `${who}: ${f.n} servers, ${SCALE.rooms} rooms x ${SCALE.subscribers} subscribers (baseline: 1 server)`;
      rows.push(
        { scenario: 'scale', metric: `B ${what}: deliveries/s in all`, ours: round(f.deliveriesPerSec, 0), baseline: round(base.deliveriesPerSec, 0), ratio: ratio(f.deliveriesPerSec, base.deliveriesPerSec), p50: null, p99: null, statements: null },
        { scenario: 'scale', metric: `B ${what}: capacity, deliveries per server-CPU-second x servers`, ours: round(f.capacity, 0), baseline: round(base.capacity, 0), ratio: ratio(f.capacity, base.capacity), p50: null, p99: null, statements: null },
        { scenario: 'scale', metric: `B ${what}: events received per server`, ours: round(f.receivedPerServer, 1), baseline: round(base.receivedPerServer, 1), ratio: ratio(f.receivedPerServer, base.receivedPerServer), p50: null, p99: null, statements: null },
        { scenario: 'scale', metric: `B ${what}: CPU ms per server per event`, ours: round(f.cpuPerServerPerEvent, 3), baseline: round(base.cpuPerServerPerEvent, 3), ratio: ratio(f.cpuPerServerPerEvent, base.cpuPerServerPerEvent), p50: null, p99: null, statements: null },
        { scenario: 'scale', metric: `B ${what}: server CPU µs per delivery`, ours: round(f.usPerDelivery, 1), baseline: round(base.usPerDelivery, 1), ratio: ratio(f.usPerDelivery, base.usPerDelivery), p50: null, p99: null, statements: null },
      );
    }
  }
  return rows;
}

/**
 * Issue 14's proof: the cost of an event for one room of 100 subscribers while
 * other sockets watch other rooms (Part A), and 1, 2, 3 servers over a local
 * Redis Cluster sharing the subscribers of a set of rooms (Part B). Its servers
 * are its own (ours, the baseline and the others stay idle meanwhile): this
 * checkout's over a Redis Cluster the bench starts, and with --before <dir> the
 * design before issue 14 over one Redis, side by side, rounds alternating.
 *
 * The bench plays the sending servers' part: it stores the messages (one
 * statement per room and round) and publishes each one's event on the broker
 * exactly as the server a send went through does right after its commit, all
 * at once: the servers under test do only what an event costs them, and
 * deliver as fast as they can (the sends themselves are measured by `send`;
 * concurrent sends into one room reach the servers out of seq order, which
 * they fill from storage per subscriber: see bench/README.md).
 */
export async function scale(ctx: Context): Promise<Row[]> {
  const base: NodeJS.ProcessEnv = { ...ctx.env, BENCH_POOL_MAX: String(SCALE_POOL_MAX) };
  delete base.REDIS_URL;
  delete base.REDIS_CLUSTER_NODES;
  const designs: Design[] = [];
  const db = new Client({ connectionString: ctx.dbUrl });
  await db.connect();
  try {
    const cluster = await startRedisCluster();
    const sharded = cluster.client() as Cluster;
    designs.push({
      name: 'after',
      env: { ...base, ...cluster.env },
      describe: `this checkout, REDIS_CLUSTER_NODES (${cluster.describe}): SPUBLISH on the room's topic`,
      redis: cluster,
      publish: (event) => sharded.spublish(roomTopic(event.roomId), JSON.stringify(event)),
      workers: [],
    });
    if (ctx.beforeDir) {
      const single = await startRedisServerAlone();
      const plain = single.client() as Redis;
      const head = spawnSync('git', ['-C', ctx.beforeDir, 'log', '--oneline', '-1'], { encoding: 'utf8' }).stdout.trim();
      designs.push({
        name: 'before',
        env: { ...base, ...single.env, BENCH_SRC_ROOT: ctx.beforeDir },
        describe: `${ctx.beforeDir} (${head || 'not a git checkout'}), REDIS_URL (${single.describe}): PUBLISH on its one channel, chat-events`,
        redis: single,
        publish: (event) => plain.publish('chat-events', JSON.stringify(event)),
        workers: [],
      });
    }
    for (const d of designs) log(`  scale ${designLabel(d)}: ${d.describe}`);
    const setups: ScaleSetup[] = await Promise.all(
      designs.map(async (design, d) => ({ design, rooms: range(0, SCALE.rooms).map((r) => ROOMS.scale(d * SCALE.rooms + r)), servers: [await startScaleServer(ctx, design, 'server 1')] })),
    );
    return [...(await scaleOthers(ctx, db, setups)), ...(await scaleServers(ctx, db, setups))];
  } finally {
    await Promise.all(designs.flatMap((d) => d.workers.map((w) => w.stop().catch(() => {}))));
    for (const d of designs) await d.redis.stop().catch(() => {});
    await db.end();
  }
}

