import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError, roomNotFound } from '../errors';
import type { Message } from '../messages/message.entity';
import type { UserView } from '../users/user.entity';
import { requireIntInRange, requireLength, requireNoNul, requireNotBlank, requireUuid } from '../validation';
import { QuerySnippets, UNSPACED } from './snippet';

export const SEARCH_QUERY_LENGTH = { min: 1, max: 200 };
export const SEARCH_LIMIT = { min: 1, max: 100 };

/** Separates characters of scripts written without spaces, as the index does (chat_search_text). */
const SPLIT = '\uE002';
const PRIVATE_MARKS = /\uE002/g;

/**
 * A web-search query as the index sees text: each run of characters of a
 * script written without spaces becomes a phrase of single characters (in
 * quotes unless it already is in a quoted phrase), so 東京 finds 東京タワー
 * (in that order, adjacent) and -東京 excludes it; words of other scripts are
 * left to websearch_to_tsquery (quotes, -exclusions, or).
 */
export function webSearchQuery(query: string): string {
  let out = '';
  let quoted = false;
  let run = '';
  const flush = () => {
    if (run === '') return;
    const spaced = [...run].map((c) => `${SPLIT}${c}${SPLIT}`).join('');
    out += quoted ? spaced : `"${spaced}"`;
    run = '';
  };
  for (const c of query.replace(PRIVATE_MARKS, '')) {
    if (UNSPACED.test(c)) {
      run += c;
      continue;
    }
    flush();
    if (c === '"') quoted = !quoted;
    out += c;
  }
  flush();
  return out;
}

export interface SearchHit {
  message: Message;
  snippet: string;
}

export interface SearchResult {
  hits: SearchHit[];
  /** The hits' senders, read with them (the caller primes its user look-ups). */
  senders: UserView[];
}

/** Full-text search over the messages of the rooms the caller may see. */
export class SearchService {
  constructor(private readonly repos: ChatRepositories) {}

  async searchMessages(actor: Actor, query: string, roomId: string | null, limit: number, before: string | null): Promise<SearchResult> {
    requireNoNul('query', requireNotBlank('query', requireLength('query', query, SEARCH_QUERY_LENGTH.min, SEARCH_QUERY_LENGTH.max)));
    requireIntInRange('limit', limit, SEARCH_LIMIT.min, SEARCH_LIMIT.max);
    const room = roomId === null ? null : requireUuid('roomId', roomId);
    const beforeId = before === null ? null : requireUuid('before', before);
    const page = await this.repos.search.search(actor.id, actor.companyId, webSearchQuery(query), room, limit, beforeId);
    if (!page.visible) throw roomNotFound();
    if (!page.cursorFound) throw new BadInputError(`before must name a message of a room you can search, got "${before}"`);
    // The query's phrases are read once for the page, not once per hit.
    const snippets = new QuerySnippets(query);
    return { hits: page.hits.map((message) => ({ message, snippet: snippets.of(message.content ?? '') })), senders: page.senders };
  }
}
