import { randomUUID } from 'node:crypto';
import { isUUID } from 'class-validator';
import { signToken, type SigningSettings } from './token';

/**
 * A token for a development user, as `npm run token` prints one, for browser
 * clients (the React example) that cannot run npm. Served only outside
 * production (see Config.devTokens).
 */
export async function mintDevelopmentToken(
  secret: string,
  claims: { userId?: unknown; name?: unknown; companyId?: unknown },
  settings: SigningSettings = {},
): Promise<{ token: string; userId: string }> {
  const userId = claims.userId === undefined ? randomUUID() : claims.userId;
  if (typeof userId !== 'string' || !isUUID(userId)) throw new Error(`userId must be a UUID, got ${JSON.stringify(userId)}`);
  if (claims.companyId !== undefined && (typeof claims.companyId !== 'string' || !isUUID(claims.companyId))) {
    throw new Error(`companyId must be a UUID, got ${JSON.stringify(claims.companyId)}`);
  }
  if (claims.name !== undefined && (typeof claims.name !== 'string' || claims.name.length > 200)) {
    throw new Error('name must be a string of at most 200 characters');
  }
  const token = await signToken(secret, {
    userId,
    name: claims.name as string | undefined,
    companyId: claims.companyId as string | undefined,
  }, settings);
  return { token, userId };
}
