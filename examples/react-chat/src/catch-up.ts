import type { ApolloClient } from '@apollo/client';
import { mergeChange } from './cache';
import { CHANGES } from './operations';

const PAGE = 200;
/** Pages read over HTTP; anything left after them comes from the messageUpdated replay, which starts at the returned cursor. */
const MAX_PAGES = 10;

/**
 * Merges into the cache every message of my rooms that changed after `since`
 * (edits, deletions, reactions, and messages sent meanwhile), oldest change
 * first, page by page; returns the cursor to go on from. Without `since` there
 * is nothing to merge, and the cursor is "now".
 */
export async function catchUp(client: ApolloClient, since: string | null): Promise<string | null> {
  let cursor = since;
  for (let page = 0; page < MAX_PAGES; page++) {
    // Not cached as a query: its messages are merged one by one, each where it belongs.
    const { data } = await client.query({ query: CHANGES, variables: { since: cursor, limit: PAGE }, fetchPolicy: 'no-cache' });
    if (!data) break;
    for (const message of data.changes.messages) mergeChange(client.cache, message);
    cursor = data.changes.cursor;
    if (!data.changes.hasMore) break;
  }
  return cursor;
}
