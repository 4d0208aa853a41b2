/**
 * Search snippets: an excerpt of a message's content around what the query
 * matched, HTML-escaped, each match in <mark>. Built here rather than with
 * ts_headline, which drops anything that looks like a tag from the excerpt.
 * Matching follows the index: words compared lower-cased, characters of
 * scripts written without spaces one by one, quoted phrases and runs of such
 * characters only where their words stand in that order.
 *
 * The work is bounded whatever the query and the content: the query's phrases
 * are read once per request (QuerySnippets), and each content is read once,
 * its words run through an automaton of all the phrases at once, so a hit
 * costs its words plus its matches, not words times phrases.
 */
import { PhraseAutomaton } from './phrase-automaton';

/** Kana, CJK ideographs and Hangul: one word per character, as the index has them (chat_search_text). */
export const UNSPACED = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]/u;
/** Splits a text into separators (even places) and words (odd places): one call, no match object per word. */
const WORDS = /([\p{L}\p{N}\p{M}]+)/u;

interface Token {
  start: number;
  end: number;
  word: string;
}

/** The words of a text as the index sees them, with where each stands. */
function tokens(text: string): Token[] {
  const found: Token[] = [];
  // Most texts hold no unspaced character: then no word needs a test per character.
  const unspaced = UNSPACED.test(text);
  const parts = text.split(WORDS);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (i % 2 === 1) {
      if (unspaced && UNSPACED.test(part)) splitUnspaced(part, at, found);
      else found.push({ start: at, end: at + part.length, word: part.toLowerCase() });
    }
    at += part.length;
  }
  return found;
}

/** A word with unspaced characters: each of them a word, the runs of other characters between them words too. */
function splitUnspaced(text: string, offset: number, found: Token[]): void {
  let start = offset;
  let run = '';
  for (const char of text) {
    if (UNSPACED.test(char)) {
      if (run) found.push({ start: start - run.length, end: start, word: run.toLowerCase() });
      run = '';
      found.push({ start, end: start + char.length, word: char });
    } else {
      run += char;
    }
    start += char.length;
  }
  if (run) found.push({ start: start - run.length, end: start, word: run.toLowerCase() });
}

/** The phrases a web-search query looks for (quoted phrases, runs of unspaced characters, single words), not its -exclusions or `or`. */
export function wantedPhrases(query: string): string[][] {
  const phrases: string[][] = [];
  const parts = query.match(/-?"[^"]*"?|\S+/g) ?? [];
  for (const part of parts) {
    if (part.startsWith('-') || part.toLowerCase() === 'or') continue;
    const words = tokens(part.replace(/"/g, ' ')).map((t) => t.word);
    if (words.length === 0) continue;
    if (part.includes('"')) phrases.push(words);
    else {
      // Outside quotes, words stand alone; a run of unspaced characters is one phrase.
      let run: string[] = [];
      for (const t of tokens(part)) {
        if (UNSPACED.test(t.word)) run.push(t.word);
        else {
          if (run.length) phrases.push(run);
          run = [];
          phrases.push([t.word]);
        }
      }
      if (run.length) phrases.push(run);
    }
  }
  return phrases;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** At most this many characters of content around the first match, cut at word boundaries. */
const EXCERPT = 240;

/**
 * The character ranges to mark: every match of a phrase, where matches that
 * overlap, or touch (unspaced characters), read as one. Over word positions:
 * a word is marked when a match covers it, and the gap after it when a match
 * spans that gap; two differences arrays, so each match costs O(1).
 */
function markedRanges(words: Token[], automaton: PhraseAutomaton): [number, number][] {
  const n = words.length;
  const cover = new Int32Array(n + 1);
  const span = new Int32Array(n + 1);
  automaton.scan(words.map((t) => t.word), (first, last) => {
    cover[first] += 1;
    cover[last + 1] -= 1;
    span[first] += 1;
    span[last] -= 1;
  });
  const ranges: [number, number][] = [];
  let covered = 0;
  let spanned = 0;
  let open: [number, number] | null = null;
  for (let i = 0; i < n; i++) {
    covered += cover[i];
    if (covered > 0) {
      if (open === null) ranges.push((open = [words[i].start, words[i].end]));
      else open[1] = words[i].end;
    }
    // Still inside a range at the next word: a match spans the gap, or the next marked word touches this one.
    const next = i + 1 < n ? words[i + 1] : null;
    const touches = next !== null && covered > 0 && covered + cover[i + 1] > 0 && next.start <= words[i].end;
    spanned += span[i];
    if (open !== null && !(spanned > 0 || touches)) open = null;
  }
  return ranges;
}

/**
 * Snippets for the hits of one query: its phrases parsed once, then
 * `of(content)` per hit, O(words + matches) each.
 */
export class QuerySnippets {
  private readonly automaton: PhraseAutomaton;

  constructor(query: string) {
    this.automaton = new PhraseAutomaton(wantedPhrases(query));
  }

  of(content: string): string {
    const words = tokens(content);
    const merged = markedRanges(words, this.automaton);
    let from = 0;
    let to = content.length;
    if (content.length > EXCERPT) {
      const first = merged[0]?.[0] ?? 0;
      from = Math.max(0, first - Math.floor(EXCERPT / 3));
      to = Math.min(content.length, from + EXCERPT);
      from = words.find((t) => t.end > from)?.start ?? from;
      to = findLast(words, (t) => t.start < to)?.end ?? to;
    }
    let html = from > 0 ? '… ' : '';
    let at = from;
    for (const [start, end] of merged) {
      if (end <= from || start >= to) continue;
      html += `${escapeHtml(content.slice(at, Math.max(at, start)))}<mark>${escapeHtml(content.slice(Math.max(at, start), Math.min(end, to)))}</mark>`;
      at = Math.min(end, to);
    }
    html += escapeHtml(content.slice(at, to));
    return to < content.length ? `${html} …` : html;
  }
}

function findLast<T>(items: T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i])) return items[i];
  return undefined;
}

/** One snippet (parses the query: for many hits of one query, use QuerySnippets). */
export function snippetHtml(content: string, query: string): string {
  return new QuerySnippets(query).of(content);
}
