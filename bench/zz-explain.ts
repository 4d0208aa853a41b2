import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createApp } from '/work/main/src/app';
import { loadConfig } from '/work/main/src/config';
import { createLogger } from '/work/main/src/logger';
import { seed, ROOMS, userId, userName, COMPANY } from '/work/main/bench/lib/seed';
import { signToken } from '/work/main/src/auth/token';
import { HISTORY, INBOX, body } from '/work/main/bench/lib/queries';

async function main() {
  const server = 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `chat_explain_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: server }); await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  const app = await createApp({ config: loadConfig({ DATABASE_URL: url, JWT_SECRET: 's', PORT: '0', NODE_ENV: 'production' }), logger: createLogger('silent') });
  try {
    await seed(url, { histMessages: 10000, deepMessages: 1000, socketUsers: 10, fanoutMembers: 10, memoryMembers: 10, mixedSubscribers: 10 }, () => {});
    const captured: { t: string; p: readonly unknown[] }[] = [];
    app.db.observer = (t, p) => captured.push({ t, p });
    for (const [doc, op, vars, user] of [[HISTORY, 'HistoryPage', { roomId: ROOMS.hist, limit: 50 }, 0], [INBOX, 'Inbox', { pageSize: 50 }, 10]] as const) {
      const token = await signToken('s', { userId: userId(user), name: userName(user), companyId: COMPANY });
      captured.length = 0;
      await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body(doc, op, vars) });
      captured.length = 0;
      await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body(doc, op, vars) });
      const c = new Client({ connectionString: url }); await c.connect(); await c.query(`SET TimeZone = 'UTC'`);
      for (const { t, p } of captured) {
        await c.query(`SET plan_cache_mode = force_generic_plan`);
        await c.query({ name: 'x' + op, text: t, values: p as unknown[] });
        const lit = (v: unknown) => (v === null ? 'NULL' : typeof v === 'string' ? `'${v}'` : String(v));
        await c.query(`PREPARE g${op} AS ${t}`);
        const r = await c.query(`EXPLAIN (ANALYZE, BUFFERS) EXECUTE g${op}(${(p as unknown[]).map(lit).join(', ')})`);
        console.log(`--- ${op}\n` + r.rows.map((x: any) => x['QUERY PLAN']).join('\n'));
      }
      await c.end();
    }
  } finally {
    await app.stop();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`); await admin.end();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
