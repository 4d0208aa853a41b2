import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { isUUID } from 'class-validator';
import { UnauthenticatedError } from '../chat/errors';

/** The claims a token carries, checked. */
export interface VerifiedToken {
  userId: string;
  displayName: string | null;
  companyId: string | null;
  /** When the token stops being valid (from `exp`), if it says. */
  expiresAt: Date | null;
}

const encoder = new TextEncoder();

/** Accepts `Bearer <jwt>` or a bare JWT. */
export function extractBearer(authorization: unknown): string | null {
  if (typeof authorization !== 'string' || authorization.trim() === '') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
  return match ? match[1] : authorization.trim();
}

export interface VerifyOptions {
  /** Refuse tokens without `exp` (production: a token must not live for ever). @default false */
  requireExpiry?: boolean;
}

/** Longest display name kept, in characters. */
const NAME_MAX = 200;

/**
 * A display name as the service stores it: claims are input like any other.
 * Control characters (NUL breaks PostgreSQL text) are dropped, lone UTF-16
 * surrogates become U+FFFD, and the result is trimmed to 200 characters.
 */
export function cleanDisplayName(name: unknown): string | null {
  if (typeof name !== 'string') return null;
  const cleaned = name
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .trim();
  if (cleaned === '') return null;
  const chars = [...cleaned];
  return chars.length > NAME_MAX ? chars.slice(0, NAME_MAX).join('').trim() : cleaned;
}

/**
 * Verifies an HS256 token with `secret` (no other algorithm, so `alg: none` and
 * key-confusion tokens are refused; `nbf` and `exp` are honoured) and reads its claims.
 */
export async function verifyToken(secret: string, token: string, options: VerifyOptions = {}): Promise<VerifiedToken> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, encoder.encode(secret), {
      algorithms: ['HS256'],
      ...(options.requireExpiry && { requiredClaims: ['exp'] }),
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('The token has expired');
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'exp') {
      throw new UnauthenticatedError('The token must carry an expiry (exp)');
    }
    throw new UnauthenticatedError('The token is not valid');
  }
  if (typeof payload.sub !== 'string' || !isUUID(payload.sub)) {
    throw new UnauthenticatedError('The token subject (sub) must be a UUID');
  }
  const company = payload.company_id;
  if (company !== undefined && company !== null && (typeof company !== 'string' || !isUUID(company))) {
    throw new UnauthenticatedError('The token company_id must be a UUID');
  }
  return {
    userId: payload.sub.toLowerCase(),
    displayName: cleanDisplayName(payload.name),
    companyId: typeof company === 'string' ? company.toLowerCase() : null,
    expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : null,
  };
}

export interface TokenClaims {
  userId: string;
  name?: string;
  companyId?: string;
  /** Lifetime, e.g. '1h' or seconds. @default '12h' */
  expiresIn?: string | number;
}

/** Signs an HS256 token: the dev helper (`npm run token`) and the tests use it. */
export async function signToken(secret: string, claims: TokenClaims): Promise<string> {
  const jwt = new SignJWT({
    ...(claims.name !== undefined && { name: claims.name }),
    ...(claims.companyId !== undefined && { company_id: claims.companyId }),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuedAt();
  const expiresIn = claims.expiresIn ?? '12h';
  jwt.setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn);
  return jwt.sign(encoder.encode(secret));
}
