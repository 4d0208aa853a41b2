/**
 * Typed domain errors. Services throw these; the GraphQL edge maps each code
 * once to `extensions.code` (src/graphql/format-error.ts).
 */
export enum ChatErrorCode {
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  BadInput = 'BAD_USER_INPUT',
  RateLimited = 'RATE_LIMITED',
}

export abstract class ChatError extends Error {
  abstract readonly code: ChatErrorCode;
}

export class UnauthenticatedError extends ChatError {
  readonly code = ChatErrorCode.Unauthenticated;
  override name = 'UnauthenticatedError';
}

export class ForbiddenError extends ChatError {
  readonly code = ChatErrorCode.Forbidden;
  override name = 'ForbiddenError';
}

/** A muted member's send, reaction, edit, pin or typing: FORBIDDEN, saying until when (`extensions.mutedUntil`). */
export class MutedError extends ForbiddenError {
  override name = 'MutedError';
  constructor(readonly mutedUntil: string) {
    super(`You are muted in this room until ${mutedUntil}`);
  }
}

export class NotFoundError extends ChatError {
  readonly code = ChatErrorCode.NotFound;
  override name = 'NotFoundError';
}

export class BadInputError extends ChatError {
  readonly code = ChatErrorCode.BadInput;
  override name = 'BadInputError';
}

export class RateLimitedError extends ChatError {
  readonly code = ChatErrorCode.RateLimited;
  override name = 'RateLimitedError';
  /** Whole seconds until the next event would be admitted. */
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super(message);
  }
}

/**
 * Something the service depends on cannot be reached right now (the identity
 * provider's keys, say). Not a ChatError: the client did nothing wrong, so it
 * has no code of its own; the one formatter masks it as the server's failure
 * ("Service temporarily unavailable"), HTTP answers 503 and a WebSocket closes
 * with 1013 Try Again Later, never as UNAUTHENTICATED (clients sign out on that).
 */
export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError';
  /** What cannot be reached, as the client's message names it: "the identity provider". */
  constructor(
    readonly dependency: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown where a switch must be exhaustive: the compiler proves `value` is never reached. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
  }
}

/** The same answer for a room that does not exist and one the caller may not see: ids are no oracle. */
export const roomNotFound = (): NotFoundError => new NotFoundError('Room not found');
export const messageNotFound = (): NotFoundError => new NotFoundError('Message not found');
