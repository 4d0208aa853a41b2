/**
 * Read replicas (issue 19): history pages per second served with one streaming
 * standby against none, on this same machine, and the standby's lag meanwhile.
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node -r @swc-node/register bench/replicas.ts
 * As root (the standby runs as the postgres OS user; see test/support/standby.ts, which
 * also lets replication connections in from loopback). Creates and drops a throwaway database.
 *
 * Two servers of ours (NODE_ENV=production, bench/servers/chat-server.ts), one on the
 * primary alone, one with DATABASE_READ_URLS naming a standby of the whole cluster started
 * here; the history room of the suite's seed (bench/lib/seed.ts, 10,000 messages);
 * 10 readers x 1 connection asking the suite's history page (bench/lib/queries.ts);
 * alternating rounds, medians. Then the same with 4 senders writing meanwhile (the lag
 * a replica shows when there is something to replay). Both servers, the load generators,
 * the primary and the standby share the machine's cores: the figures say what one replica
 * costs and carries here, not what a replica on its own machine adds.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Client } from 'pg';
import { signToken } from '../src/auth/token';
import { startStandby, type Standby } from '../test/support/standby';
import { forkScript, median, percentile, sleep, sortedCopy, type Worker } from './lib/common';
import { HISTORY, SEND, body } from './lib/queries';
import { runOnScratchDatabase } from './lib/scratch-database';
import { COMPANY, PEOPLE, ROOMS, seed, userId, userName } from './lib/seed';
import type { Lane, LoadResult } from './load/http-load';

const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const HISTORY_MESSAGES = Number(process.env.HISTORY_MESSAGES ?? 10_000);
const SENDERS = 4;
const JWT_SECRET = `bench-${randomBytes(16).toString('hex')}`;

const started = Date.now();
const log = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
const fmt = (v: number | null, digits = 1) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(digits));

interface Server {
  name: string;
  worker: Worker;
  url: string;
}

/** CPU seconds (user + system) a process and its children have used so far, from /proc (clock ticks of 1/100 s). */
function cpuSecondsOfTree(pid: number): number {
  let pids = [pid];
  try {
    pids = pids.concat(execFileSync('pgrep', ['-P', String(pid)]).toString().trim().split('\n').map(Number).filter((p) => p > 0));
  } catch {
    // no children
  }
  const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  let total = 0;
  for (const p of pids) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** Transactions the instance at `url` has committed in `database` (pg_stat_database, flushed about every second). */
async function commits(url: string, database: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1', [database]);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

interface LagSamples {
  bytes: number[];
  /** The server's own measure (its /ready): how old the replica's data may be. */
  serverMs: number[];
}

/** Samples the standby's replay lag every 100 ms (bytes behind the primary's WAL) and the server's view of it, until stopped. */
function sampleLag(primaryUrl: string, standby: Standby, database: string, server: Server | null): { stop(): Promise<LagSamples> } {
  const samples: LagSamples = { bytes: [], serverMs: [] };
  let running = true;
  const loop = (async () => {
    const primary = new Client({ connectionString: primaryUrl });
    const replica = new Client({ connectionString: standby.url(database) });
    await Promise.all([primary.connect(), replica.connect()]);
    try {
      while (running) {
        const [{ rows: p }, { rows: r }] = await Promise.all([
          primary.query<{ pos: string }>(`SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS pos`),
          replica.query<{ pos: string }>(`SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::text AS pos`),
        ]);
        samples.bytes.push(Math.max(0, Number(p[0].pos) - Number(r[0].pos)));
        if (server) {
          const ready = (await (await fetch(server.url.replace('/graphql', '/ready'))).json()) as { replicas?: { lagMs: number | null }[] };
          const lagMs = ready.replicas?.[0]?.lagMs;
          if (typeof lagMs === 'number') samples.serverMs.push(lagMs);
        }
        await sleep(100);
      }
    } finally {
      await Promise.all([primary.end(), replica.end()]);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

const summary = (values: number[]) => {
  const sorted = sortedCopy(values);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1] : null };
};

interface Run {
  rps: number;
  p50: number | null;
  p99: number | null;
  serverCpuMs: number;
  standbyCpuMs: number;
  requests: number;
  bad: number;
}

runOnScratchDatabase('chat_replicas', async (url) => {
  const database = new URL(url).pathname.slice(1);
  const env = {
    ...process.env,
    DATABASE_URL: url,
    JWT_SECRET,
    NODE_ENV: 'production',
    MESSAGE_RATE_LIMIT: '1000000000/1',
    QUERY_COST_RATE_LIMIT: '1000000000000/1',
    LOG_LEVEL: 'silent',
  };
  const workers: Worker[] = [];
  let standby: Standby | null = null;
  try {
    // The server on the primary alone migrates the database; the seed follows.
    const primaryOnly = forkScript('server, primary only', 'servers/chat-server.ts', env);
    const historyLoad = forkScript('http load (history)', 'load/http-load.ts', { ...process.env });
    const sendLoad = forkScript('http load (sends)', 'load/http-load.ts', { ...process.env });
    workers.push(primaryOnly, historyLoad, sendLoad);
    const [{ port: portA }] = await Promise.all([primaryOnly.ready, historyLoad.ready, sendLoad.ready]);
    await seed(url, { histMessages: HISTORY_MESSAGES, deepMessages: 0, socketUsers: 0, fanoutMembers: 0, memoryMembers: 0, mixedSubscribers: 0 }, log);

    log('starting a standby of the cluster (pg_basebackup -R -X stream)');
    standby = await startStandby(url);
    await standby.caughtUp(120_000);
    const withReplica = forkScript('server, one replica', 'servers/chat-server.ts', { ...env, DATABASE_READ_URLS: standby.url(database) });
    workers.push(withReplica);
    const { port: portB } = await withReplica.ready;
    const servers: Server[] = [
      { name: 'primary only', worker: primaryOnly, url: `http://127.0.0.1:${portA}/graphql` },
      { name: 'one replica', worker: withReplica, url: `http://127.0.0.1:${portB}/graphql` },
    ];
    const ready = (await (await fetch(servers[1].url.replace('/graphql', '/ready'))).json()) as { replicas: unknown[] };
    log(`replica as the server sees it: ${JSON.stringify(ready.replicas)}`);

    const tokens = new Map<number, string>();
    for (const i of [...PEOPLE.history, ...PEOPLE.send.slice(0, SENDERS)]) {
      tokens.set(i, await signToken(JWT_SECRET, { userId: userId(i), name: userName(i), companyId: COMPANY, expiresIn: '3h' }));
    }
    const historyText = body(HISTORY, 'HistoryPage', { roomId: ROOMS.hist, before: null, limit: 50 });
    const historyLanes: Lane[] = PEOPLE.history.map((u) => ({ headers: { authorization: `Bearer ${tokens.get(u)}` }, requests: [{ body: historyText }] }));
    const sendLanes: Lane[] = PEOPLE.send.slice(0, SENDERS).map((u, j) => ({
      headers: { authorization: `Bearer ${tokens.get(u)}` },
      requests: [{ body: body(SEND, 'Send', { input: { roomId: ROOMS.send(j), content: 'A message from the replicas benchmark', clientId: '__CLIENT_ID__' } }), uniqueClientId: true }],
    }));

    // Both servers answer the same page (the replica holds the seed).
    const page = async (s: Server) => JSON.stringify(await (await fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json', ...historyLanes[0].headers }, body: historyText })).json());
    log(`the same history page from both servers: ${(await page(servers[0])) === (await page(servers[1])) ? 'yes' : 'NO'}`);

    const run = async (server: Server, seconds: number, withSends: boolean): Promise<{ history: Run; sends: LoadResult | null }> => {
      const cpu0 = await server.worker.call<NodeJS.CpuUsage>('cpu');
      const standby0 = cpuSecondsOfTree((standby as Standby).postmasterPid);
      const [history, sends] = await Promise.all([
        historyLoad.call<LoadResult>('run', { spec: { url: server.url, lanes: historyLanes, durationSec: seconds } }),
        withSends ? sendLoad.call<LoadResult>('run', { spec: { url: server.url, lanes: sendLanes, durationSec: seconds } }) : Promise.resolve(null),
      ]);
      const cpu1 = await server.worker.call<NodeJS.CpuUsage>('cpu');
      const standby1 = cpuSecondsOfTree((standby as Standby).postmasterPid);
      const requests = Math.max(1, history.requests);
      return {
        history: {
          rps: history.rps,
          p50: history.p50,
          p99: history.p99,
          serverCpuMs: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1000 / requests,
          standbyCpuMs: ((standby1 - standby0) * 1000) / requests,
          requests: history.requests,
          bad: history.non2xx + history.errors + history.timeouts,
        },
        sends,
      };
    };

    log(`warm-up: 3 s on each server`);
    for (const s of servers) await run(s, 3, false);

    log(`history only: ${ROUNDS} rounds of ${SECONDS} s on each server, alternating`);
    const runs: Run[][] = [[], []];
    const lag: LagSamples = { bytes: [], serverMs: [] };
    const standbyCommits = { before: 0, after: 0 };
    const statements = { before: 0, after: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [k, server] of servers.entries()) {
        const sampler = k === 1 ? sampleLag(url, standby, database, server) : null;
        if (k === 1) {
          standbyCommits.before += await commits(standby.url(database), database);
          statements.before += await server.worker.call<number>('statements');
        }
        const { history } = await run(server, SECONDS, false);
        runs[k].push(history);
        if (sampler) {
          const s = await sampler.stop();
          lag.bytes.push(...s.bytes);
          lag.serverMs.push(...s.serverMs);
          // pg_stat_database is flushed by each backend about once a second.
          await sleep(1_500);
          standbyCommits.after += await commits(standby.url(database), database);
          statements.after += await server.worker.call<number>('statements');
        }
        // The standby's CPU is counted only while the replica server runs (its processes are the same then: the lag sampler's connection included).
        const standbyCpu = k === 1 ? `  standby CPU ${fmt(history.standbyCpuMs, 3)} ms/page` : '';
        log(`  round ${round} ${server.name.padEnd(13)} ${fmt(history.rps)} req/s  p50 ${fmt(history.p50, 2)} ms  p99 ${fmt(history.p99, 2)} ms  server CPU ${fmt(history.serverCpuMs, 3)} ms/page${standbyCpu}${history.bad ? `  (${history.bad} failed)` : ''}`);
      }
    }

    log(`history with ${SENDERS} senders writing: one run of ${SECONDS} s on each server`);
    const writing: { history: Run; sends: LoadResult | null }[] = [];
    const writeLag: LagSamples = { bytes: [], serverMs: [] };
    for (const [k, server] of servers.entries()) {
      const sampler = sampleLag(url, standby, database, k === 1 ? server : null);
      writing.push(await run(server, SECONDS, true));
      const s = await sampler.stop();
      if (k === 1) {
        writeLag.bytes.push(...s.bytes);
        writeLag.serverMs.push(...s.serverMs);
      }
      const { history, sends } = writing[k];
      log(`  ${server.name.padEnd(13)} history ${fmt(history.rps)} req/s (p50 ${fmt(history.p50, 2)} ms), sends ${fmt(sends?.rps ?? null)} req/s${history.bad ? `  (${history.bad} failed)` : ''}`);
    }

    const m = (k: number, f: (r: Run) => number | null) => median(runs[k].map(f));
    const rpsA = m(0, (r) => r.rps);
    const rpsB = m(1, (r) => r.rps);
    // Each history page is one statement; on the standby, one transaction (its 10 polls a second are counted too).
    const onStandby = (standbyCommits.after - standbyCommits.before) / Math.max(1, statements.after - statements.before);
    const bytes = summary(lag.bytes);
    const serverMs = summary(lag.serverMs);
    const wBytes = summary(writeLag.bytes);
    const wServerMs = summary(writeLag.serverMs);
    console.log('');
    // The machine is shared: its load says how much the figures can be trusted.
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(', ')} (${ROUNDS} rounds)`);
    console.log(`history page (50 messages, 10 connections), medians of ${ROUNDS} runs of ${SECONDS} s:`);
    console.log(`  primary only   ${fmt(rpsA)} req/s  p50 ${fmt(m(0, (r) => r.p50), 2)} ms  p99 ${fmt(m(0, (r) => r.p99), 2)} ms  server CPU ${fmt(m(0, (r) => r.serverCpuMs), 3)} ms/page`);
    console.log(
      `  one replica    ${fmt(rpsB)} req/s  p50 ${fmt(m(1, (r) => r.p50), 2)} ms  p99 ${fmt(m(1, (r) => r.p99), 2)} ms  server CPU ${fmt(m(1, (r) => r.serverCpuMs), 3)} ms/page  standby CPU ${fmt(m(1, (r) => r.standbyCpuMs), 3)} ms/page`,
    );
    console.log(`  ratio          ${rpsA && rpsB ? (rpsB / rpsA).toFixed(2) : '-'}x req/s; ${(onStandby * 100).toFixed(0)} % of the replica server's statements ran on the standby (its transactions in pg_stat_database, the server's polls included)`);
    console.log(`  replay lag meanwhile: ${fmt(bytes.p50, 0)} bytes p50, ${fmt(bytes.p99, 0)} p99, ${fmt(bytes.max, 0)} max; as the server measures it (the bound's measure): ${fmt(serverMs.p50, 0)} ms p50, ${fmt(serverMs.p99, 0)} p99, ${fmt(serverMs.max, 0)} max`);
    console.log(`with ${SENDERS} senders writing meanwhile:`);
    for (const [k, s] of servers.entries()) {
      console.log(`  ${s.name.padEnd(13)}  history ${fmt(writing[k].history.rps)} req/s, sends ${fmt(writing[k].sends?.rps ?? null)} req/s`);
    }
    console.log(`  replay lag meanwhile: ${fmt(wBytes.p50, 0)} bytes p50, ${fmt(wBytes.p99, 0)} p99, ${fmt(wBytes.max, 0)} max; as the server measures it: ${fmt(wServerMs.p50, 0)} ms p50, ${fmt(wServerMs.p99, 0)} p99, ${fmt(wServerMs.max, 0)} max`);
  } finally {
    for (const w of workers.reverse()) await w.stop().catch(() => {});
    await standby?.stop();
  }
});
