import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { buildSchema, findBreakingChanges } from 'graphql';
import { printChatSchema } from '../src/graphql/schema';

const root = resolve(__dirname, '..');

describe('schema.graphql', () => {
  it('matches the schema the code builds (run `npm run schema` after changing the API)', () => {
    expect(readFileSync(resolve(root, 'schema.graphql'), 'utf8')).to.equal(printChatSchema());
  });

  it('does not break the public contract', () => {
    const contract = buildSchema(readFileSync(resolve(root, 'test/contract.graphql'), 'utf8'));
    const generated = buildSchema(printChatSchema());
    expect(findBreakingChanges(contract, generated)).to.deep.equal([]);
  });
});
