import 'reflect-metadata';
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createApp, type App } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createTestDatabase, type TestDatabase } from '../test/support/database';
import { png } from '../test/support/images';

/**
 * The React example (examples/react-chat) end to end in headless Chromium: two
 * browser contexts as two users of one room, served by the API itself
 * (EXAMPLE_DIR), plus the same build served from other origins for CORS.
 */

const ROOT = resolve(__dirname, '..');
const EXAMPLE = join(ROOT, 'examples/react-chat');
const DIST = join(EXAMPLE, 'dist');
const SCREENSHOTS = join(EXAMPLE, 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/* ------------------------------------------------------------------ helpers */

/** Newest modification time under a path (a file or a folder). */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Builds the example when dist/ is missing or older than its sources. */
function buildExampleIfMissing(): void {
  const built = join(DIST, 'index.html');
  const sources = ['src', 'index.html', 'package.json', 'vite.config.ts'].map((p) => newest(join(EXAMPLE, p)));
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources)) return;
  const run = (command: string) => execSync(command, { cwd: ROOT, stdio: 'inherit' });
  if (!existsSync(join(EXAMPLE, 'node_modules'))) run('npm --prefix examples/react-chat ci --no-audit --no-fund');
  run('npm --prefix examples/react-chat run build');
}

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', done);
  });
  return (server.address() as AddressInfo).port;
}

const close = (server: Server) => new Promise<void>((done) => server.close(() => done()));

/** A port nobody uses right now (the API's origin must be known before it starts, for CORS_ORIGINS). */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

