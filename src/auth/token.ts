import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isUUID } from 'class-validator';
import { ServiceUnavailableError, UnauthenticatedError } from '../chat/errors';
import { IdentityProviderKeys, type JwksOptions } from './jwks';

/** The claims a token carries, checked. */
export interface VerifiedToken {
  userId: string;
  displayName: string | null;
  companyId: string | null;
  /** When the token stops being valid (from `exp`), if it says. */
  expiresAt: Date | null;
}

const encoder = new TextEncoder();

/** Which claims carry the user id, the display name and the company (JWT_CLAIM_*). */
export interface ClaimNames {
  /** @default 'sub' */
  userId: string;
  /** @default 'name' */
  name: string;
  /** @default 'company_id' */
  company: string;
}

export const DEFAULT_CLAIM_NAMES: ClaimNames = { userId: 'sub', name: 'name', company: 'company_id' };

/** What a token must be to be trusted: config.ts reads it from the environment. */
export interface TokenSettings {
  /** HS256 key (JWT_SECRET, or the development secret); unset: HS256 tokens are refused. */
  secret: string | undefined;
  /** JWT_JWKS_URL: an identity provider's keys (RS256, ES256, ...); unset: only HS256 tokens. */
  jwksUrl: string | undefined;
  /** JWT_ISSUER: every token's `iss` must equal it. */
  issuer: string | undefined;
  /** JWT_AUDIENCE: every token's `aud` must hold one of these. */
  audience: string[] | undefined;
  claims: ClaimNames;
  /** Refuse tokens without `exp` (production: a token must not live for ever). */
  requireExpiry: boolean;
}

/**
 * Asymmetric algorithms accepted with the identity provider's keys. Never
 * HS256 there (a public key used as an HMAC secret would let anyone sign), never `none`.
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Accepts `Bearer <jwt>` or a bare JWT. */
export function extractBearer(authorization: unknown): string | null {
  if (typeof authorization !== 'string' || authorization.trim() === '') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
  return match ? match[1] : authorization.trim();
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
 * Checks tokens as TokenSettings say: the header's `alg` picks the key (HS256:
 * the shared secret; an asymmetric one: the identity provider's keys), and each
 * path accepts only its own algorithms, so `alg: none` and key-confusion tokens
 * are refused. `nbf`, `exp`, `iss` and `aud` are honoured, then the claims named
 * in the settings are read and checked.
 */
export class TokenVerifier {
  private readonly secret: Uint8Array | null;
  private readonly keys: IdentityProviderKeys | null;

  constructor(
    private readonly settings: TokenSettings,
    jwks: JwksOptions = {},
  ) {
    this.secret = settings.secret === undefined ? null : encoder.encode(settings.secret);
    this.keys = settings.jwksUrl === undefined ? null : new IdentityProviderKeys(new URL(settings.jwksUrl), jwks);
  }

  async verify(token: string): Promise<VerifiedToken> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new UnauthenticatedError('The token is not valid');
    }
    let key: Uint8Array | JWTVerifyGetKey;
    let algorithms: string[];
    if (alg === 'HS256' && this.secret) {
      key = this.secret;
      algorithms = ['HS256'];
    } else if (alg !== undefined && ASYMMETRIC_ALGORITHMS.includes(alg) && this.keys) {
      key = this.keys.key;
      algorithms = ASYMMETRIC_ALGORITHMS;
    } else {
      throw new UnauthenticatedError(this.secret || alg !== 'HS256' ? 'The token is not valid' : 'HS256 tokens are not accepted here: sign in with the identity provider');
    }
    const { issuer, audience, requireExpiry } = this.settings;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        algorithms,
        ...(issuer !== undefined && { issuer }),
        ...(audience !== undefined && { audience }),
        ...(requireExpiry && { requiredClaims: ['exp'] }),
      }));
    } catch (error) {
      throw refusal(error);
    }
    return this.claimsOf(payload);
  }

  private claimsOf(payload: JWTPayload): VerifiedToken {
    const names = this.settings.claims;
    const userId = payload[names.userId];
    if (typeof userId !== 'string' || !isUUID(userId)) {
      throw new UnauthenticatedError(
        names.userId === 'sub' ? 'The token subject (sub) must be a UUID' : `The token's user id claim (${names.userId}) must be a UUID`,
      );
    }
    const company = payload[names.company];
    if (company !== undefined && company !== null && (typeof company !== 'string' || !isUUID(company))) {
      throw new UnauthenticatedError(`The token ${names.company} must be a UUID`);
    }
    return {
      userId: userId.toLowerCase(),
      displayName: cleanDisplayName(payload[names.name]),
      companyId: typeof company === 'string' ? company.toLowerCase() : null,
      expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : null,
    };
  }
}

/** An HS256 token checked with `secret` and the default claims (the benchmark's baseline server uses it). */
export function verifyToken(secret: string, token: string, options: { requireExpiry?: boolean } = {}): Promise<VerifiedToken> {
  const settings: TokenSettings = {
    secret,
    jwksUrl: undefined,
    issuer: undefined,
    audience: undefined,
    claims: DEFAULT_CLAIM_NAMES,
    requireExpiry: options.requireExpiry ?? false,
  };
  return new TokenVerifier(settings).verify(token);
}

/** Why jose refused a token, as the client is told (an unreachable provider is not a refusal: it passes through). */
function refusal(error: unknown): Error {
  if (error instanceof ServiceUnavailableError) return error;
  if (error instanceof joseErrors.JWTExpired) return new UnauthenticatedError('The token has expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'exp') return new UnauthenticatedError('The token must carry an expiry (exp)');
    if (error.claim === 'iss') return new UnauthenticatedError('The token was not issued by the issuer this service trusts (iss)');
    if (error.claim === 'aud') return new UnauthenticatedError('The token is not meant for this service (aud)');
  }
  return new UnauthenticatedError('The token is not valid');
}

export interface TokenClaims {
  userId: string;
  name?: string;
  companyId?: string;
  /** Lifetime, e.g. '1h' or seconds. @default '12h' */
  expiresIn?: string | number;
}

/** Where a signed token's claims go, so the server that has these settings accepts it. */
export type SigningSettings = Partial<Pick<TokenSettings, 'issuer' | 'audience' | 'claims'>>;

/**
 * Signs an HS256 token: the dev helper (`npm run token`) and the tests use it.
 * With `settings`, its claims carry the configured names, issuer and audience.
 */
export async function signToken(secret: string, claims: TokenClaims, settings: SigningSettings = {}): Promise<string> {
  const names = settings.claims ?? DEFAULT_CLAIM_NAMES;
  const jwt = new SignJWT({
    ...(names.userId !== 'sub' && { [names.userId]: claims.userId }),
    ...(claims.name !== undefined && { [names.name]: claims.name }),
    ...(claims.companyId !== undefined && { [names.company]: claims.companyId }),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuedAt();
  if (settings.issuer !== undefined) jwt.setIssuer(settings.issuer);
  if (settings.audience !== undefined) jwt.setAudience(settings.audience.length === 1 ? settings.audience[0] : settings.audience);
  const expiresIn = claims.expiresIn ?? '12h';
  jwt.setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn);
  return jwt.sign(encoder.encode(secret));
}
