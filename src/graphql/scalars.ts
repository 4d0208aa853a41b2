import { GraphQLScalarType } from 'graphql';
import { GraphQLDateTime, GraphQLJSON } from 'graphql-scalars';

/** `2026-11-24T12:00:00.123Z`: how src/db/timestamps.ts prints every timestamp the database gives. */
const OUR_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * The contract's DateTime: graphql-scalars' scalar, except that the ISO strings
 * the database layer prints are passed through as they are (a history page
 * serialises hundreds; its general validator is the slow path). Anything else,
 * `infinity` say, goes through graphql-scalars and is refused there (masked:
 * the error is ours). As input it gives a Date.
 */
export const DateTime = new GraphQLScalarType({
  ...GraphQLDateTime.toConfig(),
  serialize: (value: unknown) => (typeof value === 'string' && OUR_ISO.test(value) ? value : GraphQLDateTime.serialize(value)),
});

export const JSONScalar = GraphQLJSON;
