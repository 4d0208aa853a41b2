import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { expect } from 'chai';
import { Client } from 'pg';
import { signToken } from '../src/auth/token';
import { SEARCH_LOOKUP_ROWS, SEARCH_WALK_ROWS } from '../src/chat/search/search.repository';
import { errorCode, gql, ok, type TestUser, newUser } from './support/client';
import { groupRoom, send, staffedRoom } from './support/factories';
import { testDatabaseUrl } from './support/hooks';
import { onCleanup, startServer, TEST_JWT_SECRET, type TestServer } from './support/server';

const SEARCH = `query($q: String!, $r: ID, $limit: Int, $before: ID) {
  searchMessages(query: $q, roomId: $r, limit: $limit, before: $before) { snippet message { id content room { id } } }
}`;

type Hit = { snippet: string; message: { id: string; content: string; room: { id: string } } };

async function search(server: TestServer, user: TestUser, q: string, extra: Record<string, unknown> = {}): Promise<Hit[]> {
  return (await ok<{ searchMessages: Hit[] }>(server.url, SEARCH, { q, ...extra }, user.token)).searchMessages;
}

const contents = (hits: Hit[]) => hits.map((h) => h.message.content);
const ids = (hits: { message: { id: string } }[]) => hits.map((h) => h.message.id);

/** A second connection to the run's database, closed after the test. */
async function database(): Promise<Client> {
  const db = new Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  onCleanup(() => db.end());
  return db;
}

/**
 * `count` messages straight into storage, after the room's last one, one
 * second apart, the last `endsAgo` seconds ago: `content` is SQL over `s`
 * (1..count) and `$5...` (`params`). Returns their ids, oldest first.
 */
