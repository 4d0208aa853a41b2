import { GraphQLDateTime, GraphQLJSON } from 'graphql-scalars';

/**
 * The contract's scalars. DateTime serialises the ISO strings the database gives
 * (src/db/timestamps.ts) and refuses anything that is not a date-time (such an
 * error is ours, and masked); as input it gives a Date.
 */
export const DateTime = GraphQLDateTime;
export const JSONScalar = GraphQLJSON;
