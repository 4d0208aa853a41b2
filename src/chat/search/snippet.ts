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
 * costs its words plus its matches, not words times phrases. A long content is
 * read twice, and only the first time whole: a scan that keeps nothing finds
 * the first match, then only the excerpt around it is split into words and
 * marked, so a hit of 2,000 matching words costs the 120 its excerpt shows.
 */
import { PhraseAutomaton } from './phrase-automaton';

/** Kana, CJK ideographs and Hangul: one word per character, as the index has them (chat_search_text). */
export const UNSPACED = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]/u;

interface Token {
  start: number;
  end: number;
  word: string;
}

/** Runs of letters, digits and marks: the index's words, before unspaced characters are split off. */
const WORD_RUN = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * Calls `visit(word, start, end)` for each word of `text` from `from` on, as
 * the index sees them (lower-cased; unspaced characters one by one), until it
 * returns false. `from` must not fall inside a word.
 */
function eachWord(text: string, from: number, visit: (word: string, start: number, end: number) => boolean): void {
  // Most texts hold no unspaced character: then no word needs a test per character.
  const unspaced = UNSPACED.test(text);
  const runs = new RegExp(WORD_RUN.source, WORD_RUN.flags);
  runs.lastIndex = from;
  for (let m = runs.exec(text); m !== null; m = runs.exec(text)) {
    const part = m[0];
    if (!(unspaced && UNSPACED.test(part))) {
      if (!visit(part.toLowerCase(), m.index, m.index + part.length)) return;
      continue;
    }
    // A word with unspaced characters: each of them a word, the runs of other characters between them words too.
    let start = m.index;
    let run = '';
    for (const char of part) {
      if (UNSPACED.test(char)) {
        if (run && !visit(run.toLowerCase(), start - run.length, start)) return;
        run = '';
        if (!visit(char, start, start + char.length)) return;
      } else {
        run += char;
      }
      start += char.length;
    }
    if (run && !visit(run.toLowerCase(), start - run.length, start)) return;
  }
}

/** The words of a text as the index sees them, with where each stands. */
function tokens(text: string): Token[] {
  const found: Token[] = [];
  eachWord(text, 0, (word, start, end) => found.push({ start, end, word }) > 0);
  return found;
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
/** A character of a word run (WORD_RUN), to find where the word holding a position starts. */
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;

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
    if (content.length <= EXCERPT) return this.html(content, tokens(content), 0, content.length);
    // Where the excerpt goes: around the first match, found by a scan that keeps nothing per word.
    const first = this.firstMatch(content);
    let from = Math.max(0, first - Math.floor(EXCERPT / 3));
    let to = Math.min(content.length, from + EXCERPT);
    // No match starts before the first, so the words from the one holding `from` on mark the excerpt exactly.
    const cut = from;
    while (from > 0 && WORD_CHAR.test(content[from - 1]) && WORD_CHAR.test(content[from])) from--;
    const words: Token[] = [];
    let after = 0;
    eachWord(content, from, (word, start, end) => {
      words.push({ start, end, word });
      // A match that starts inside the excerpt is marked up to its edge: read as far as the longest phrase reaches.
      if (start >= to) after++;
      return after < this.automaton.longestPhrase;
    });
    from = words.find((t) => t.end > cut)?.start ?? from;
    to = findLast(words, (t) => t.start < to)?.end ?? to;
    return this.html(content, words, from, to);
  }

  /** Where the first match starts in `content` (0 when nothing matches), reading each word once and keeping none. */
  private firstMatch(content: string): number {
    const longest = this.automaton.longestPhrase;
    if (longest === 0) return 0;
    // The starts of the last `longest` words: a match ending here began among them.
    const starts = new Int32Array(longest);
    let found = 0;
    let state = 0;
    let i = 0;
    eachWord(content, 0, (word, start) => {
      starts[i % longest] = start;
      state = this.automaton.step(state, word);
      const length = this.automaton.lengthAt(state);
      if (length > 0) {
        found = starts[(i - length + 1) % longest];
        return false;
      }
      i++;
      return true;
    });
    return found;
  }

  /** The excerpt [from, to) of `content`, HTML-escaped, with the matches among `words` (which cover it) in <mark>. */
  private html(content: string, words: Token[], from: number, to: number): string {
    const merged = markedRanges(words, this.automaton);
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
