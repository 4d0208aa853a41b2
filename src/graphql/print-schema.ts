/** Writes schema.graphql and the Federation subgraph's SDL, subgraph.graphql, from the code: npm run schema */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { printChatSchema } from './schema';
import { printChatSubgraphSchema } from './subgraph';

for (const [file, sdl] of [
  ['schema.graphql', printChatSchema()],
  ['subgraph.graphql', printChatSubgraphSchema()],
]) {
  const target = resolve(__dirname, '../..', file);
  writeFileSync(target, sdl);
  process.stdout.write(`wrote ${target}\n`);
}
