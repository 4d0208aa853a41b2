import { randomUUID } from 'node:crypto';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ChatError, ChatErrorCode, MutedError, RateLimitedError, ServiceUnavailableError, UnreachableCaseError } from '../chat/errors';
import type { Logger } from '../logger';

/** Codes a client may see with the server's own message. */
const PUBLIC_CODES = new Set<string>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'RATE_LIMITED',
  'GRAPHQL_VALIDATION_FAILED',
]);

/** Apollo's own request-level codes, folded into the contract's list. */
const FOLDED_CODES: Record<string, string> = {
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  BAD_REQUEST: 'BAD_USER_INPUT',
  OPERATION_RESOLUTION_FAILURE: 'BAD_USER_INPUT',
  PERSISTED_QUERY_NOT_FOUND: 'BAD_USER_INPUT',
  PERSISTED_QUERY_NOT_SUPPORTED: 'BAD_USER_INPUT',
};

function codeOf(error: ChatError): string {
  switch (error.code) {
    case ChatErrorCode.Unauthenticated:
    case ChatErrorCode.Forbidden:
    case ChatErrorCode.NotFound:
    case ChatErrorCode.BadInput:
    case ChatErrorCode.RateLimited:
      return error.code;
    default:
      throw new UnreachableCaseError(error.code);
  }
}

/**
 * Errors that mean the database cannot be reached right now (connection refused,
 * terminated, shutting down): masked as "temporarily unavailable" here, HTTP 503
 * and a retryable WebSocket close in the transports.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string; driverError?: { code?: string; message?: string } };
  const code = e?.driverError?.code ?? e?.code;
  const message = `${e?.message ?? ''} ${e?.driverError?.message ?? ''}`;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08003', '08006'].includes(String(code)) ||
    /Connection terminated|timeout exceeded when trying to connect|connection is closed|Client has encountered a connection error/i.test(message)
  );
}

/**
 * What the service cannot reach, when that is why `error` happened: a
 * ServiceUnavailableError names its dependency, a driver error the database.
 * Null for every other failure. The transports answer these with HTTP 503 and
 * WebSocket close 1013 (retry later), never as the client's fault.
 */
export function unavailableDependency(error: unknown): string | null {
  if (error instanceof ServiceUnavailableError) return error.dependency;
  return isDatabaseUnavailable(error) ? 'the database' : null;
}

/** "Did you mean ...?" names schema members; production hides them. */
const withoutSuggestions = (message: string) => message.replace(/\s*Did you mean .*\?$/s, '');

export interface ErrorFormatterOptions {
  logger: Logger;
  production: boolean;
}

/**
 * The one place errors are shaped for clients, on HTTP and WebSocket alike:
 * domain errors keep their message and get their code; GraphQL's request errors
 * keep theirs; everything else is masked to a reference id that the log also has,
 * with the whole error.
 */
export function createErrorFormatter({ logger, production }: ErrorFormatterOptions) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };

    if (original instanceof ChatError) {
      return {
        ...base,
        message: original.message,
        extensions: {
          code: codeOf(original),
          ...(original instanceof RateLimitedError && { retryAfter: original.retryAfter }),
          ...(original instanceof MutedError && { mutedUntil: original.mutedUntil }),
        },
      };
    }
    if (original instanceof GraphQLError) {
      // Apollo stamps INTERNAL_SERVER_ERROR on request errors that carry no code of their own
      // (a persisted-query hash that does not match, say): those are the client's, not ours.
      // An uncoded GraphQLError on a field path, though, came from our resolvers: masked below.
      const own = original.extensions?.code ?? (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR' ? undefined : formatted.extensions?.code);
      const raw = String(own ?? (formatted.path ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT'));
      const code = FOLDED_CODES[raw] ?? raw;
      if (PUBLIC_CODES.has(code)) {
        const message = production ? withoutSuggestions(formatted.message) : formatted.message;
        return { ...base, message, extensions: { code } };
      }
    }
    const errorId = randomUUID();
    const unavailable = unavailableDependency(original);
    logger.error(
      { errorId, err: original, path: formatted.path },
      unavailable ? `${unavailable.replace(/^the /, '')} unavailable` : 'unexpected error while serving a request',
    );
    return {
      ...base,
      message: unavailable
        ? `Service temporarily unavailable: ${unavailable} cannot be reached; retry shortly (ref ${errorId})`
        : `Internal server error (ref ${errorId})`,
      extensions: { code: 'INTERNAL_SERVER_ERROR', errorId },
    };
  };
}

export type ErrorFormatter = ReturnType<typeof createErrorFormatter>;
