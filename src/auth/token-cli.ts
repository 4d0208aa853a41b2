/**
 * Prints a development token: npm run token -- <userId> [--name N] [--company C] [--expires 12h]
 * Signs with JWT_SECRET, or the development secret the server also falls back to, with the
 * claim names, issuer and audience the server is configured with (JWT_CLAIM_*, JWT_ISSUER, JWT_AUDIENCE),
 * so the server that shares this environment accepts it.
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
  const { secret } = config.tokens;
  if (secret === undefined) {
    throw new Error('This server trusts only its identity provider (JWT_JWKS_URL, no JWT_SECRET): get a token from the provider, or set JWT_SECRET too');
  }
  const token = await signToken(
    secret,
    { userId, name: values.name, companyId: values.company, expiresIn: values.expires },
    config.tokens,
  );
  process.stdout.write(`${token}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
