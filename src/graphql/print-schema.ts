/** Writes schema.graphql from the code: npm run schema */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { printChatSchema } from './schema';

const target = resolve(__dirname, '../../schema.graphql');
writeFileSync(target, printChatSchema());
process.stdout.write(`wrote ${target}\n`);
