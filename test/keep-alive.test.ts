import { expect } from 'chai';
import { WebSocket } from 'ws';
import { makeUser } from './support/client';
import { onCleanup, startServer } from './support/server';

/** A raw graphql-ws peer, acknowledged, that answers the server's pings or stays silent. */
async function peer(wsUrl: string, token: string, answersPings: boolean): Promise<{ closed: Promise<number> }> {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { autoPong: answersPings });
  onCleanup(() => socket.terminate());
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') resolve();
    });
    socket.once('error', reject);
  });
  return { closed };
}

describe('WebSocket keep-alive', () => {
  it('drops a peer that stops answering pings, and keeps one that answers', async () => {
    const server = await startServer({ keepAliveMs: 200 });
    const user = await makeUser();
    const silent = await peer(server.wsUrl, user.token, false);
    const alive = await peer(server.wsUrl, user.token, true);
    const outcome = await Promise.race([silent.closed.then((code) => `closed ${code}`), new Promise((r) => setTimeout(() => r('still open'), 3000))]);
    // ws terminates the socket without a close frame: the peer sees 1006.
    expect(outcome).to.equal('closed 1006');
    const other = await Promise.race([alive.closed.then((code) => `closed ${code}`), new Promise((r) => setTimeout(() => r('still open'), 500))]);
    expect(other).to.equal('still open');
  });
});