/** The built example from another origin than the API's. */
async function staticServer(): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    let file = join(DIST, path);
    if (!file.startsWith(DIST) || !existsSync(file) || path.endsWith('/')) file = join(DIST, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  const port = await listen(server);
  return { origin: `http://127.0.0.1:${port}`, server };
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

interface DevUser {
  token: string;
  userId: string;
  name: string;
}

/** The development token endpoint, from Node (no Origin header). */
async function devToken(api: string, name: string, userId: string): Promise<DevUser> {
  const res = await fetch(`${api}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, userId, companyId: COMPANY }),
  });
  expect(res.status).to.equal(200);
  return { ...((await res.json()) as { token: string; userId: string }), name };
}

async function graphql<T = any>(api: string, user: DevUser, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${api}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

// The example's development users (examples/react-chat/src/DevUserPicker.tsx).
const COMPANY = '7d3e9f10-1111-4222-8333-944455556666';
const ALICE = '2f6c1b0e-3a4d-4e5f-8a9b-0c1d2e3f4a5b';
const BOB = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const CAROL = '5c4b3a29-1807-4f6e-9d5c-4b3a29180706';

/** How many shown messages have exactly this text. */
async function countOf(page: Page, text: string): Promise<number> {
  return page.getByTestId('message-content').evaluateAll((els, t) => els.filter((e) => e.textContent === t).length, text);
}

/** Waits until exactly `n` shown messages have this text; returns the milliseconds it took. */
async function waitForCount(page: Page, text: string, n: number, timeout = 5000): Promise<number> {
  const started = Date.now();
  await page.waitForFunction(
    ([t, count]) =>
      [...document.querySelectorAll('[data-testid="message-content"]')].filter((e) => e.textContent === t).length === count,
    [text, n] as const,
    { timeout, polling: 50 },
  );
  return Date.now() - started;
}

/** The shown messages' ids, top to bottom. */
const shownIds = (page: Page) =>
  page.getByTestId('message').evaluateAll((els) => els.map((e) => e.getAttribute('data-message-id') as string));

const message = (page: Page, text: string) =>
  page.getByTestId('message').filter({ has: page.getByTestId('message-content').getByText(text, { exact: true }) });

const roomButton = (page: Page, name: string) =>
  page.getByTestId('room').filter({ has: page.getByTestId('room-name').getByText(name, { exact: true }) });

/** Waits until the message is wholly inside the visible part of the message list. */
async function waitInView(page: Page, messageId: string, timeout = 2000): Promise<void> {
  await page.waitForFunction(
    (id) => {
      const list = document.querySelector('[data-testid="messages"]')?.getBoundingClientRect();
      const item = document.querySelector(`[data-testid="message"][data-message-id="${id}"]`)?.getBoundingClientRect();
      return !!list && !!item && item.top >= list.top && item.bottom <= list.bottom;
    },
    messageId,
    { timeout },
  );
}

/** A reply in the open thread panel, by its text. */
const threadReply = (page: Page, text: string) =>
  page
    .getByTestId('thread-panel')
    .getByTestId('thread-reply')
    .filter({ has: page.getByTestId('message-content').getByText(text, { exact: true }) });

/** Retries an assertion until it holds (at most `timeout` ms), for state the pages change asynchronously. */
async function eventually(check: () => Promise<unknown>, timeout = 3000): Promise<void> {
  const until = Date.now() + timeout;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await sleep(100);
    }
  }
}

async function waitOnline(page: Page): Promise<void> {
  await page.getByTestId('connection-status').getByText('online', { exact: true }).waitFor({ timeout: 10_000 });
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
  await waitForCount(page, text, 1);
}

/* ------------------------------------------------------------------ the run */

describe('React example in headless Chromium', function () {
  let database: TestDatabase;
  let app: App;
  let api: string;
  let allowedSite: { origin: string; server: Server };
  let foreignSite: { origin: string; server: Server };
  let browser: Browser;
  let uploads: string;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  /** graphql-ws messages each page sent and received. */
  const wsFrames = new Map<Page, { sent: any[]; received: any[] }>();
  /** GraphQL operations each page sent over HTTP. */
  const httpOperations = new Map<Page, { operationName?: string; variables?: Record<string, any> }[]>();
  let alice: Page;
  let bob: Page;

  async function newPage(user: string, url: string, session?: DevUser): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    contexts.push(context);
    if (session) {
      // Sign in without the picker: a session saved in the page's storage, as the picker would save it.
      await context.addInitScript((s) => sessionStorage.setItem('chat-example-session', JSON.stringify(s)), session);
    }
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${user}: ${error.message}`));
    const frames = { sent: [] as any[], received: [] as any[] };
    wsFrames.set(page, frames);
    page.on('websocket', (socket) => {
      socket.on('framesent', ({ payload }) => frames.sent.push(JSON.parse(String(payload))));
      socket.on('framereceived', ({ payload }) => frames.received.push(JSON.parse(String(payload))));
    });
    const operations: { operationName?: string; variables?: Record<string, any> }[] = [];
    httpOperations.set(page, operations);
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/graphql') operations.push(request.postDataJSON());
    });
    await page.goto(url);
    return page;
  }

  before(async function () {
    this.timeout(300_000);
    buildExampleIfMissing();
    mkdirSync(SCREENSHOTS, { recursive: true });
    database = await createTestDatabase();
    allowedSite = await staticServer();
    foreignSite = await staticServer();
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    uploads = mkdtempSync(join(tmpdir(), 'e2e-uploads-'));
    const config = loadConfig({
      DATABASE_URL: database.url,
      PORT: String(port),
      DEV_TOKENS: 'true',
      JWT_SECRET: 'e2e-secret',
      EXAMPLE_DIR: DIST,
      // The allowed second site (the API's own pages are same-origin); listing the API too is harmless.
      CORS_ORIGINS: `${api},${allowedSite.origin}`,
      MESSAGE_RATE_LIMIT: '100/10',
      // Attachments on the API's own disk, under a folder of this run; their URLs name the API as the pages reach it.
      UPLOAD_DIR: uploads,
      PUBLIC_URL: api,
    });
    app = await createApp({ config, logger: createLogger(process.env.E2E_LOG_LEVEL ?? 'silent') });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ], // playwright gives every launch a new empty --user-data-dir of its own

    });
  });

  after(async function () {
    this.timeout(60_000);
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await app?.stop().catch(() => {});
    if (allowedSite) await close(allowedSite.server);
    if (foreignSite) await close(foreignSite.server);
    await database?.drop().catch(() => {});
    if (uploads) rmSync(uploads, { recursive: true, force: true });
  });

  it('two development users sign in; a group made by Alice appears live in Bob\'s room list', async () => {
    alice = await newPage('Alice', api);
    bob = await newPage('Bob', api);
    await alice.getByTestId('dev-user-Alice').click();
    await bob.getByTestId('dev-user-Bob').click();
    await waitOnline(alice);
    await waitOnline(bob);
    expect(await alice.getByTestId('me').textContent()).to.equal('Signed in as Alice');

    await alice.getByTestId('new-room-name').fill('Launch');
    await alice.getByTestId('new-room-member-Bob').check();
    await alice.getByTestId('new-room-create').click();
    await alice.getByTestId('room-title').getByText('Launch').waitFor({ timeout: 5000 });
    // No reload: membershipChanged reaches Bob's open socket.
    await roomButton(bob, 'Launch').waitFor({ timeout: 2000 });
  });

  it('the room list shows the unread count and last message live', async () => {
    await send(alice, 'Hello Bob');
    const room = roomButton(bob, 'Launch');
    await room.getByTestId('room-unread').getByText('1', { exact: true }).waitFor({ timeout: 2000 });
    expect(await room.getByTestId('room-last').textContent()).to.equal('Alice: Hello Bob');

    await room.click();
    await waitForCount(bob, 'Hello Bob', 1);
    // Reading the room clears the badge.
    await room.getByTestId('room-unread').waitFor({ state: 'detached', timeout: 2000 });
  });

  it('Alice sends; Bob sees it within 2 s without reloading, exactly once on both screens', async () => {
    await alice.getByTestId('composer-input').fill('Are we ready?');
    const sentAt = Date.now();
    await alice.getByTestId('composer-input').press('Enter');
    await waitForCount(bob, 'Are we ready?', 1, 2000);
    expect(Date.now() - sentAt).to.be.below(2000);
    await sleep(300); // a late duplicate (subscription + mutation result) would show up here
    expect(await countOf(alice, 'Are we ready?')).to.equal(1);
    expect(await countOf(bob, 'Are we ready?')).to.equal(1);
    expect(await shownIds(bob)).to.deep.equal(await shownIds(alice));
  });

  it('shows who is typing', async () => {
    await alice.getByTestId('composer-input').fill('Almost');
    await bob.getByTestId('typing').getByText('Alice is typing…').waitFor({ timeout: 2000 });
    await alice.getByTestId('composer-input').fill('');
    await alice.getByTestId('composer-input').fill('Almost there');
    await alice.getByTestId('composer-input').press('Enter');
    await waitForCount(bob, 'Almost there', 1, 2000);
    // Sending says "stopped typing".
    await bob.waitForFunction(() => document.querySelector('[data-testid="typing"]')?.textContent === '', undefined, { timeout: 2000 });
  });

  it('Bob reacts; Alice sees the count', async () => {
    await message(bob, 'Hello Bob').getByTestId('reaction-👍').click();
    await message(bob, 'Hello Bob').locator('[data-testid="reaction-👍"][data-count="1"]').waitFor({ timeout: 2000 });
    await message(alice, 'Hello Bob').locator('[data-testid="reaction-👍"][data-count="1"]').waitFor({ timeout: 2000 });
    expect(await message(alice, 'Hello Bob').getByTestId('reaction-❤️').getAttribute('data-count')).to.equal('0');
  });

  it('Alice edits; Bob sees the new text', async () => {
    await message(alice, 'Almost there').getByTestId('message-edit').click();
    await alice.getByTestId('edit-input').fill('Ready now');
    await alice.getByTestId('edit-save').click();
    await waitForCount(bob, 'Ready now', 1, 2000);
    expect(await countOf(bob, 'Almost there')).to.equal(0);
    expect(await message(bob, 'Ready now').textContent()).to.contain('(edited)');
  });

  it('Alice deletes; Bob sees it gone', async () => {
    const before = (await shownIds(bob)).length;
    await message(alice, 'Are we ready?').getByTestId('message-delete').click();
    await waitForCount(alice, 'Are we ready?', 0, 2000);
    await waitForCount(bob, 'Are we ready?', 0, 2000);
    expect((await shownIds(bob)).length).to.equal(before - 1);
    expect(await shownIds(bob)).to.deep.equal(await shownIds(alice));
  });

  it('Bob goes offline, Alice sends 5, Bob reconnects and shows all 5 exactly once', async () => {
    const lastShown = (await shownIds(bob)).at(-1);
    await bob.getByTestId('toggle-connection').click();
    await bob.getByTestId('connection-status').getByText('offline', { exact: true }).waitFor({ timeout: 2000 });
    const texts = [1, 2, 3, 4, 5].map((i) => `While you were away ${i}`);
    for (const text of texts) await send(alice, text);
    await sleep(500);
    for (const text of texts) expect(await countOf(bob, text), `${text} before the reconnect`).to.equal(0);

    await bob.getByTestId('toggle-connection').click();
    await waitOnline(bob);
    for (const text of texts) await waitForCount(bob, text, 1, 5000);
    await sleep(1000); // nothing doubled late (replay + live + refetch all merge by id)
    for (const text of texts) expect(await countOf(bob, text), text).to.equal(1);
    const ids = await shownIds(bob);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(ids).to.deep.equal(await shownIds(alice));

    // The new socket resumed the room with since = the last message Bob had shown, and the server replayed the 5.
    const frames = wsFrames.get(bob)!;
    const resumed = frames.sent.filter((f) => f.type === 'subscribe' && f.payload.variables?.since === lastShown);
    expect(resumed, 'a subscribe with since').to.have.length(1);
    const replayed = frames.received
      .filter((f) => f.type === 'next' && f.id === resumed[0].id)
      .map((f) => f.payload.data.messageAdded.content);
    expect(replayed.slice(0, 5)).to.deep.equal(texts);

    // And live again after the reconnect.
    await alice.getByTestId('composer-input').fill('Welcome back');
    await alice.getByTestId('composer-input').press('Enter');
    await waitForCount(bob, 'Welcome back', 1, 2000);
    await sleep(300);
    expect(await countOf(bob, 'Welcome back')).to.equal(1);

    await alice.screenshot({ path: join(SCREENSHOTS, 'alice.png') });
    await bob.screenshot({ path: join(SCREENSHOTS, 'bob.png') });
  });

  it("a green dot shows the room's members online: Bob's goes out when he goes offline and comes back with him", async () => {
    const dot = (page: Page, userId: string, online: boolean) =>
      page.locator(`[data-testid="member-presence"][data-user-id="${userId}"][data-online="${online}"]`);
    await dot(alice, BOB, true).waitFor({ timeout: 5000 });
    await dot(alice, ALICE, true).waitFor({ timeout: 5000 });
    await dot(bob, ALICE, true).waitFor({ timeout: 5000 });

    await bob.getByTestId('toggle-connection').click();
    await bob.getByTestId('connection-status').getByText('offline', { exact: true }).waitFor({ timeout: 2000 });
    // No reload: presenceChanged reaches Alice's open socket.
    await dot(alice, BOB, false).waitFor({ timeout: 5000 });
    expect(await alice.locator(`[data-testid="member-presence"][data-user-id="${BOB}"] .dot.online`).count(), 'no green dot').to.equal(0);

    await bob.getByTestId('toggle-connection').click();
    await waitOnline(bob);
    await dot(alice, BOB, true).waitFor({ timeout: 5000 });
    expect(await alice.locator(`[data-testid="member-presence"][data-user-id="${BOB}"] .dot.online`).count(), 'the green dot').to.equal(1);
  });

  it('scrolls back through the history with `before`', async () => {
    const aliceUser = await devToken(api, 'Alice', ALICE);
    const { createGroupChat } = await graphql(api, aliceUser, 'mutation($i: CreateGroupChatInput!) { createGroupChat(input: $i) { id } }', {
      i: { name: 'History', memberIds: [BOB] },
    });
    for (let i = 1; i <= 25; i++) {
      await graphql(api, aliceUser, 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }', {
        i: { roomId: createGroupChat.id, content: `Old news ${i}`, clientId: `history-${i}` },
      });
    }
    const room = roomButton(bob, 'History');
    await room.getByTestId('room-unread').getByText('25', { exact: true }).waitFor({ timeout: 5000 });
    await room.click();
    await waitForCount(bob, 'Old news 25', 1);
    expect(await bob.getByTestId('message').count()).to.equal(20); // the first page
    expect(await countOf(bob, 'Old news 5')).to.equal(0);

    await bob.getByTestId('load-older').click();
    await waitForCount(bob, 'Old news 1', 1);
    const shown = await bob.getByTestId('message-content').allTextContents();
    expect(shown).to.deep.equal(Array.from({ length: 25 }, (_, i) => `Old news ${i + 1}`));
    await bob.getByTestId('load-older').waitFor({ state: 'detached', timeout: 2000 }); // nothing older
    await bob.screenshot({ path: join(SCREENSHOTS, 'bob-history.png') });
  });

  it('works from an origin CORS_ORIGINS allows, and a foreign origin is refused', async () => {
    const carol = await devToken(api, 'Carol', CAROL);
    const query = `?api=${encodeURIComponent(api)}`;
    const probe = (page: Page) =>
      page.evaluate(async (apiOrigin) => {
        const http = await fetch(`${apiOrigin}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }' }),
        }).then(
          (res) => `answered ${res.status}`,
          (error: Error) => `refused: ${error.message}`,
        );
        const ws = await new Promise<string>((done) => {
          const socket = new WebSocket(`${apiOrigin.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
          socket.onopen = () => (socket.close(), done('open'));
          socket.onclose = (event) => done(`closed ${event.code}`);
        });
        return { http, ws };
      }, api);

    // Allowed: the whole app works across origins, over HTTP (preflighted) and the WebSocket.
    const allowed = await newPage('Carol (allowed origin)', `${allowedSite.origin}/${query}`, carol);
    expect(await probe(allowed)).to.deep.equal({ http: 'answered 200', ws: 'open' });
    await waitOnline(allowed);
    await allowed.getByTestId('new-room-name').fill('Across origins');
    await allowed.getByTestId('new-room-member-Alice').check();
    await allowed.getByTestId('new-room-create').click();
    await allowed.getByTestId('room-title').getByText('Across origins').waitFor({ timeout: 5000 });
    await send(allowed, 'Hi from another origin');
    await roomButton(alice, 'Across origins').click();
    await waitForCount(alice, 'Hi from another origin', 1, 2000);
    await send(alice, 'Hi Carol');
    await waitForCount(allowed, 'Hi Carol', 1, 2000);
    await allowed.screenshot({ path: join(SCREENSHOTS, 'carol-allowed-origin.png') });

    // Refused: the browser may not read the API's answers, and the WebSocket handshake fails.
    const foreign = await newPage('Carol (foreign origin)', `${foreignSite.origin}/${query}`, carol);
    const refused = await probe(foreign);
    expect(refused.http).to.match(/^refused/);
    expect(refused.ws).to.equal('closed 1006');
    await foreign.getByTestId('rooms-error').waitFor({ timeout: 5000 }); // the rooms query failed
    await sleep(1000);
    expect(await foreign.getByTestId('connection-status').textContent()).to.not.equal('online');
    expect(await foreign.getByTestId('room').count()).to.equal(0);
    await foreign.screenshot({ path: join(SCREENSHOTS, 'carol-foreign-origin.png') });
  });

  it('the search box finds a message by a word; its result opens the room scrolled to the message, highlighted', async () => {
    const aliceUser = await devToken(api, 'Alice', ALICE);
    const { createGroupChat } = await graphql(api, aliceUser, 'mutation($i: CreateGroupChatInput!) { createGroupChat(input: $i) { id } }', {
      i: { name: 'Archive', memberIds: [BOB] },
    });
    const post = async (content: string, clientId: string): Promise<string> => {
      const { sendMessage } = await graphql(api, aliceUser, 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }', {
        i: { roomId: createGroupChat.id, content, clientId },
      });
      return sendMessage.id;
    };
    // Deep in the history: 45 newer messages put it on the third page.
    const needle = await post('The <b>pelican</b> lands at dawn', 'archive-needle');
    for (let i = 1; i <= 45; i++) await post(`Filler ${i}`, `archive-${i}`);
    await roomButton(alice, 'Archive').waitFor({ timeout: 5000 });

    await alice.getByTestId('search-input').fill('pelican');
    await alice.getByTestId('search-input').press('Enter');
    const hit = alice.locator(`[data-testid="search-hit"][data-message-id="${needle}"]`);
    await hit.waitFor({ timeout: 5000 });
    expect(await alice.getByTestId('search-hit').count()).to.equal(1);
    expect(await hit.getByTestId('search-hit-room').textContent()).to.equal('Archive · Alice');
    // The snippet is rendered as HTML: the match is a <mark>, the message's own markup stays text.
    const snippet = hit.getByTestId('search-hit-snippet');
    expect(await snippet.locator('mark').allTextContents()).to.deep.equal(['pelican']);
    expect(await snippet.textContent()).to.contain('<b>pelican</b>');
    expect(await snippet.locator('b').count()).to.equal(0);

    await hit.click();
    await alice.getByTestId('room-title').getByText('Archive', { exact: true }).waitFor({ timeout: 5000 });
    const found = alice.locator(`[data-testid="message"][data-message-id="${needle}"]`);
    await found.and(alice.locator('[data-found]')).waitFor({ timeout: 10_000 });
    expect(await found.getByTestId('message-content').textContent()).to.equal('The <b>pelican</b> lands at dawn');
    expect(await alice.locator('[data-found]').count()).to.equal(1);
    expect(await alice.getByTestId('message').count()).to.equal(46); // two older pages were loaded to reach it
    await waitInView(alice, needle);
    expect(await alice.getByTestId('jump-missing').count()).to.equal(0);
    await alice.screenshot({ path: join(SCREENSHOTS, 'alice-search.png') });
  });

  it('Alice goes offline, Bob edits one message and deletes another, Alice reconnects and sees both without reloading', async () => {
    await roomButton(alice, 'Launch').click();
    await roomButton(bob, 'Launch').click();
    await send(bob, 'Plan A');
    await send(bob, 'Plan B');
    await waitForCount(alice, 'Plan A', 1, 2000);
    await waitForCount(alice, 'Plan B', 1, 2000);

    await alice.getByTestId('toggle-connection').click();
    await alice.getByTestId('connection-status').getByText('offline', { exact: true }).waitFor({ timeout: 2000 });
    const offlineAt = httpOperations.get(alice)!.length;
    await message(bob, 'Plan A').getByTestId('message-edit').click();
    await bob.getByTestId('edit-input').fill('Plan A, revised');
    await bob.getByTestId('edit-save').click();
    await waitForCount(bob, 'Plan A, revised', 1, 2000);
    await message(bob, 'Plan B').getByTestId('message-delete').click();
    await waitForCount(bob, 'Plan B', 0, 2000);
    await sleep(500);
    expect(await countOf(alice, 'Plan A'), 'offline: the old text').to.equal(1);
    expect(await countOf(alice, 'Plan B'), 'offline: not deleted yet').to.equal(1);

    await alice.getByTestId('toggle-connection').click();
    await waitOnline(alice);
    await waitForCount(alice, 'Plan A, revised', 1, 5000);
    await waitForCount(alice, 'Plan B', 0, 5000);
    expect(await countOf(alice, 'Plan A')).to.equal(0);
    expect(await message(alice, 'Plan A, revised').textContent()).to.contain('(edited)');
    expect(await shownIds(alice)).to.deep.equal(await shownIds(bob));

    // Caught up with `changes` from the newest version Alice had, then messageUpdated resumed from its cursor.
    const catchUps = httpOperations.get(alice)!.slice(offlineAt).filter((op) => op.operationName === 'Changes');
    expect(catchUps.length).to.be.at.least(1);
    expect(catchUps[0].variables?.since).to.be.a('string');
    const resumed = wsFrames.get(alice)!.sent.filter((f) => f.type === 'subscribe' && f.payload.operationName === 'MessageUpdated');
    expect(resumed.at(-1).payload.variables.since).to.be.a('string').and.not.equal(catchUps[0].variables?.since);
    await alice.screenshot({ path: join(SCREENSHOTS, 'alice-catch-up.png') });
  });

  /* ---------------------------------------------- threads, mentions, receipts, pins, edit history */

  /** One GROUP room for the tests below: Alice is its OWNER, Bob a MEMBER. */
  let teamRoomId: string;
  const ROOT = 'Who writes the release notes?';

  it('Bob replies in a thread; Alice sees the reply count live, and the replies in the thread panel', async () => {
    const aliceUser = await devToken(api, 'Alice', ALICE);
    const { createGroupChat } = await graphql(api, aliceUser, 'mutation($i: CreateGroupChatInput!) { createGroupChat(input: $i) { id } }', {
      i: { name: 'Team', memberIds: [BOB] },
    });
    teamRoomId = createGroupChat.id;
    await roomButton(alice, 'Team').click({ timeout: 5000 });
    await roomButton(bob, 'Team').click({ timeout: 5000 });
    await send(alice, ROOT);
    await waitForCount(bob, ROOT, 1, 2000);

    // Bob opens the thread from the message and replies in it.
    await message(bob, ROOT).getByTestId('message-reply').click();
    const bobThread = bob.getByTestId('thread-panel');
    await bobThread.getByTestId('thread-root').getByTestId('message-content').getByText(ROOT, { exact: true }).waitFor({ timeout: 2000 });
    await bobThread.getByText('No replies yet.').waitFor({ timeout: 2000 });
    await bob.getByTestId('thread-composer-input').fill('I will take the changelog');
    await bob.getByTestId('thread-composer-input').press('Enter');
    await threadReply(bob, 'I will take the changelog').waitFor({ timeout: 2000 });

    // Alice: the root's reply count arrives live (messageUpdated of the root); the reply stays out of the room.
    const summary = message(alice, ROOT).locator('[data-testid="thread-summary"][data-count="1"]');
    await summary.waitFor({ timeout: 2000 });
    expect(await summary.textContent()).to.match(/^1 reply · Bob · last /);
    expect(await countOf(alice, 'I will take the changelog')).to.equal(0);
    await summary.click();
    const aliceThread = alice.getByTestId('thread-panel');
    await threadReply(alice, 'I will take the changelog').waitFor({ timeout: 2000 });
    expect(await aliceThread.getByTestId('thread-count').textContent()).to.equal('1 reply');

    // With the panel open, a new reply arrives live (messageAdded with parent); this one also goes to the room.
    await bob.getByTestId('thread-also-in-room').check();
    await bob.getByTestId('thread-composer-input').fill('Draft by Friday');
    await bob.getByTestId('thread-composer-input').press('Enter');
    await threadReply(alice, 'Draft by Friday').waitFor({ timeout: 2000 });
    await message(alice, 'Draft by Friday').getByTestId('message-in-thread').waitFor({ timeout: 2000 });
    await aliceThread.getByTestId('thread-count').getByText('2 replies', { exact: true }).waitFor({ timeout: 2000 });
    await message(alice, ROOT).locator('[data-testid="thread-summary"][data-count="2"]').waitFor({ timeout: 2000 });

    // Alice answers in the thread, picking Bob with the keyboard (Enter picks, the next Enter sends).
    await alice.getByTestId('thread-composer-input').pressSequentially('Thanks @b');
    await aliceThread.getByTestId('mention-option').getByText('@Bob', { exact: true }).waitFor({ timeout: 2000 });
    await alice.getByTestId('thread-composer-input').press('Enter');
    await eventually(async () => expect(await alice.getByTestId('thread-composer-input').inputValue()).to.equal('Thanks @Bob '));
    await alice.getByTestId('thread-composer-input').press('Enter');
    await threadReply(bob, 'Thanks @Bob').waitFor({ timeout: 2000 });
    expect(await threadReply(bob, 'Thanks @Bob').getByTestId('mention').textContent()).to.equal('@Bob');
    expect(await aliceThread.getByTestId('thread-reply').getByTestId('message-content').allTextContents()).to.deep.equal(
      ['I will take the changelog', 'Draft by Friday', 'Thanks @Bob'],
    );
    await message(bob, ROOT).locator('[data-testid="thread-summary"][data-count="3"]').waitFor({ timeout: 2000 });
    await alice.screenshot({ path: join(SCREENSHOTS, 'alice-thread.png') });
    await bob.screenshot({ path: join(SCREENSHOTS, 'bob-thread.png') });
    await alice.getByTestId('thread-close').click();
    await bob.getByTestId('thread-close').click();

    // A search hit that is a reply only in its thread opens the room at its root, with the thread open.
    await alice.getByTestId('search-input').fill('changelog');
    await alice.getByTestId('search-input').press('Enter');
    const hit = alice.getByTestId('search-hit');
    await hit.locator('mark').getByText('changelog', { exact: true }).waitFor({ timeout: 5000 });
    expect(await hit.count()).to.equal(1);
    await hit.click();
    await threadReply(alice, 'I will take the changelog').waitFor({ timeout: 5000 });
    await message(alice, ROOT).and(alice.locator('[data-found]')).waitFor({ timeout: 5000 });
    await alice.getByTestId('search-close').click();
    await alice.getByTestId('thread-close').click();
  });

  it('Alice @-mentions Bob through the picker; Bob\'s room list shows the mention badge until he opens the room', async () => {
    await roomButton(bob, 'Launch').click();
    await bob.getByTestId('room-title').getByText('Launch', { exact: true }).waitFor({ timeout: 2000 });

    const input = alice.getByTestId('composer-input');
    await input.fill('Ping ');
    await input.pressSequentially('@');
    const options = alice.getByTestId('mention-picker').getByTestId('mention-option');
    await options.first().waitFor({ timeout: 2000 });
    expect(await options.allTextContents(), 'the room\'s members but me').to.deep.equal(['@Bob']);
    await input.pressSequentially('Bo');
    await alice.screenshot({ path: join(SCREENSHOTS, 'alice-mention-picker.png') });
    await options.getByText('@Bob', { exact: true }).click();
    await eventually(async () => expect(await input.inputValue()).to.equal('Ping @Bob '));
    await alice.getByTestId('mention-picker').waitFor({ state: 'detached', timeout: 2000 });
    await input.pressSequentially('please review');
    await input.press('Enter');
    const text = 'Ping @Bob please review';
    await waitForCount(alice, text, 1);
    const sent = httpOperations.get(alice)!.filter((op) => op.operationName === 'Send').at(-1);
    expect(sent?.variables?.input.mentionIds).to.deep.equal([BOB]);
    expect(await message(alice, text).getByTestId('mention').textContent()).to.equal('@Bob');

    const team = roomButton(bob, 'Team');
    await team.getByTestId('room-mentions').getByText('@1', { exact: true }).waitFor({ timeout: 2000 });
    await team.getByTestId('room-unread').getByText('1', { exact: true }).waitFor({ timeout: 2000 });
    await bob.screenshot({ path: join(SCREENSHOTS, 'bob-mention-badge.png') });

    await team.click();
    await waitForCount(bob, text, 1);
    expect(await message(bob, text).locator('[data-testid="mention"].me').textContent()).to.equal('@Bob');
    await team.getByTestId('room-mentions').waitFor({ state: 'detached', timeout: 2000 });
    // And the server agrees: reading the room cleared it.
    const bobUser = await devToken(api, 'Bob', BOB);
    await eventually(async () => {
      const { room } = await graphql(api, bobUser, 'query($id: ID!) { room(id: $id) { unreadMentionCount } }', { id: teamRoomId });
      expect(room.unreadMentionCount).to.equal(0);
    });
  });

  it('Bob reads the room and Alice sees "Seen by Bob" under the newest message, live', async () => {
    await roomButton(bob, 'Launch').click();
    await bob.getByTestId('room-title').getByText('Launch', { exact: true }).waitFor({ timeout: 2000 });
    await send(alice, 'Seen this?');
    await alice.getByTestId('seen-by').waitFor({ timeout: 2000 });
    expect(await alice.getByTestId('seen-by').textContent()).to.not.contain('Bob');

    await roomButton(bob, 'Team').click();
    await waitForCount(bob, 'Seen this?', 1);
    // Bob's markRoomRead → readReceipt on Alice's socket → readBy of the newest message.
    await alice.locator('[data-testid="seen-by"][data-count="1"]').getByText('Seen by Bob').waitFor({ timeout: 3000 });
    expect(await alice.getByTestId('seen-by').textContent()).to.equal('✓ Seen by Bob');
    await alice.screenshot({ path: join(SCREENSHOTS, 'alice-seen-by.png') });
    const subscribed = wsFrames.get(alice)!.sent.filter((f) => f.type === 'subscribe' && f.payload.operationName === 'ReadReceipt');
    expect(subscribed.at(-1).payload.variables).to.deep.equal({ roomId: teamRoomId });

    // The other way round: Alice has the room open, so her client reads Bob's message as it arrives.
    await send(bob, 'Yes, seen');
    await bob.locator('[data-testid="seen-by"][data-count="1"]').getByText('Seen by Alice').waitFor({ timeout: 3000 });
    await bob.screenshot({ path: join(SCREENSHOTS, 'bob-seen-by.png') });
  });

  it('the room\'s OWNER pins a message and both see it in the pins list; unpinning takes it out for both', async () => {
    // Bob is a MEMBER of this GROUP room: he may not pin. Alice, its OWNER, may.
    expect(await message(bob, ROOT).getByTestId('message-pin').count()).to.equal(0);
    expect(await message(alice, ROOT).getByTestId('message-pin').count()).to.equal(1);
    // Bob's list is open (and empty) before the pin: it fills live.
    await bob.getByTestId('pins-toggle').click();
    await bob.getByTestId('pins-list').getByText('Nothing pinned yet.').waitFor({ timeout: 2000 });

    await message(alice, ROOT).getByTestId('message-pin').click();
    await message(alice, ROOT).getByTestId('message-pinned').waitFor({ timeout: 2000 });
    await alice.getByTestId('pins-toggle').click();
    for (const page of [alice, bob]) {
      const pinned = page.getByTestId('pins-list').getByTestId('pinned-message');
      await pinned.getByTestId('pinned-content').getByText(ROOT, { exact: true }).waitFor({ timeout: 2000 });
      expect(await pinned.count()).to.equal(1);
      expect(await pinned.textContent()).to.contain('pinned by Alice');
      expect(await page.getByTestId('pins-toggle').getAttribute('data-count')).to.equal('1');
      await message(page, ROOT).getByTestId('message-pinned').waitFor({ timeout: 2000 });
    }
    expect(await bob.getByTestId('pinned-unpin').count(), 'Bob may not unpin').to.equal(0);
    await alice.screenshot({ path: join(SCREENSHOTS, 'alice-pins.png') });
    await bob.screenshot({ path: join(SCREENSHOTS, 'bob-pins.png') });

    await alice.getByTestId('pinned-unpin').click();
    for (const page of [alice, bob]) {
      await page.getByTestId('pins-list').getByText('Nothing pinned yet.').waitFor({ timeout: 2000 });
      await message(page, ROOT).getByTestId('message-pinned').waitFor({ state: 'detached', timeout: 2000 });
      await page.getByTestId('pins-toggle').click(); // closed again
    }
  });

  it('an edited message shows its earlier versions, oldest first, and the list follows later edits', async () => {
    const edit = async (from: string, to: string) => {
      await message(alice, from).getByTestId('message-edit').click();
      await alice.getByTestId('edit-input').fill(to);
      await alice.getByTestId('edit-save').click();
      await waitForCount(bob, to, 1, 2000);
    };
    await send(alice, 'Meet at 10');
    await waitForCount(bob, 'Meet at 10', 1, 2000);
    await edit('Meet at 10', 'Meet at 11');
    await message(bob, 'Meet at 11').getByTestId('message-edited').click();
    const versions = message(bob, 'Meet at 11').getByTestId('edit-version-content');
    await versions.first().waitFor({ timeout: 2000 });
    expect(await versions.allTextContents()).to.deep.equal(['Meet at 10']);

    await edit('Meet at 11', 'Meet at noon');
    const history = message(bob, 'Meet at noon').getByTestId('edit-version-content');
    await history.nth(1).waitFor({ timeout: 2000 });
    expect(await history.allTextContents()).to.deep.equal(['Meet at 10', 'Meet at 11']);
    await bob.screenshot({ path: join(SCREENSHOTS, 'bob-edit-history.png') });
  });

  it('Alice attaches an image and a file (previews, progress); Bob sees the image and downloads the file in his browser', async () => {
    const chart = png(40, 30);
    const report = Buffer.from('Q3 revenue by region\n'.repeat(20_000)); // ~420 KB
    // Every state the upload rows go through, as the page shows them.
    await alice.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { uploadStates: string[] }).uploadStates = seen;
      new MutationObserver(() => {
        for (const row of document.querySelectorAll('[data-testid="pending-upload"]')) {
          const state = `${row.getAttribute('data-filename')}:${row.getAttribute('data-status')}:${row.querySelector('progress') ? 'progress' : ''}`;
          if (!seen.includes(state)) seen.push(state);
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await alice.getByTestId('composer-attach-input').setInputFiles([
      { name: 'chart.png', mimeType: 'image/png', buffer: chart },
      { name: 'report.txt', mimeType: 'text/plain', buffer: report },
    ]);
    const pending = alice.getByTestId('pending-upload');
    await eventually(async () => expect(await pending.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')))).to.deep.equal(['ready', 'ready']), 10_000);
    // The image is previewed before it is sent; each file showed a progress bar while it uploaded.
    expect(await pending.first().locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).to.equal(40);
    const states = await alice.evaluate(() => (window as unknown as { uploadStates: string[] }).uploadStates);
    expect(states).to.include.members(['chart.png:uploading:progress', 'report.txt:uploading:progress', 'chart.png:ready:', 'report.txt:ready:']);
    await alice.screenshot({ path: join(SCREENSHOTS, 'alice-attachments-ready.png') });

    await alice.getByTestId('composer-input').fill('Q3 numbers attached');
    await alice.getByTestId('composer-send').click();
    await waitForCount(bob, 'Q3 numbers attached', 1, 5000);
    await pending.first().waitFor({ state: 'detached', timeout: 2000 });

    const sent = message(bob, 'Q3 numbers attached');
    expect(await sent.getByTestId('attachment').evaluateAll((items) => items.map((i) => i.getAttribute('data-filename')))).to.deep.equal(['chart.png', 'report.txt']);
    // The image loads from its short-lived URL, at its size.
    await eventually(async () =>
      expect(await sent.getByTestId('attachment-image').evaluate((img: HTMLImageElement) => [img.complete, img.naturalWidth, img.naturalHeight])).to.deep.equal([true, 40, 30]),
    5000);
    // The file downloads in Bob's browser, byte for byte.
    const [download] = await Promise.all([
      bob.waitForEvent('download', { timeout: 5000 }),
      sent.getByTestId('attachment').filter({ hasText: 'report.txt' }).getByTestId('attachment-download').click(),
    ]);
    expect(download.suggestedFilename()).to.equal('report.txt');
    expect(readFileSync(await download.path()).equals(report)).to.equal(true);
    await bob.screenshot({ path: join(SCREENSHOTS, 'bob-attachments.png') });
  });

  it("the room's OWNER mutes Bob from the room menu: Bob's composer is disabled with the reason, live, and comes back on unmute", async () => {
    // Bob is a MEMBER: no menu for him. Alice, the OWNER, has it.
    expect(await bob.getByTestId('moderation-toggle').count()).to.equal(0);
    await alice.getByTestId('moderation-toggle').click();
    const bobRow = alice.locator('[data-testid="moderation-member"][data-name="Bob"]');
    await bobRow.getByTestId('mute').click();

    await bob.getByTestId('composer-muted').waitFor({ timeout: 3000 });
    expect(await bob.getByTestId('composer-input').isDisabled()).to.equal(true);
    expect(await bob.getByTestId('composer-send').isDisabled()).to.equal(true);
    expect(await bob.getByTestId('composer-muted').textContent()).to.contain('muted you in this room until a moderator unmutes you');
    await bobRow.getByTestId('moderation-muted').waitFor({ timeout: 2000 });
    await bob.screenshot({ path: join(SCREENSHOTS, 'bob-muted.png') });
    await alice.screenshot({ path: join(SCREENSHOTS, 'alice-moderation-menu.png') });
    // The API says the same to a muted Bob who tries anyway.
    const bobToken = await devToken(api, 'Bob', BOB);
    const roomId = await bob.getByTestId('room-view').getAttribute('data-room-id');
    const refused = await fetch(`${api}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bobToken.token}` },
      body: JSON.stringify({ query: 'mutation($r: ID!) { sendMessage(input: { roomId: $r, content: "sneaky" }) { id } }', variables: { r: roomId } }),
    }).then((res) => res.json() as Promise<{ errors?: { extensions: { code: string; mutedUntil?: string } }[] }>);
    expect(refused.errors?.[0].extensions).to.deep.include({ code: 'FORBIDDEN', mutedUntil: '9999-12-31T23:59:59.999Z' });

    await bobRow.getByTestId('unmute').click();
    await bob.getByTestId('composer-muted').waitFor({ state: 'detached', timeout: 3000 });
    expect(await bob.getByTestId('composer-input').isDisabled()).to.equal(false);
    await send(bob, 'Thanks for unmuting me');
    await waitForCount(alice, 'Thanks for unmuting me', 1, 2000);

    // Slow mode from the same menu: the room reads it back.
    await alice.getByTestId('slow-mode-select').selectOption('30');
    await eventually(async () => expect(await alice.getByTestId('slow-mode-select').inputValue()).to.equal('30'));
    expect((await graphql(api, bobToken, 'query($id: ID!) { room(id: $id) { slowModeSeconds } }', { id: roomId })).room.slowModeSeconds).to.equal(30);
    await alice.getByTestId('slow-mode-select').selectOption('0');
    await eventually(async () => expect(await alice.getByTestId('slow-mode-select').inputValue()).to.equal('0'));
    await alice.getByTestId('moderation-toggle').click();
  });

  it('raised no uncaught errors in the pages', () => {
    expect(pageErrors).to.deep.equal([]);
  });
});