async function fill(
  db: Client,
  roomId: string,
  senderId: string,
  count: number,
  content: string,
  { endsAgo = 0, params = [] }: { endsAgo?: number; params?: unknown[] } = {},
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH room AS (UPDATE rooms SET last_seq = last_seq + $3 WHERE id = $1 RETURNING last_seq - $3 AS base)
     INSERT INTO messages (room_id, sender_id, type, content, seq, created_at)
     SELECT $1, $2, 'TEXT', ${content}, room.base + s, now() - make_interval(secs => $4 + $3 - s) FROM room, generate_series(1, $3::int) s
     ORDER BY s RETURNING id`,
    [roomId, senderId, count, endsAgo, ...params],
  );
  return rows.map((r) => r.id);
}

/** What one search statement read from messages: heap rows (kept or dropped by a filter, times loops), index entries found and index pages read to find them. */
interface Reads {
  rows: number;
  entries: number;
  pages: number;
}

/**
 * Runs a search and reads the plan of the statement the server sent, run
 * again under EXPLAIN ANALYZE with its parameters: what it read from messages.
 */
async function searchReads(server: TestServer, db: Client, token: string, q: string, extra: Record<string, unknown> = {}): Promise<{ hits: Hit[]; reads: Reads }> {
  const captured: { text: string; params: readonly unknown[] }[] = [];
  server.app.db.observer = (text, params) => {
    if (text.includes('websearch_to_tsquery')) captured.push({ text, params });
  };
  try {
    const { searchMessages: hits } = await ok<{ searchMessages: Hit[] }>(server.url, SEARCH, { q, ...extra }, token);
    expect(captured, 'one search statement').to.have.length(1);
    const [{ text, params }] = captured;
    const [{ 'QUERY PLAN': [plan] }] = (await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, params as unknown[])).rows;
    const reads: Reads = { rows: 0, entries: 0, pages: 0 };
    const walk = (node: Record<string, any>) => {
      const loops = node['Actual Loops'] ?? 1;
      if (node['Relation Name'] === 'messages') {
        reads.rows += ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * loops;
      }
      if (node['Node Type'] === 'Bitmap Index Scan' && String(node['Index Name']).startsWith('messages')) {
        reads.entries += (node['Actual Rows'] ?? 0) * loops;
        reads.pages += (node['Shared Hit Blocks'] ?? 0) + (node['Shared Read Blocks'] ?? 0);
      }
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(plan.Plan);
    return { hits, reads };
  } finally {
    server.app.db.observer = null;
  }
}

describe('searchMessages', () => {
  let server: TestServer;
  let owner: TestUser;
  let member: TestUser;
  let roomId: string;

  beforeEach(async () => {
    server = await startServer({ env: { MESSAGE_RATE_LIMIT: '100000/10' } });
    ({ owner, member, roomId } = await staffedRoom(server.url));
  });

  it('finds words case-insensitively, newest first, and pages with before', async () => {
    const first = await send(server.url, owner, roomId, 'The Quarterly report is ready');
    await send(server.url, member, roomId, 'lunch at noon?');
    const second = await send(server.url, member, roomId, 'REPORT: numbers look good');
    const third = await send(server.url, owner, roomId, 'a report on the report');
    expect((await search(server, member, 'report')).map((h) => h.message.id)).to.deep.equal([third.id, second.id, first.id]);
    const page1 = await search(server, member, 'REPORT', { limit: 2 });
    const page2 = await search(server, member, 'report', { limit: 2, before: page1[1].message.id });
    expect([...page1, ...page2].map((h) => h.message.id)).to.deep.equal([third.id, second.id, first.id]);
    expect(await search(server, member, 'report', { limit: 2, before: first.id })).to.deep.equal([]);
  });

  it('understands a web search box: "quoted phrases", -exclusions and or', async () => {
    await send(server.url, owner, roomId, 'release the new build today');
    await send(server.url, owner, roomId, 'build the new release');
    await send(server.url, owner, roomId, 'the release is blocked');
    expect(contents(await search(server, owner, '"new release"'))).to.deep.equal(['build the new release']);
    expect(contents(await search(server, owner, 'release -build'))).to.deep.equal(['the release is blocked']);
    expect(contents(await search(server, owner, 'blocked or today'))).to.have.members(['the release is blocked', 'release the new build today']);
  });

  it('matches words of any language as written, and languages without spaces by character sequence', async () => {
    const texts = [
      'Встреча перенесена на пятницу',
      'Η συνάντηση είναι αύριο',
      'Café crème für Straße',
      'سنلتقي غدا في المكتب',
      '東京タワーに行きました',
      '我们明天在北京见面',
      '회의는 내일 서울에서 합니다',
    ];
    for (const text of texts) await send(server.url, owner, roomId, text);
    for (const [query, expected] of [
      ['пятницу', texts[0]],
      ['ΣΥΝΆΝΤΗΣΗ', texts[1]],
      ['café', texts[2]],
      ['straße', texts[2]],
      ['المكتب', texts[3]],
      ['東京', texts[4]],
      ['タワー', texts[4]],
      ['北京', texts[5]],
      ['서울', texts[6]],
    ]) {
      expect(contents(await search(server, member, query)), query).to.deep.equal([expected]);
    }
    // Characters must be adjacent and in order: 京東 is not 東京.
    expect(await search(server, member, '京東')).to.deep.equal([]);
    expect(contents(await search(server, member, '"東京" -北京'))).to.deep.equal([texts[4]]);
  });

  it('gives an HTML-safe snippet with each match in <mark>', async () => {
    await send(server.url, owner, roomId, 'Use <script>alert("x")</script> & the report tag <b>report</b>');
    await send(server.url, owner, roomId, '東京タワーに行きました');
    const [hit] = await search(server, owner, 'report');
    expect(hit.snippet).to.equal('Use &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; the <mark>report</mark> tag &lt;b&gt;<mark>report</mark>&lt;/b&gt;');
    const [cjk] = await search(server, owner, '東京');
    expect(cjk.snippet).to.equal('<mark>東京</mark>タワーに行きました');
    // A long message: an excerpt around the match, cut at words, marked where the phrase stands (not its loose words).
    const filler = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
    await send(server.url, owner, roomId, `${filler(60)} the launch date moved, launch plans later ${filler(60)}`);
    const [long] = await search(server, owner, '"launch date"');
    expect(long.snippet).to.match(/^… word\d+ /);
    expect(long.snippet).to.match(/ word\d+ …$/);
    expect(long.snippet).to.include('the <mark>launch date</mark> moved, launch plans');
    expect(long.snippet.length).to.be.below(300);
  });

  it('escapes the text inside <mark> too: a quoted phrase with markup between its words', async () => {
    await send(server.url, owner, roomId, 'Tom <i jerry said "hi" & left');
    await send(server.url, owner, roomId, `tom & jerry's "show" tonight`);
    const [tag] = await search(server, owner, '"tom <i jerry"');
    expect(tag.snippet).to.equal('<mark>Tom &lt;i jerry</mark> said &quot;hi&quot; &amp; left');
    const [quote] = await search(server, owner, `"jerry's show"`);
    expect(quote.snippet).to.equal('tom &amp; <mark>jerry&#39;s &quot;show</mark>&quot; tonight');
  });

  it('marks overlapping and repeated phrases as one match, whatever their order in the query', async () => {
    await send(server.url, owner, roomId, 'alpha beta gamma delta, beta gamma');
    const [hit] = await search(server, owner, '"gamma delta" "alpha beta gamma" "beta gamma" "beta gamma" delta');
    expect(hit.snippet).to.equal('<mark>alpha beta gamma delta</mark>, <mark>beta gamma</mark>');
  });

  it('never finds deleted messages, finds an edit by its new text only, and nothing in rooms left or of others', async () => {
    const edited = await send(server.url, member, roomId, 'old wording alpha');
    await ok(server.url, `mutation($id: ID!, $c: String!) { editMessage(id: $id, content: $c) { id } }`, { id: edited.id, c: 'new wording beta' }, member.token);
    const deleted = await send(server.url, member, roomId, 'gamma to be deleted');
    await ok(server.url, `mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: deleted.id }, member.token);
    expect(await search(server, member, 'alpha')).to.deep.equal([]);
    expect(contents(await search(server, member, 'beta'))).to.deep.equal(['new wording beta']);
    expect(await search(server, member, 'gamma')).to.deep.equal([]);

    const outsider = await newUser(server.url, { companyId: randomUUID() });
    const theirs = await groupRoom(server.url, outsider, [], 'Theirs');
    await send(server.url, outsider, theirs, 'delta in another company');
    await send(server.url, owner, roomId, 'delta in ours');
    expect(contents(await search(server, member, 'delta'))).to.deep.equal(['delta in ours']);
    expect(contents(await search(server, outsider, 'delta'))).to.deep.equal(['delta in another company']);

    await ok(server.url, `mutation($r: ID!, $u: ID!) { removeMember(roomId: $r, userId: $u) }`, { r: roomId, u: member.id }, owner.token);
    expect(await search(server, member, 'delta')).to.deep.equal([]);
  });

  it("finds nothing of the old company's rooms for a user whose token now names another company", async () => {
    const mine = await send(server.url, owner, roomId, 'quarterly numbers attached');
    const moved = await signToken(TEST_JWT_SECRET, { userId: member.id, name: member.name, companyId: randomUUID(), expiresIn: '1h' });
    // Still an active member of the room: only the company of the token keeps it out.
    for (const q of ['quarterly', '"numbers attached"', '-zzzz']) {
      expect((await ok<{ searchMessages: Hit[] }>(server.url, SEARCH, { q }, moved)).searchMessages, q).to.deep.equal([]);
    }
    expect(await errorCode(server.url, SEARCH, { q: 'quarterly', r: roomId }, moved)).to.equal('NOT_FOUND');
    expect(await errorCode(server.url, SEARCH, { q: 'quarterly', before: mine.id }, moved)).to.equal('BAD_USER_INPUT');
    // The old company's token finds it again.
    expect(ids(await search(server, member, 'quarterly'))).to.deep.equal([mine.id]);
  });

  it("never shows another company's messages with the same words, in rooms of both companies the user belongs to", async () => {
    const db = await database();
    const ours = await send(server.url, owner, roomId, 'budget review friday');
    // The member's token now names another company, which adds them to a room with the same words, many times.
    const elsewhere = randomUUID();
    const moved = await signToken(TEST_JWT_SECRET, { userId: member.id, name: member.name, companyId: elsewhere, expiresIn: '1h' });
    await ok(server.url, '{ me { id } }', {}, moved);
    const theirOwner = await newUser(server.url, { companyId: elsewhere });
    const theirRoom = await groupRoom(server.url, theirOwner, [], 'Elsewhere');
    await ok(server.url, `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id } }`, { r: theirRoom, u: [member.id] }, theirOwner.token);
    const theirs = await fill(db, theirRoom, theirOwner.id, 3000, `'budget review friday ' || s`);
    // And a company the member never belonged to says the same.
    const outsider = await newUser(server.url, { companyId: randomUUID() });
    const outsiderRoom = await groupRoom(server.url, outsider, [], 'Outside');
    await fill(db, outsiderRoom, outsider.id, 3000, `'budget review friday ' || s`);
    await db.query('ANALYZE messages');
    // Rare or common, a word, a phrase or exclusions only: the old company's token finds its one message.
    for (const q of ['budget', '"review friday"', 'friday -zzzz', '-zzzz']) {
      expect(ids(await search(server, member, q)), q).to.deep.equal([ours.id]);
    }
    // The new company's token: its room's newest messages only.
    const newest = theirs.slice(-20).reverse();
    for (const q of ['budget', '"review friday"', '-zzzz']) {
      expect(ids((await ok<{ searchMessages: Hit[] }>(server.url, SEARCH, { q }, moved)).searchMessages), q).to.deep.equal(newest);
    }
  });

  it('searches one room when asked, which needs membership (NOT_FOUND as for a room that does not exist)', async () => {
    const other = await groupRoom(server.url, owner, [member], 'Other');
    await send(server.url, owner, roomId, 'epsilon here');
    await send(server.url, owner, other, 'epsilon there');
    expect(contents(await search(server, member, 'epsilon', { r: other }))).to.deep.equal(['epsilon there']);
    const stranger = await newUser(server.url);
    const hidden = await gql(server.url, SEARCH, { q: 'epsilon', r: roomId }, stranger.token);
    const missing = await gql(server.url, SEARCH, { q: 'epsilon', r: randomUUID() }, stranger.token);
    expect(hidden.errors?.[0].extensions.code).to.equal('NOT_FOUND');
    expect(hidden.errors?.[0].message).to.equal(missing.errors?.[0].message);
  });

  it('reads in proportion to the page, not to the history, when a word is in every message, and only its matches when it is rare', async function () {
    this.timeout(60_000);
    const db = await database();
    // 20,000 messages of a 2,000-word vocabulary, every one with a common word and two with a rare one, straight into storage.
    await fill(db, roomId, owner.id, 20_000, `'commonword w' || (s * 7919 % 2000) || ' w' || (s * 104729 % 2000) || CASE WHEN s % 7000 = 0 THEN ' rarebird' ELSE '' END`);
    await db.query('ANALYZE messages');

    const rowsRead = async (word: string): Promise<number> => {
      const { hits, reads } = await searchReads(server, db, member.token, word, { limit: 20 });
      expect(hits.length, word).to.equal(word === 'rarebird' || word === 'commonword rarebird' ? 2 : 20);
      return reads.rows;
    };
    // A page of a word in every message: the newest 20 of the room, not all 20,000 matches.
    expect(await rowsRead('commonword')).to.be.below(200);
    // A rare word: its few index entries, not a walk through the room.
    expect(await rowsRead('rarebird')).to.be.below(200);
    // Both must match: as rare as the rarer; either may: as common as both together; only an exclusion: nothing to look up.
    expect(await rowsRead('commonword rarebird')).to.be.below(200);
    expect(await rowsRead('rarebird or commonword')).to.be.below(200);
    expect(await rowsRead('-rarebird')).to.be.below(200);
  });

  it('answers a page of hits with their senders in one statement, for a common word and a rare one alike', async () => {
    await send(server.url, owner, roomId, 'kiwi from the owner');
    await send(server.url, member, roomId, 'kiwi from the member');
    const WITH_SENDERS = `query($q: String!) { searchMessages(query: $q) { message { content sender { id displayName } } } }`;
    const res = await gql(server.url, WITH_SENDERS, { q: 'kiwi' }, owner.token);
    expect(res.errors).to.equal(undefined);
    expect(res.data?.searchMessages.map((h: { message: { content: string; sender: { id: string; displayName: string } } }) => [h.message.content, h.message.sender])).to.deep.equal([
      ['kiwi from the member', { id: member.id, displayName: member.name }],
      ['kiwi from the owner', { id: owner.id, displayName: owner.name }],
    ]);
    expect(res.extensions?.sqlStatements).to.equal(1);
    // The same when the word is in most messages and the rooms are walked instead (the planner's statistics say so).
    const db = await database();
    await fill(db, roomId, member.id, 3000, `'kiwi again ' || s`);
    await db.query('ANALYZE messages');
    const common = await gql(server.url, WITH_SENDERS, { q: 'kiwi' }, owner.token);
    expect(common.errors).to.equal(undefined);
    expect(common.data?.searchMessages).to.have.length(20);
    expect(common.data?.searchMessages[0].message.sender).to.deep.equal({ id: member.id, displayName: member.name });
    expect(common.extensions?.sqlStatements).to.equal(1);
  });

  it('refuses bad input with BAD_USER_INPUT', async () => {
    const mine = await send(server.url, owner, roomId, 'zeta');
    const stranger = await newUser(server.url);
    const theirRoom = await groupRoom(server.url, stranger, [], 'Stranger room');
    const theirs = await send(server.url, stranger, theirRoom, 'zeta');
    for (const [label, variables] of [
      ['blank', { q: '   ' }],
      ['empty', { q: '' }],
      ['201 characters', { q: 'a'.repeat(201) }],
      ['NUL', { q: 'ze\u0000ta' }],
      ['lone surrogate', { q: 'ze\ud800ta' }],
      ['limit 0', { q: 'zeta', limit: 0 }],
      ['limit 101', { q: 'zeta', limit: 101 }],
      ['malformed before', { q: 'zeta', before: 'not-an-id' }],
      ['before of a room not seen', { q: 'zeta', before: theirs.id }],
      ['malformed roomId', { q: 'zeta', r: 'nope' }],
    ] as const) {
      expect(await errorCode(server.url, SEARCH, variables, owner.token), label).to.equal('BAD_USER_INPUT');
    }
    // The bounds themselves are accepted, and each finds what it should: our message, never the stranger's identical one.
    expect(await search(server, owner, 'a'.repeat(200))).to.deep.equal([]);
    expect(ids(await search(server, owner, 'zeta', { limit: 100 }))).to.deep.equal([mine.id]);
    expect(ids(await search(server, owner, 'zeta', { limit: 1 }))).to.deep.equal([mine.id]);
    expect(await search(server, owner, 'zeta', { before: mine.id }), 'nothing is older than our only zeta').to.deep.equal([]);
    expect(ids(await search(server, stranger, 'zeta'))).to.deep.equal([theirs.id]);
    // A query without a word (nothing the index knows) finds nothing, and is no error.
    expect(await search(server, owner, '*** ()')).to.deep.equal([]);
  });

  describe('bounded work (issue 17)', () => {
    it('answers 100 hits of 2,000 one-letter words for a 100-word query in milliseconds, three aliases at once', async function () {
      this.timeout(300_000);
      const db = await database();
      await fill(db, roomId, owner.id, 100, '$5::text', { params: [Array(2000).fill('a').join(' ')] });
      const query = Array(100).fill('a').join(' ');
      const ALIASES = `query($q: String!) {
        one: searchMessages(query: $q, limit: 100) { snippet }
        two: searchMessages(query: $q, limit: 100) { snippet }
        three: searchMessages(query: $q, limit: 100) { snippet }
      }`;
      // The server runs in this process: the longest the event loop went without turning is the longest block.
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const started = performance.now();
      const data = await ok<Record<string, { snippet: string }[]>>(server.url, ALIASES, { q: query }, member.token);
      const took = performance.now() - started;
      delay.disable();
      // An excerpt of the first 240 characters, each word its own match.
      const expected = `${Array(120).fill('<mark>a</mark>').join(' ')} …`;
      for (const alias of ['one', 'two', 'three']) {
        expect(data[alias], alias).to.have.length(100);
        expect(new Set(data[alias].map((h) => h.snippet)), alias).to.deep.equal(new Set([expected]));
      }
      // Before: 7 s per alias. Generous bounds for a shared machine (under 200 ms when it is idle).
      expect(delay.max / 1e6, 'longest block of the event loop, ms').to.be.below(1000);
      expect(took, 'whole request, ms').to.be.below(5000);
    });

    it("reads only the caller's rooms' entries of a word: another company's occurrences add nothing, for one rare word and an `or` of 25", async function () {
      this.timeout(120_000);
      const db = await database();
      const words = Array.from({ length: 25 }, (_, i) => `zq${i}`);
      const anyOf = words.join(' or ');
      await fill(db, roomId, owner.id, 2000, `'filler ' || s || CASE WHEN s % 40 = 0 THEN ' ' || ($5::text[])[1 + (s / 40) % 25] ELSE '' END`, { params: [words] });
      await db.query('ANALYZE messages');
      const reads = async () => {
        const one = await searchReads(server, db, member.token, 'zq7');
        const any = await searchReads(server, db, member.token, anyOf);
        expect(ids(one.hits)).to.have.length(2);
        expect(ids(any.hits)).to.have.length(20);
        return { one: one.reads, any: any.reads };
      };
      const before = await reads();
      expect(before.any.rows, 'an or of 25: their entries in our rooms, not a walk').to.be.below(200);

      // Another company says them all the time: 40,000 messages, each word in 1,600.
      const outsider = await newUser(server.url, { companyId: randomUUID() });
      const theirs = await groupRoom(server.url, outsider, [], 'Theirs');
      await fill(db, theirs, outsider.id, 40_000, `'other ' || ($5::text[])[1 + s % 25]`, { params: [words] });
      // Before the statistics know of them, and after: the same entries and rows. The index's entry tree may have
      // grown a level deeper with their 40,000 messages (one more page per word looked up: 25 for the `or`, 1 for
      // the rare word); anything more would be their entries being read.
      const same = (now: { one: Reads; any: Reads }, label: string) => {
        expect({ one: { ...now.one, pages: 0 }, any: { ...now.any, pages: 0 } }, label).to.deep.equal({ one: { ...before.one, pages: 0 }, any: { ...before.any, pages: 0 } });
        expect(now.one.pages, `${label}: pages for one word`).to.be.within(before.one.pages, before.one.pages + 1);
        expect(now.any.pages, `${label}: pages for 25 words`).to.be.within(before.any.pages, before.any.pages + words.length);
      };
      same(await reads(), 'statistics not yet updated');
      await db.query('ANALYZE messages');
      same(await reads(), 'statistics updated');
    });

    it('examines at most SEARCH_WALK_ROWS messages for common words that never match together, however long the history', async function () {
      this.timeout(120_000);
      const db = await database();
      const history = SEARCH_WALK_ROWS + 5_000;
      await fill(db, roomId, owner.id, history, `'the quick brown fox jumps over the lazy dog ' || s`);
      await db.query('ANALYZE messages');
      for (const q of ['fox -fox', 'quick -brown', '"dog quick"', '"the the the"', '"lazy the"']) {
        const { hits, reads } = await searchReads(server, db, member.token, q);
        expect(hits, q).to.deep.equal([]);
        expect(reads.rows, q).to.be.at.most(SEARCH_WALK_ROWS + 20);
      }
    });

    it('a walk cut short holds only the matches newer than where it stopped, and goes on from an older message with before', async function () {
      this.timeout(120_000);
      const db = await database();
      // A long room of common words; "fox quick" (never otherwise adjacent) in its newest and its oldest message.
      const big = await fill(db, roomId, owner.id, SEARCH_WALK_ROWS + 2_000, `CASE WHEN s IN (1, $3) THEN 'fox quick' ELSE 'quick fox ' || s END`);
      const oldest = big[0];
      const newest = big[big.length - 1];
      // A small room of the same user: the phrase at 100 s ago (inside the walk's reach) and 11,000 s ago (beyond it).
      const small = await groupRoom(server.url, owner, [member], 'Small');
      const [beyond] = await fill(db, small, owner.id, 1, `'fox quick, beyond'`, { endsAgo: 11_000 });
      const [inside] = await fill(db, small, owner.id, 1, `'fox quick, inside'`, { endsAgo: 100 });
      await db.query('ANALYZE messages');
      const first = await searchReads(server, db, member.token, '"fox quick"');
      expect(first.reads.rows).to.be.at.most(SEARCH_WALK_ROWS + 20);
      // The small room was read whole, but its older match waits: the long room has unexamined messages newer than it.
      expect(ids(first.hits)).to.deep.equal([newest, inside]);
      // Paging on from the last hit walks the next stretch: nothing skipped, nothing repeated.
      const second = await search(server, member, '"fox quick"', { before: inside });
      expect(ids(second)).to.deep.equal([]);
      // From an older message (one the client has seen in the history, say), every match left, newest first.
      const fromOld = await search(server, member, '"fox quick"', { before: big[1_500] });
      expect(ids(fromOld)).to.deep.equal([beyond, oldest]);
    });

    it('keeps to its lookup bound when the statistics are stale: a word that became common is walked, not read whole', async function () {
      this.timeout(120_000);
      const db = await database();
      await fill(db, roomId, owner.id, 100, `'settled ' || s`);
      await db.query('ANALYZE messages');
      // 20,000 messages of a word the statistics have never seen (no ANALYZE since).
      const fresh = await fill(db, roomId, owner.id, 20_000, `'newfangled ' || s`);
      const { hits, reads } = await searchReads(server, db, member.token, 'newfangled');
      expect(ids(hits)).to.deep.equal(fresh.slice(-20).reverse());
      expect(reads.rows).to.be.at.most(SEARCH_LOOKUP_ROWS + 200);
    });
  });
});
