import { expect } from 'chai';
import { makeUser } from './support/client';
import { startServer, wsClient } from './support/server';

type Outcome = { errors?: { message: string; extensions?: { code?: string } }[]; data?: unknown };

/** One operation over graphql-ws; resolves with the first result or the error list. */
function over(client: ReturnType<typeof wsClient>, query: string): Promise<Outcome> {
  return new Promise((resolve) => {
    client.subscribe(
      { query },
      {
        next: (value) => resolve(value as Outcome),
        error: (errors) => resolve({ errors: errors as Outcome['errors'] }),
        complete: () => {},
      },
    );
  });
}

describe('production mode over WebSocket', () => {
  it('refuses introspection and gives no "did you mean" suggestion, like HTTP', async () => {
    const server = await startServer({ env: { NODE_ENV: 'production' } });
    const user = await makeUser();
    const client = wsClient(server, user.token);
    const introspection = await over(client, '{ __schema { types { name } } }');
    expect(introspection.errors?.[0].extensions?.code).to.equal('GRAPHQL_VALIDATION_FAILED');
    const misspelled = await over(client, '{ me { displayNam } }');
    expect(misspelled.errors?.[0].extensions?.code).to.equal('GRAPHQL_VALIDATION_FAILED');
    expect(misspelled.errors?.[0].message).not.to.match(/Did you mean/);
  });

  it('answers introspection over WebSocket outside production', async () => {
    const server = await startServer();
    const user = await makeUser();
    const result = await over(wsClient(server, user.token), '{ __schema { queryType { name } } }');
    expect(result.data).to.deep.equal({ __schema: { queryType: { name: 'Query' } } });
  });
});
