/**
 * Prints a development token: npm run token -- <userId> [--name N] [--company C] [--expires 12h]
 * Signs with JWT_SECRET, or the development secret the server also falls back to.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { signToken } from './token';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      company: { type: 'string' },
      expires: { type: 'string', default: '12h' },
    },
  });
  const userId = positionals[0] ?? randomUUID();
  const config = loadConfig();
  const token = await signToken(config.jwtSecret, {
    userId,
    name: values.name,
    companyId: values.company,
    expiresIn: values.expires,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
